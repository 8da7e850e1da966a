"""Build container images offline for the tests: `docker save` tarballs (the legacy format or the OCI layout that
Docker >= 25 writes) holding Debian's static busybox, one of dynamically linked host programs and their libraries,
and a malicious image for the extractor's safety tests.

Install busybox with `scripts/install-system-deps.sh` (Debian package busybox-static)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import re
import shutil
import struct
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

REPO_TAG = "scar-test/busybox:latest"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
APPLETS = ("sh", "ash", "cat", "echo", "ls", "wc", "sleep", "env", "mkdir", "cp", "mv", "rm", "basename", "dirname",
           "touch", "id", "grep", "sed", "head", "tail", "true", "false", "test", "[", "printf", "pwd", "stat",
           "readlink", "ln", "chmod", "hostname", "ps", "kill", "uname", "date", "sort", "tr", "cut", "find", "xargs",
           "awk", "tee", "expr", "seq", "sha256sum", "md5sum", "whoami", "nproc", "mount", "dd")
_MTIME = 1_700_000_000
_ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
           "s390x": "s390x", "riscv64": "riscv64"}
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def static_busybox() -> Path | None:
    """The host's statically linked busybox (Debian package busybox-static), or None."""
    for candidate in (shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"):
        if candidate and Path(candidate).is_file() and _is_static_elf(Path(candidate)):
            return Path(candidate).resolve()
    return None


def _is_static_elf(path: Path) -> bool:
    """True for an ELF executable without a program interpreter (PT_INTERP)."""
    with path.open("rb") as stream:
        head = stream.read(64)
        if head[:4] != b"\x7fELF":
            return False
        order = "<" if head[5] == 1 else ">"
        if head[4] == 2:
            phoff, = struct.unpack_from(order + "Q", head, 0x20)
            phentsize, phnum = struct.unpack_from(order + "HH", head, 0x36)
        else:
            phoff, = struct.unpack_from(order + "I", head, 0x1C)
            phentsize, phnum = struct.unpack_from(order + "HH", head, 0x2A)
        stream.seek(phoff)
        table = stream.read(phentsize * phnum)
    return all(struct.unpack_from(order + "I", table, i * phentsize)[0] != 3 for i in range(phnum))


def host_architecture() -> str:
    machine = platform.machine().lower()
    return _ARCHES.get(machine, machine)


@dataclass
class LayerBuilder:
    """The entries of one layer tar, in the order they are added."""

    entries: list[tuple[tarfile.TarInfo, bytes | None]] = field(default_factory=list)

    def _add(self, name: str, kind: bytes, mode: int, data: bytes | None = None, link: str = "",
             uid: int = 0, gid: int = 0, pax: dict[str, str] | None = None) -> LayerBuilder:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.linkname, info.uid, info.gid, info.mtime = kind, mode, link, uid, gid, _MTIME
        info.pax_headers = dict(pax or {})
        info.size = len(data) if data is not None else 0
        self.entries.append((info, data))
        return self

    def dir(self, name: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> LayerBuilder:
        return self._add(name, tarfile.DIRTYPE, mode, uid=uid, gid=gid)

    def file(self, name: str, data: bytes | str, mode: int = 0o644, uid: int = 0, gid: int = 0,
             xattrs: dict[str, bytes] | None = None) -> LayerBuilder:
        """`xattrs` become SCHILY.xattr.* PAX headers, as GNU tar and Docker write extended attributes."""
        content = data.encode() if isinstance(data, str) else data
        pax = {f"SCHILY.xattr.{key}": value.decode("utf-8", "surrogateescape") for key, value in (xattrs or {}).items()}
        return self._add(name, tarfile.REGTYPE, mode, content, uid=uid, gid=gid, pax=pax)

    def symlink(self, name: str, target: str) -> LayerBuilder:
        return self._add(name, tarfile.SYMTYPE, 0o777, link=target)

    def hardlink(self, name: str, target: str) -> LayerBuilder:
        return self._add(name, tarfile.LNKTYPE, 0o644, link=target)

    def device(self, name: str) -> LayerBuilder:
        info = self._add(name, tarfile.CHRTYPE, 0o666).entries[-1][0]
        info.devmajor, info.devminor = 1, 3
        return self

    def block_device(self, name: str) -> LayerBuilder:
        info = self._add(name, tarfile.BLKTYPE, 0o660).entries[-1][0]
        info.devmajor, info.devminor = 8, 0
        return self

    def fifo(self, name: str) -> LayerBuilder:
        return self._add(name, tarfile.FIFOTYPE, 0o644)

    def whiteout(self, name: str) -> LayerBuilder:
        parent, _, base = name.rpartition("/")
        return self.file(f"{parent}/.wh.{base}" if parent else f".wh.{base}", b"", 0o600)

    def opaque(self, folder: str) -> LayerBuilder:
        return self.file(f"{folder.rstrip('/')}/.wh..wh..opq", b"", 0o600)

    def tar(self) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for info, data in self.entries:
                archive.addfile(info, io.BytesIO(data) if data is not None else None)
        return buffer.getvalue()


def busybox_layers(busybox: bytes, extra_files: dict[str, bytes | str] | None = None,
                   type_changes: bool = True) -> list[LayerBuilder]:
    """Layer 1: busybox, its applets, /etc, modes to keep; layer 2: whiteouts, an opaque folder, type changes and
    the extra files. Without `type_changes` layer 2 replaces no folder by a file nor a file by a folder (udocker
    extracts layers with GNU tar, which cannot)."""
    base = LayerBuilder()
    base.dir("bin").file("bin/busybox", busybox, 0o755).hardlink("bin/bb", "bin/busybox")
    for applet in APPLETS:
        base.symlink(f"bin/{applet}", "busybox")
    base.symlink("sbin", "bin").dir("usr").symlink("usr/bin", "/bin").dir("usr/local").dir("usr/local/bin")
    base.file("usr/local/bin/setuid-tool", "#!/bin/sh\necho setuid\n", 0o4755)
    base.file("usr/local/bin/setgid-tool", "#!/bin/sh\necho setgid\n", 0o2755, gid=42)
    base.dir("etc").file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
    base.file("etc/group", "root:x:0:\nshadow:x:42:\nmail:x:8:\nnogroup:x:65534:\n").file("etc/hostname", "busybox\n")
    base.dir("root", 0o700).dir("tmp", 0o1777).dir("var").dir("var/mail", 0o2775, gid=8)
    base.dir("opt").file("opt/gone.txt", "gone\n").file("opt/overwritten.txt", "layer 1\n")
    base.dir("opt/old").file("opt/old/lower.txt", "lower\n").dir("opt/old/sub").file("opt/old/sub/deep.txt", "deep\n")
    base.dir("opt/dir-then-file").file("opt/dir-then-file/child.txt", "child\n").file("opt/file-then-dir", "file\n")
    top = LayerBuilder()
    top.file("opt/old/new.txt", "new\n")  # before the opaque marker: the marker must not remove it
    top.opaque("opt/old").whiteout("opt/gone.txt").file("opt/overwritten.txt", "layer 2\n")
    if type_changes:
        top.file("opt/dir-then-file", "now a file\n").dir("opt/file-then-dir")
        top.file("opt/file-then-dir/in.txt", "in\n")
    _add_files(top, extra_files)
    return [base, top]


def _add_files(layer: LayerBuilder, files: dict[str, bytes | str] | None) -> None:
    """Add `files` (absolute or relative names); those starting with "#!" are executable."""
    for name, content in (files or {}).items():
        data = content.encode() if isinstance(content, str) else content
        layer.file(name.lstrip("/"), data, 0o755 if data.startswith(b"#!") else 0o644)


def build_busybox_image(path: Path, fmt: str = "docker", gzip_layers: bool = False,
                        extra_files: dict[str, bytes | str] | None = None, env: dict[str, str] | None = None,
                        cmd: list[str] | None = None, busybox: bytes | None = None, workdir: str = "/",
                        type_changes: bool = True, repo_tag: str = REPO_TAG) -> Path:
    """Write a two-layer busybox image as `docker save` would (fmt "docker": legacy, "oci": Docker >= 25).

    `busybox` defaults to the host's static busybox (tests that never run it may pass any bytes)."""
    if busybox is None:
        binary = static_busybox()
        if binary is None:
            raise FileNotFoundError("no static busybox here: apt-get install busybox-static")
        busybox = binary.read_bytes()
    layers = [layer.tar() for layer in busybox_layers(busybox, extra_files, type_changes)]
    config = image_config(layers, env={"PATH": DEFAULT_PATH, **(env or {})}, cmd=cmd or ["/bin/sh"], workdir=workdir)
    return write_image(path, layers, config, fmt=fmt, gzip_layers=gzip_layers, repo_tag=repo_tag)


#: The host programs of the dynamically linked test image (`sh` is dash on Debian).
DYNAMIC_PROGRAMS = ("sh", "cat", "env", "grep", "sleep", "ls", "tr", "id")
DYNAMIC_REPO_TAG = "scar-test/dynamic:latest"


def host_program_files(programs: tuple[str, ...] = DYNAMIC_PROGRAMS) -> dict[str, Path]:
    """Image paths (relative) → host files: each program in bin/, and each library `ldd` names for it at the
    path `ldd` gives (the program interpreter included), so that the programs run in a rootfs made of them.

    Raises FileNotFoundError for a program not on PATH, or when `ldd` is missing or fails."""
    ldd = shutil.which("ldd")
    if ldd is None:
        raise FileNotFoundError("ldd is missing (Debian package libc-bin)")
    files: dict[str, Path] = {}
    for program in programs:
        found = shutil.which(program)
        if found is None:
            raise FileNotFoundError(f"{program} is not on PATH")
        files[f"bin/{program}"] = Path(found).resolve()
        listing = subprocess.run([ldd, found], capture_output=True, text=True, check=False)
        if listing.returncode != 0:
            raise FileNotFoundError(f"ldd {found} failed: {listing.stderr.strip() or listing.stdout.strip()}")
        for library in re.findall(r"(?:=> |^\s*)(/\S+)", listing.stdout, re.MULTILINE):
            files[library.lstrip("/")] = Path(library).resolve()
    return files


def build_dynamic_image(path: Path, programs: tuple[str, ...] = DYNAMIC_PROGRAMS,
                        extra_files: dict[str, bytes | str] | None = None, env: dict[str, str] | None = None,
                        cmd: list[str] | None = None, repo_tag: str = DYNAMIC_REPO_TAG) -> Path:
    """A one-layer `docker save` image of dynamically linked host programs and the libraries they load (a few
    MB, built offline in milliseconds): for what only works with a program interpreter, such as udocker's
    Fakechroot modes (LD_PRELOAD has nothing to hook in a static busybox)."""
    layer = LayerBuilder()
    made: set[str] = set()
    for name, source in sorted(host_program_files(programs).items()):
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in made:
                layer.dir(folder)
                made.add(folder)
        layer.file(name, source.read_bytes(), 0o755)
    layer.dir("tmp", 0o1777).dir("etc").file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
    _add_files(layer, extra_files)
    layers = [layer.tar()]
    config = image_config(layers, env={"PATH": "/bin", **(env or {})}, cmd=cmd or ["/bin/sh"])
    return write_image(path, layers, config, repo_tag=repo_tag)


def image_config(layers: list[bytes], env: dict[str, str], cmd: list[str], workdir: str = "/",
                 entrypoint: list[str] | None = None, user: str = "", diff_ids: list[str] | None = None) -> dict:
    """The configuration of an image made of the plain layer tars `layers`; `diff_ids` instead of `layers` for
    layers too big to hold in memory (their sha256 digests of the uncompressed tar, "sha256:<hex>")."""
    if diff_ids is None:
        diff_ids = ["sha256:" + _sha(layer) for layer in layers]
    return {
        "architecture": host_architecture(), "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": {"Env": [f"{k}={v}" for k, v in env.items()], "Cmd": cmd, "Entrypoint": entrypoint,
                   "WorkingDir": workdir, "User": user},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "devtools.images"} for _ in diff_ids],
    }


def write_image(path: Path, layers: list[bytes], config: dict, fmt: str = "docker", gzip_layers: bool = False,
                repo_tag: str = REPO_TAG) -> Path:
    """Write plain layer tars and a config as a `docker save` tarball; gzip_layers compresses the layer blobs."""
    blobs = [gzip.compress(layer, compresslevel=1, mtime=0) if gzip_layers else layer for layer in layers]
    config_bytes = json.dumps(config, sort_keys=True).encode()
    if fmt == "docker":
        files = _docker_files(blobs, config_bytes, repo_tag)
    elif fmt == "oci":
        files = _oci_files(blobs, config_bytes, repo_tag, gzip_layers)
    else:
        raise ValueError(f"unknown image format {fmt!r} (docker or oci)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, _MTIME
            archive.addfile(info, io.BytesIO(data))
    return path


def _docker_files(blobs: list[bytes], config: bytes, repo_tag: str) -> dict[str, bytes]:
    """The legacy layout: <config>.json, <id>/{VERSION,json,layer.tar}, manifest.json, repositories."""
    files: dict[str, bytes] = {}
    config_name = _sha(config) + ".json"
    parent = ""
    names = []
    for blob in blobs:
        layer_id = _sha((parent + _sha(blob)).encode())
        files[f"{layer_id}/VERSION"] = b"1.0"
        files[f"{layer_id}/json"] = json.dumps({"id": layer_id, **({"parent": parent} if parent else {})}).encode()
        files[f"{layer_id}/layer.tar"] = blob
        names.append(f"{layer_id}/layer.tar")
        parent = layer_id
    files[config_name] = config
    files["manifest.json"] = json.dumps([{"Config": config_name, "RepoTags": [repo_tag], "Layers": names}]).encode()
    repo, _, tag = repo_tag.rpartition(":")
    files["repositories"] = json.dumps({repo: {tag: parent}}).encode()
    return files


def _oci_files(blobs: list[bytes], config: bytes, repo_tag: str, gzip_layers: bool) -> dict[str, bytes]:
    """Docker >= 25: oci-layout, index.json, blobs/sha256/*, plus the legacy manifest.json pointing at the blobs."""
    layer_type = _OCI_LAYER + ("+gzip" if gzip_layers else "")
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": _OCI_MANIFEST,
        "config": {"mediaType": _OCI_CONFIG, "digest": "sha256:" + _sha(config), "size": len(config)},
        "layers": [{"mediaType": layer_type, "digest": "sha256:" + _sha(b), "size": len(b)} for b in blobs],
    }).encode()
    repo, _, tag = repo_tag.rpartition(":")
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{
        "mediaType": _OCI_MANIFEST, "digest": "sha256:" + _sha(manifest), "size": len(manifest),
        "annotations": {"io.containerd.image.name": f"docker.io/{repo_tag}", "org.opencontainers.image.ref.name": tag},
    }]}
    files = {"blobs/sha256/" + _sha(blob): blob for blob in [*blobs, config, manifest]}
    files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    files["index.json"] = json.dumps(index).encode()
    files["manifest.json"] = json.dumps([{"Config": "blobs/sha256/" + _sha(config), "RepoTags": [repo_tag],
                                          "Layers": ["blobs/sha256/" + _sha(b) for b in blobs]}]).encode()
    files["repositories"] = json.dumps({repo: {tag: _sha(manifest)}}).encode()
    return files


def malicious_layers(outside: Path) -> list[LayerBuilder]:
    """Layers that try to write, link or delete outside the root filesystem, aiming at the host folder `outside`
    (absolute; it should hold victim.txt, which must survive untouched). Each attack is described beside it."""
    out = str(outside).strip("/")
    climb = "../" * 12
    first = LayerBuilder()
    first.file(f"{climb}{out}/dotdot.txt", "pwned\n")  # climbs above the root: skipped
    first.file(f"/{out}/absolute.txt", "inside\n")  # absolute name: lands in ROOT/<outside>/
    first.symlink("escape", f"/{out}").file("escape/through-absolute-link.txt", "inside\n")
    first.symlink("up", climb.rstrip("/")).file(f"up/{out}/through-relative-link.txt", "inside\n")
    first.hardlink("hardlink-climb", f"{climb}{out}/victim.txt")  # skipped: climbs above the root
    first.hardlink("hardlink-absolute", f"/{out}/victim.txt")  # means ROOT/<outside>/victim.txt: missing, skipped
    first.hardlink("escape/hardlink-through-link", "escape/victim.txt")  # the same, through the symlink
    first.file("inside.txt", "original\n").hardlink("linked.txt", "inside.txt")
    first.file("linked.txt", "replaced\n")  # must replace the link, not write through it into inside.txt
    first.symlink("loop-a", "loop-b").symlink("loop-b", "loop-a").file("loop-a/x.txt", "loop\n")  # skipped
    first.file("plain.txt", "plain\n").file("plain.txt/child.txt", "child\n")  # parent is a file: skipped
    first.device("dev-null")  # device nodes are skipped
    first.dir("etc").file("etc/keep.txt", "keep\n")
    second = LayerBuilder()
    second.whiteout("escape/victim.txt")  # would delete the host victim if the link were followed on the host
    second.file(f"{climb}.wh.victim.txt", "")  # climbs: skipped
    second.opaque(f"up/{out}")  # empties ROOT/<outside>, never the host folder
    second.file("etc/.wh...", "").file("etc/.wh..", "")  # whiteouts of .. and . : refused
    second.symlink("escape2", "/").file(f"escape2/{out}/second-layer.txt", "inside\n")
    return [first, second]


def build_malicious_image(path: Path, outside: Path, fmt: str = "docker") -> Path:
    """A docker-save tarball whose layers attack the host folder `outside` (see malicious_layers)."""
    layers = [layer.tar() for layer in malicious_layers(outside)]
    return write_image(path, layers, image_config(layers, env={"PATH": DEFAULT_PATH}, cmd=["/bin/sh"]), fmt=fmt,
                       repo_tag="scar-test/malicious:latest")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_udocker_engine() -> bytes:
    """A small, reproducible gzip tarball standing in for udocker's engine (the real one is downloaded
    from the internet): enough for the tests that package, cache or verify it."""
    import gzip
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = b"1.2.11\n"
        info = tarfile.TarInfo("udocker_dir/lib/VERSION")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), mtime=0)
