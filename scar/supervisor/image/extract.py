"""Read container images and extract their root filesystem safely.

Inputs: a `docker save` tarball, in the legacy format (`manifest.json` with `Config` and `Layers`) or the OCI
layout that Docker >= 25 writes (`oci-layout`, `index.json`, `blobs/`); plain, gzip, bzip2 or xz compressed; or an
OCI layout (or unpacked docker-save) folder. Layers may be plain, gzip, bzip2 or xz tars (zstd needs Python 3.14).

Extraction never writes outside the root filesystem: names that climb above the root are skipped, absolute names are
taken relative to it, symbolic links in parent components are followed as `chroot` would (an absolute target starts
again at the root, `..` stops there), whiteouts and hardlinks resolve the same way. Entries that cannot be placed
safely are skipped with a warning on this module's logger. Standard library only (see ARCHITECTURE.md, principle 8).
"""

from __future__ import annotations

import bz2
import contextlib
import errno
import fcntl
import gzip
import hashlib
import json
import logging
import lzma
import os
import platform
import re
import shutil
import stat
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Protocol

log = logging.getLogger(__name__)

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_SYMLINK_HOPS = 40
PARTIAL_SUFFIX = ".partial"
_LOCK_NAME = ".lock"
_COPY_CHUNK = 1 << 20
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_OPENERS: dict[str, Any] = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
_DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, lzma.LZMAError)
try:  # Python >= 3.14
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:
    pass
else:
    _OPENERS["zstd"] = zstd.open
    _DECOMPRESSION_ERRORS += (zstd.ZstdError,)
_HAS_ZSTD = "zstd" in _OPENERS
_INDEX_TYPES = {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
_DIGEST = re.compile(r"^(sha256|sha384|sha512):([0-9a-f]{32,128})$")
_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
           "armv6l": "arm", "i386": "386", "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x",
           "riscv64": "riscv64"}
#: Folders the sandboxes mount over; Docker creates them (and WorkingDir) when it creates a container, so do we.
MOUNTPOINTS = (("proc", 0o555), ("dev", 0o755), ("sys", 0o555), ("tmp", 0o1777))


class ImageError(Exception):
    """The image cannot be read, is not supported, or cannot be extracted; the message says why."""


@dataclass(frozen=True)
class ImageConfig:
    """The parts of the image configuration that decide how a container runs."""

    env: dict[str, str]
    entrypoint: list[str]
    cmd: list[str]
    workdir: str
    user: str


@dataclass(frozen=True)
class Layer:
    path: str  # inside the image archive or folder
    media_type: str  # empty for the legacy docker-save format


@dataclass(frozen=True)
class ImageInfo:
    digest: str  # "sha256:<hex>" of the config blob: identifies the image (its layers included)
    config: ImageConfig
    layers: tuple[Layer, ...]  # bottom first
    format: str  # "docker" (legacy manifest.json) or "oci" (index.json)
    architecture: str
    os: str


@dataclass(frozen=True)
class ExtractedImage:
    rootfs: Path  # cache_root/<hex of digest>/rootfs
    config: ImageConfig
    digest: str


def load_image(path: Path) -> ImageInfo:
    """Read the manifest and configuration of the image at `path` (tarball or folder)."""
    with _open_source(Path(path), scratch=None) as source:
        return _read_info(source)


def extract_image(path: Path, cache_root: Path) -> ExtractedImage:
    """Extract the image into `cache_root/<hex of config digest>/rootfs` unless it is there already.

    Extraction happens in a temporary sibling folder renamed into place once complete, so a crash never leaves a
    partial root filesystem that a later call would reuse, and concurrent callers do not disturb each other (the
    first rename wins; the others discard their copy). Leftovers of crashed extractions are removed.
    """
    cache_root = Path(os.path.abspath(cache_root))
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImageError(f"cannot create the image cache {cache_root}: {error.strerror}") from error
    with _open_source(Path(path), scratch=cache_root) as source:
        info = _read_info(source)
        final = cache_root / info.digest.split(":", 1)[1]
        if not (final / "rootfs").is_dir():
            _remove_stale_partials(cache_root)
            _extract_into(source, info, final)
    return ExtractedImage(final / "rootfs", info.config, info.digest)


# --- the image source: a tarball or a folder ----------------------------------------------------------------------


class _Source(Protocol):
    label: str

    def exists(self, name: str) -> bool: ...

    def open(self, name: str) -> IO[bytes]: ...


class _TarSource:
    def __init__(self, archive: tarfile.TarFile, label: str) -> None:
        self.label = label
        self._archive = archive
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in archive.getmembers():
            if member.isfile() or member.issym() or member.islnk():
                with contextlib.suppress(ImageError):  # a name outside the archive root is never asked for
                    self._members[_normalize(member.name)] = member

    def exists(self, name: str) -> bool:
        return _normalize(name) in self._members

    def open(self, name: str) -> IO[bytes]:
        member = self._member(name)
        stream = self._archive.extractfile(member)
        if stream is None:
            raise ImageError(f"{self.label}: {name} is not a file")
        return stream

    def _member(self, name: str) -> tarfile.TarInfo:
        for _ in range(MAX_SYMLINK_HOPS):
            member = self._members.get(_normalize(name))
            if member is None:
                raise ImageError(f"{self.label}: {name} is missing from the image")
            if member.isfile():
                return member
            base = os.path.dirname(member.name) if member.issym() else ""
            name = os.path.join(base, member.linkname)
        raise ImageError(f"{self.label}: {name}: too many levels of links")


class _DirSource:
    def __init__(self, root: Path) -> None:
        self.label = str(root)
        self._root = root

    def exists(self, name: str) -> bool:
        return (self._root / _normalize(name)).is_file()

    def open(self, name: str) -> IO[bytes]:
        try:
            return open(self._root / _normalize(name), "rb")
        except OSError as error:
            raise ImageError(f"{self.label}: cannot read {name}: {error.strerror}") from error


def _normalize(name: str) -> str:
    """A path inside the image archive, refusing anything that would leave it."""
    clean = os.path.normpath(name.lstrip("/")) if name else ""
    if clean in ("", ".") or clean == ".." or clean.startswith("../"):
        raise ImageError(f"invalid path in the image: {name!r}")
    return clean


@contextlib.contextmanager
def _open_source(path: Path, scratch: Path | None) -> Iterator[_Source]:
    if path.is_dir():
        yield _DirSource(path)
        return
    with contextlib.ExitStack() as stack:
        try:
            stream: IO[bytes] = stack.enter_context(open(path, "rb"))
        except OSError as error:
            raise ImageError(f"cannot read the image {path}: {error.strerror}") from error
        kind = _compression(stream.read(8))
        stream.seek(0)
        if kind is not None:
            stream = stack.enter_context(_decompressed(stream, kind, path, scratch))
        try:
            archive = stack.enter_context(tarfile.open(fileobj=stream, mode="r:"))
            source = _TarSource(archive, str(path))
        except tarfile.TarError as error:
            raise ImageError(f"{path} is not an image tarball (docker save or OCI layout): {error}") from error
        yield source


def _compression(head: bytes) -> str | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return None


@contextlib.contextmanager
def _decompressed(stream: IO[bytes], kind: str, path: Path | str, scratch: Path | str | None) -> Iterator[IO[bytes]]:
    """A seekable plain copy of a compressed tar in a temporary file: random access into a compressed stream rewinds
    and decompresses again and again."""
    if kind not in _OPENERS:
        raise ImageError(f"{path} is {kind}-compressed: decompress it first (or save it with gzip)")
    with tempfile.TemporaryFile(dir=scratch) as plain:
        try:
            with _OPENERS[kind](stream, "rb") as reader:
                shutil.copyfileobj(reader, plain, _COPY_CHUNK)
        except _DECOMPRESSION_ERRORS as error:
            raise ImageError(f"{path}: corrupt {kind} data: {error}") from error
        plain.seek(0)
        yield plain


# --- manifests and configuration ------------------------------------------------------------------------------------


def _read_info(source: _Source) -> ImageInfo:
    if source.exists("index.json"):
        return _read_oci(source)
    if source.exists("manifest.json"):
        return _read_docker(source)
    raise ImageError(f"{source.label}: neither manifest.json (docker save) nor index.json (OCI layout) found")


def _read_docker(source: _Source) -> ImageInfo:
    manifest = _json(source, "manifest.json")
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise ImageError(f"{source.label}: manifest.json lists no image")
    if len(manifest) > 1:
        log.warning("%s holds %d images; using the first one (%s)", source.label, len(manifest),
                    ", ".join(manifest[0].get("RepoTags") or []) or "untagged")
    entry = manifest[0]
    config, layers = entry.get("Config"), entry.get("Layers")
    if not isinstance(config, str) or not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
        raise ImageError(f"{source.label}: manifest.json has no valid Config and Layers")
    return _image_info(source, config, [Layer(name, "") for name in layers], "docker")


def _read_oci(source: _Source) -> ImageInfo:
    manifest = _pick_manifest(source, _json(source, "index.json"), depth=0)
    config = manifest.get("config")
    layers = manifest.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise ImageError(f"{source.label}: the image manifest has no config or layers")
    refs = [Layer(_blob(source, d), str(d.get("mediaType", ""))) for d in layers if isinstance(d, dict)]
    return _image_info(source, _blob(source, config), refs, "oci")


def _pick_manifest(source: _Source, index: Any, depth: int) -> dict[str, Any]:
    """Follow index.json (and nested indexes) to one image manifest, choosing the platform when several."""
    if depth > 4 or not isinstance(index, dict):
        raise ImageError(f"{source.label}: invalid or too deeply nested image index")
    entries = [d for d in index.get("manifests") or [] if isinstance(d, dict) and not _is_attestation(d)]
    present = [d for d in entries if source.exists(_blob(source, d))]
    if not present:
        raise ImageError(f"{source.label}: the image index lists no manifest that the image contains")
    chosen = _by_platform(source, present)
    document = _json(source, _blob(source, chosen))
    if not isinstance(document, dict):
        raise ImageError(f"{source.label}: invalid manifest {chosen.get('digest')}")
    if chosen.get("mediaType") in _INDEX_TYPES or document.get("mediaType") in _INDEX_TYPES or "manifests" in document:
        return _pick_manifest(source, document, depth + 1)
    return document


def _is_attestation(descriptor: dict[str, Any]) -> bool:
    annotations = descriptor.get("annotations") or {}
    platform_ = descriptor.get("platform") or {}
    return "vnd.docker.reference.type" in annotations or platform_.get("architecture") == "unknown"


def _by_platform(source: _Source, descriptors: list[dict[str, Any]]) -> dict[str, Any]:
    if len(descriptors) == 1:
        return descriptors[0]
    platforms = [d.get("platform") or {} for d in descriptors]
    host = _ARCHES.get(platform.machine().lower(), platform.machine().lower())
    for arch in (host, "amd64"):
        for descriptor, platform_ in zip(descriptors, platforms, strict=True):
            if platform_.get("os", "linux") == "linux" and platform_.get("architecture") == arch:
                return descriptor
    if not any(platforms):
        log.warning("%s holds %d images; using the first one", source.label, len(descriptors))
        return descriptors[0]
    found = ", ".join(f"{p.get('os', '?')}/{p.get('architecture', '?')}" for p in platforms)
    raise ImageError(f"{source.label}: no linux/{host} or linux/amd64 image (found {found})")


def _blob(source: _Source, descriptor: dict[str, Any]) -> str:
    digest = descriptor.get("digest")
    match = _DIGEST.match(digest) if isinstance(digest, str) else None
    if match is None:
        raise ImageError(f"{source.label}: invalid digest {digest!r}")
    return f"blobs/{match.group(1)}/{match.group(2)}"


def _image_info(source: _Source, config_path: str, layers: list[Layer], fmt: str) -> ImageInfo:
    with source.open(config_path) as stream:
        raw = stream.read()
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise ImageError(f"{source.label}: the image configuration is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise ImageError(f"{source.label}: the image configuration is not a JSON object")
    if document.get("os", "linux") != "linux":
        raise ImageError(f"{source.label}: a {document.get('os')} image cannot run here (linux only)")
    for layer in layers:
        _check_layer(source, layer)
    return ImageInfo("sha256:" + hashlib.sha256(raw).hexdigest(), _image_config(document.get("config") or {}),
                     tuple(layers), fmt, str(document.get("architecture", "")), str(document.get("os", "")))


def _check_layer(source: _Source, layer: Layer) -> None:
    if "zstd" in layer.media_type and not _HAS_ZSTD:
        raise ImageError(_zstd_message(source, layer.path))
    if not source.exists(layer.path):
        raise ImageError(f"{source.label}: layer {layer.path} is missing from the image")


def _zstd_message(source: _Source, name: str) -> str:
    return (f"{source.label}: layer {name} is zstd-compressed, which Python reads only from 3.14 on "
            f"(this is {sys.version_info.major}.{sys.version_info.minor}); rebuild or save the image with gzip layers")


def _image_config(config: dict[str, Any]) -> ImageConfig:
    env: dict[str, str] = {}
    for item in config.get("Env") or []:
        name, _, value = str(item).partition("=")
        env[name] = value
    return ImageConfig(env=env, entrypoint=_strings(config.get("Entrypoint")), cmd=_strings(config.get("Cmd")),
                       workdir=str(config.get("WorkingDir") or ""), user=str(config.get("User") or ""))


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def _json(source: _Source, name: str) -> Any:
    with source.open(name) as stream:
        data = stream.read()
    try:
        return json.loads(data)
    except ValueError as error:
        raise ImageError(f"{source.label}: {name} is not valid JSON: {error}") from error


# --- the cache -------------------------------------------------------------------------------------------------------


def _extract_into(source: _Source, info: ImageInfo, final: Path) -> None:
    try:
        partial = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=PARTIAL_SUFFIX, dir=final.parent))
    except OSError as error:
        raise ImageError(f"cannot write to the image cache {final.parent}: {error.strerror}") from error
    try:
        with _locked(partial):
            rootfs = partial / "rootfs"
            rootfs.mkdir()
            _Extractor(rootfs, scratch=partial).extract(source, info.layers, info.config.workdir)
            (partial / "config.json").write_text(json.dumps({"digest": info.digest, **asdict(info.config)}))
            (partial / _LOCK_NAME).unlink()
            os.chmod(partial, 0o755)
            _publish(partial, final)
    except OSError as error:
        raise ImageError(f"cannot extract {source.label} into {final.parent}: {error}") from error
    finally:
        if partial.exists():
            remove_tree(partial)


@contextlib.contextmanager
def _locked(partial: Path) -> Iterator[None]:
    """Hold a lock that tells other extractors this partial folder is alive; it appears already locked."""
    fd, name = tempfile.mkstemp(dir=partial)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(name, partial / _LOCK_NAME)
        yield
    finally:
        os.close(fd)


def _publish(partial: Path, final: Path) -> None:
    try:
        os.rename(partial, final)
    except OSError as error:
        if error.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not (final / "rootfs").is_dir():
            raise
        log.debug("%s was extracted concurrently; keeping that copy", final)


def _remove_stale_partials(cache_root: Path) -> None:
    """Remove partial folders whose extractor died (their lock is free)."""
    for entry in cache_root.iterdir():
        if not (entry.name.startswith(".") and entry.name.endswith(PARTIAL_SUFFIX)):
            continue
        try:
            fd = os.open(entry / _LOCK_NAME, os.O_RDONLY)
        except OSError:
            continue  # no lock (yet, or any more): leave it alone
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # alive
        else:
            log.info("removing %s, left by an interrupted extraction", entry)
            remove_tree(entry)
        finally:
            os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove a folder tree even where extracted modes deny writing (for non-root users); ignore what is gone."""
    if os.geteuid() != 0:
        with contextlib.suppress(OSError):
            os.chmod(path, stat.S_IRWXU)
        for folder, dirs, _ in os.walk(path):  # never follows symbolic links
            for name in dirs:
                child = os.path.join(folder, name)
                if not os.path.islink(child):  # chmod would follow it, maybe out of the tree
                    with contextlib.suppress(OSError):
                        os.chmod(child, stat.S_IRWXU)
    shutil.rmtree(path, ignore_errors=True)


# --- the extractor ---------------------------------------------------------------------------------------------------


class _Skip(Exception):
    """This entry cannot be placed safely."""


class _Extractor:
    """Applies layers, bottom first, to an empty root filesystem folder."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root = os.path.realpath(root)
        self.scratch = scratch  # for plain copies of compressed layers
        self.as_root = os.geteuid() == 0
        self.dirs: dict[str, tarfile.TarInfo] = {}  # host path -> header whose metadata is applied at the end

    def extract(self, source: _Source, layers: tuple[Layer, ...], workdir: str) -> None:
        for layer in layers:
            with source.open(layer.path) as stream:
                self._layer(source, layer.path, stream)
        self._finish_dirs()
        self._add_mountpoints(workdir)
        os.chmod(self.root, 0o755)

    def _layer(self, source: _Source, name: str, stream: IO[bytes]) -> None:
        kind = _compression(stream.read(8))
        stream.seek(0)
        if kind == "zstd" and not _HAS_ZSTD:
            raise ImageError(_zstd_message(source, name))
        with contextlib.ExitStack() as stack:
            if kind is not None:
                stream = stack.enter_context(_decompressed(stream, kind, f"{source.label}: layer {name}", self.scratch))
            if not stream.read(1):
                return  # an empty layer
            stream.seek(0)
            try:
                layer = stack.enter_context(tarfile.open(fileobj=stream, mode="r:"))
                members = layer.getmembers()
                self._whiteouts(members)  # they apply to lower layers only: before this layer's own entries
                for member in members:
                    if not os.path.basename(member.name).startswith(WHITEOUT):
                        self._entry(layer, member)
            except tarfile.TarError as error:
                raise ImageError(f"{source.label}: layer {name} is not a readable tar (plain, gzip, bzip2, xz"
                                 f"{', zstd' if _HAS_ZSTD else ''}): {error}") from error

    def _whiteouts(self, members: list[tarfile.TarInfo]) -> None:
        for member in members:
            if not os.path.basename(member.name).startswith(WHITEOUT):
                continue
            parts = _clean(member.name)
            try:
                folder = self._resolve(parts[:-1], create=False) if parts else None
            except _Skip as error:
                folder = None
                log.warning("skipped whiteout %r: %s", member.name, error)
            if parts is None:
                log.warning("skipped whiteout %r: it climbs above the root", member.name)
            if folder is None or not parts:
                continue
            if parts[-1] == OPAQUE:
                for name in os.listdir(folder):
                    self._remove(os.path.join(folder, name))
            elif not parts[-1].startswith(WHITEOUT * 2):  # other .wh..wh.* names are aufs bookkeeping
                victim = parts[-1][len(WHITEOUT):]
                if victim in ("", ".", ".."):
                    log.warning("skipped whiteout %r: invalid name", member.name)
                    continue
                self._remove(os.path.join(folder, victim))

    def _entry(self, layer: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = _clean(member.name)
        if parts is None:
            log.warning("skipped %r: it climbs above the root", member.name)
            return
        if not parts:
            return  # the root itself
        try:
            target = os.path.join(self._resolve(parts[:-1], create=True) or self.root, parts[-1])
            if member.isdir():
                self._dir(target, member)
            elif member.isreg():
                self._file(layer, target, member)
            elif member.issym():
                self._replace(target)
                os.symlink(member.linkname, target)
            elif member.islnk():
                self._hardlink(target, member)
                return  # shares the metadata of what it links to
            elif member.isfifo():
                self._replace(target)
                os.mkfifo(target)
            else:
                log.debug("skipped %r: device nodes are not extracted", member.name)
                return
            if not member.isdir():
                self._metadata(target, member)
        except _Skip as error:
            log.warning("skipped %r: %s", member.name, error)

    def _resolve(self, parts: list[str], create: bool) -> str | None:
        """The host path of folder `parts`, following symbolic links with chroot semantics; None when missing and
        not `create`. Every path it returns lies inside the root."""
        resolved: list[str] = []
        pending = list(reversed(parts))
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            current = os.path.join(self.root, *resolved, part)
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                if not create:
                    return None
                os.mkdir(current)
                os.chmod(current, 0o755)  # whatever the umask
                mode = stat.S_IFDIR
            if stat.S_ISLNK(mode):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise _Skip("too many levels of symbolic links")
                target = os.readlink(current)
                if target.startswith("/"):
                    resolved = []
                pending.extend(reversed(target.split("/")))
            elif stat.S_ISDIR(mode):
                resolved.append(part)
            else:
                raise _Skip(f"/{'/'.join([*resolved, part])} is not a directory")
        return os.path.join(self.root, *resolved)

    def _dir(self, target: str, member: tarfile.TarInfo) -> None:
        try:
            is_dir = stat.S_ISDIR(os.lstat(target).st_mode)
        except FileNotFoundError:
            is_dir = False
        if not is_dir:
            self._replace(target)
            os.mkdir(target, 0o755)
        self.dirs[target] = member

    def _file(self, layer: tarfile.TarFile, target: str, member: tarfile.TarInfo) -> None:
        self._replace(target)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            data = layer.extractfile(member)
            if data is not None:
                shutil.copyfileobj(data, out, _COPY_CHUNK)

    def _hardlink(self, target: str, member: tarfile.TarInfo) -> None:
        parts = _clean(member.linkname)
        if not parts:
            raise _Skip(f"hardlink target {member.linkname!r} is outside the root")
        folder = self._resolve(parts[:-1], create=False)
        source = os.path.join(folder or self.root, parts[-1])
        try:
            mode = os.lstat(source).st_mode if folder is not None else None
        except FileNotFoundError:
            mode = None
        if mode is None:
            raise _Skip(f"hardlink target {member.linkname!r} does not exist")
        if stat.S_ISDIR(mode):
            raise _Skip(f"hardlink target {member.linkname!r} is a directory")
        if source == target:
            return
        self._replace(target)
        try:
            os.link(source, target, follow_symlinks=False)
        except OSError:  # e.g. a file system without hardlinks: copy instead
            if stat.S_ISLNK(mode):
                os.symlink(os.readlink(source), target)
            else:
                shutil.copy2(source, target, follow_symlinks=False)

    def _replace(self, target: str) -> None:
        """Make room for a new entry: whatever is at `target` goes (a folder with its content)."""
        if os.path.lexists(target):
            self._remove(target)

    def _remove(self, path: str) -> None:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISDIR(mode):
            shutil.rmtree(path)
            prefix = path + os.sep
            for name in [d for d in self.dirs if d == path or d.startswith(prefix)]:
                del self.dirs[name]
        else:
            os.unlink(path)

    def _metadata(self, target: str, member: tarfile.TarInfo) -> None:
        """Owner first (chown clears setuid and setgid), then mode, extended attributes, times."""
        if self.as_root:
            with contextlib.suppress(OSError):
                os.lchown(target, member.uid, member.gid)
        if not member.issym():
            os.chmod(target, member.mode & 0o7777)
        if self.as_root:
            for key, value in member.pax_headers.items():
                if key.startswith("SCHILY.xattr."):
                    with contextlib.suppress(OSError):
                        os.setxattr(target, key[len("SCHILY.xattr."):], value.encode("utf-8", "surrogateescape"),
                                    follow_symlinks=False)
        with contextlib.suppress(OSError, OverflowError, ValueError):
            os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)

    def _finish_dirs(self) -> None:
        for path in sorted(self.dirs, reverse=True):  # children first: a parent's mode never blocks them
            try:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    continue
            except FileNotFoundError:
                continue
            self._metadata(path, self.dirs[path])

    def _add_mountpoints(self, workdir: str) -> None:
        """What Docker adds when it creates a container: the mountpoints, and the working directory."""
        for name, mode in MOUNTPOINTS:
            path = os.path.join(self.root, name)
            if not os.path.lexists(path):
                os.mkdir(path)
                os.chmod(path, mode)
        try:
            self._resolve(_clean(workdir) or [], create=True)
        except _Skip as error:
            log.warning("cannot create the working directory %s: %s", workdir, error)


def _clean(name: str) -> list[str] | None:
    """Components of an entry name relative to the root (a leading / is dropped); None if `..` climbs above it."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return parts
