"""scar.supervisor.image: reading docker-save tarballs (legacy and OCI layout) and OCI folders, and the safe,
cached extraction of their root filesystem."""

from __future__ import annotations

import bz2
import fcntl
import gzip
import hashlib
import io
import json
import lzma
import os
import shutil
import stat
import tarfile
import threading
from pathlib import Path

import pytest

from devtools.images import (
    DEFAULT_PATH,
    build_busybox_image,
    build_malicious_image,
    busybox_layers,
    host_architecture,
    image_config,
    write_image,
)
from scar.supervisor.image import ImageError, extract_image, load_image
from scar.supervisor.image.extract import Extractor
from scar.supervisor.image.source import HAS_ZSTD

FAKE_BUSYBOX = b"\x7fELF not really busybox\n" * 100  # never run by these tests


def build(tmp_path: Path, fmt: str = "docker", gzip_layers: bool = False, **kwargs) -> Path:
    name = f"image-{fmt}{'-gz' if gzip_layers else ''}.tar"
    return build_busybox_image(tmp_path / name, fmt=fmt, gzip_layers=gzip_layers, busybox=FAKE_BUSYBOX, **kwargs)


def all_names(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def unpack(tarball: Path, folder: Path) -> Path:
    options = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    with tarfile.open(tarball) as archive:
        archive.extractall(folder, **options)
    return folder


@pytest.mark.parametrize("gzip_layers", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("fmt", ["docker", "oci"])
def test_extracts_both_formats(tmp_path: Path, fmt: str, gzip_layers: bool) -> None:
    path = build(tmp_path, fmt, gzip_layers, extra_files={"opt/handler.sh": "#!/bin/sh\necho hi\n"},
                 env={"GREETING": "hello"}, cmd=["/opt/handler.sh"], workdir="/opt")
    info = load_image(path)
    assert info.format == fmt
    assert len(info.layers) == 2
    assert info.config.env == {"PATH": DEFAULT_PATH, "GREETING": "hello"}
    assert (info.config.cmd, info.config.entrypoint, info.config.workdir, info.config.user) == (
        ["/opt/handler.sh"], [], "/opt", "")

    extracted = extract_image(path, tmp_path / "cache")
    root = extracted.rootfs
    assert extracted.digest == info.digest
    assert root == tmp_path / "cache" / info.cache_key / "rootfs"
    assert (root / "bin/busybox").read_bytes() == FAKE_BUSYBOX
    assert os.readlink(root / "bin/sh") == "busybox"
    assert os.readlink(root / "usr/bin") == "/bin"  # absolute targets are kept as written
    assert (root / "bin/bb").stat().st_ino == (root / "bin/busybox").stat().st_ino  # hardlink
    assert (root / "opt/overwritten.txt").read_text() == "layer 2\n"  # layers applied in manifest order
    assert not (root / "opt/gone.txt").exists()  # whiteout
    assert sorted(p.name for p in (root / "opt/old").iterdir()) == ["new.txt"]  # opaque, then the layer's own entry
    assert (root / "opt/dir-then-file").read_text() == "now a file\n"
    assert (root / "opt/file-then-dir/in.txt").read_text() == "in\n"
    assert stat.S_IMODE((root / "opt/handler.sh").stat().st_mode) == 0o755
    assert not [name for name in all_names(root) if ".wh." in name]
    for name in ("proc", "dev", "sys"):  # mountpoints the sandboxes need, as Docker creates them
        assert (root / name).is_dir()


def test_layers_follow_the_manifest_not_the_archive_order(tmp_path: Path) -> None:
    original = build(tmp_path)
    reordered = tmp_path / "reordered.tar"
    with tarfile.open(original) as source, tarfile.open(reordered, "w") as target:
        for member in reversed(source.getmembers()):
            target.addfile(member, source.extractfile(member))
    root = extract_image(reordered, tmp_path / "cache").rootfs
    assert (root / "opt/overwritten.txt").read_text() == "layer 2\n"


def test_layers_stored_as_links_in_the_tarball(tmp_path: Path) -> None:
    """docker save stores a layer used twice once, and links to it."""
    original = build(tmp_path)
    linked = tmp_path / "linked.tar"
    with tarfile.open(original) as source, tarfile.open(linked, "w") as target:
        manifest = json.load(source.extractfile("manifest.json"))
        config = json.load(source.extractfile(manifest[0]["Config"]))
        first = manifest[0]["Layers"][0]
        for member in source.getmembers():
            if member.name not in ("manifest.json", manifest[0]["Config"]):
                target.addfile(member, source.extractfile(member))
        link = tarfile.TarInfo("again/layer.tar")
        link.type, link.linkname = tarfile.SYMTYPE, f"../{first}"
        target.addfile(link)
        manifest[0]["Layers"].append("again/layer.tar")  # layer 1 once more, on top
        config["rootfs"]["diff_ids"].append(config["rootfs"]["diff_ids"][0])
        for name, document in ((manifest[0]["Config"], config), ("manifest.json", manifest)):
            data = json.dumps(document).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    root = extract_image(linked, tmp_path / "cache").rootfs
    assert (root / "opt/overwritten.txt").read_text() == "layer 1\n"


def test_modes_and_owners_are_kept_without_setuid_and_setgid(tmp_path: Path) -> None:
    root = extract_image(build(tmp_path), tmp_path / "cache").rootfs
    modes = {name: stat.S_IMODE((root / name).lstat().st_mode) for name in
             ("tmp", "root", "var/mail", "usr/local/bin/setuid-tool", "usr/local/bin/setgid-tool", "bin/busybox")}
    assert modes == {"tmp": 0o1777, "root": 0o700, "var/mail": 0o775, "usr/local/bin/setuid-tool": 0o755,
                     "usr/local/bin/setgid-tool": 0o755, "bin/busybox": 0o755}
    if os.geteuid() == 0:
        assert (root / "var/mail").stat().st_gid == 8
        assert (root / "usr/local/bin/setgid-tool").stat().st_gid == 42
    assert int((root / "opt/old/new.txt").stat().st_mtime) == 1_700_000_000


def test_missing_working_directory_is_created(tmp_path: Path) -> None:
    root = extract_image(build(tmp_path, workdir="/srv/app"), tmp_path / "cache").rootfs
    assert (root / "srv/app").is_dir()
    assert stat.S_IMODE((root / "srv").stat().st_mode) == 0o755


def test_gzip_compressed_tarball(tmp_path: Path) -> None:
    plain = build(tmp_path, "oci")
    packed = tmp_path / "image.tar.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes(), compresslevel=1))
    assert load_image(packed).digest == load_image(plain).digest
    root = extract_image(packed, tmp_path / "cache").rootfs
    assert (root / "opt/overwritten.txt").read_text() == "layer 2\n"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [load_image(plain).cache_key]


@pytest.mark.parametrize("compress", [bz2.compress, lzma.compress], ids=["bzip2", "xz"])
def test_bzip2_and_xz_layers_are_streamed_and_verified(tmp_path: Path, compress) -> None:
    plain = [layer.tar() for layer in busybox_layers(FAKE_BUSYBOX)]
    config = image_config(plain, env={"PATH": DEFAULT_PATH}, cmd=["/bin/sh"])
    image = write_image(tmp_path / "image.tar", [compress(layer) for layer in plain], config)
    root = extract_image(image, tmp_path / "cache").rootfs
    assert (root / "opt/overwritten.txt").read_text() == "layer 2\n"
    assert sorted(p.name for p in (root / "opt/old").iterdir()) == ["new.txt"]


def test_oci_layout_folder(tmp_path: Path) -> None:
    folder = unpack(build(tmp_path, "oci", gzip_layers=True), tmp_path / "layout")
    (folder / "manifest.json").unlink()  # a pure OCI layout (skopeo, buildah) has none
    info = load_image(folder)
    assert info.format == "oci"
    assert (extract_image(folder, tmp_path / "cache").rootfs / "opt/old/new.txt").read_text() == "new\n"


def _blob(folder: Path, document: dict) -> dict:
    data = json.dumps(document).encode()
    digest = hashlib.sha256(data).hexdigest()
    (folder / "blobs/sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def test_nested_index_picks_the_host_platform(tmp_path: Path) -> None:
    folder = unpack(build(tmp_path, "oci"), tmp_path / "layout")
    real = json.loads((folder / "index.json").read_text())["manifests"][0]
    other_arch = "s390x" if host_architecture() != "s390x" else "arm64"
    missing = {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + "0" * 64, "size": 1}
    foreign = _blob(folder, {"schemaVersion": 2, "config": {"digest": real["digest"]}, "layers": [missing]})
    attestation = _blob(folder, {"schemaVersion": 2, "config": {"digest": real["digest"]}, "layers": [missing]})
    nested = _blob(folder, {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {**foreign, "mediaType": real["mediaType"], "platform": {"os": "linux", "architecture": other_arch}},
        {**attestation, "mediaType": real["mediaType"], "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
        {**real, "platform": {"os": "linux", "architecture": host_architecture()}},
    ]})
    (folder / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {**nested, "mediaType": "application/vnd.oci.image.index.v1+json"}]}))
    (folder / "manifest.json").unlink()
    assert load_image(folder).layers == load_image(build(tmp_path, "oci")).layers


@pytest.mark.skipif(HAS_ZSTD, reason="this Python reads zstd layers")
def test_zstd_layers_are_reported(tmp_path: Path) -> None:
    folder = unpack(build(tmp_path, "oci"), tmp_path / "layout")
    index = json.loads((folder / "index.json").read_text())
    manifest = json.loads((folder / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text())
    manifest["layers"][0]["mediaType"] += "+zstd"
    index["manifests"][0]["digest"] = _blob(folder, manifest)["digest"]
    (folder / "index.json").write_text(json.dumps(index))
    with pytest.raises(ImageError, match="zstd-compressed"):
        load_image(folder)

    zstd_layer = b"\x28\xb5\x2f\xfd" + b"\0" * 64  # the frame magic is enough for the check
    legacy = write_image(tmp_path / "zstd.tar", [zstd_layer], image_config([zstd_layer], {}, ["sh"]))
    with pytest.raises(ImageError, match="zstd-compressed"):
        extract_image(legacy, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_unreadable_images_give_clear_errors(tmp_path: Path) -> None:
    not_tar = tmp_path / "notes.txt"
    not_tar.write_text("hello\n" * 200)
    with pytest.raises(ImageError, match="not an image tarball"):
        load_image(not_tar)
    with pytest.raises(ImageError, match="cannot read the image"):
        load_image(tmp_path / "missing.tar")
    stripped = tmp_path / "stripped.tar"
    with tarfile.open(stripped, "w") as archive:
        archive.add(not_tar, "other.txt")
    with pytest.raises(ImageError, match=r"neither manifest.json .* nor index.json"):
        load_image(stripped)

    folder = unpack(build(tmp_path, "docker"), tmp_path / "unpacked")
    layer = json.loads((folder / "manifest.json").read_text())[0]["Layers"][1]
    (folder / layer).unlink()
    with pytest.raises(ImageError, match="is missing"):
        load_image(folder)
    (folder / layer).write_bytes(gzip.compress(b"this is not a tar archive" * 100))
    with pytest.raises(ImageError, match="not a readable tar"):
        extract_image(folder, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # neither a rootfs nor a partial copy is left


def test_second_extraction_reuses_the_cache(tmp_path: Path) -> None:
    path = build(tmp_path)
    first = extract_image(path, tmp_path / "cache")
    marker = first.rootfs / "marker-left-by-the-test"
    marker.write_text("still here")
    inode = first.rootfs.stat().st_ino
    second = extract_image(build(tmp_path, "oci", gzip_layers=True), tmp_path / "cache")  # same image, other format
    assert second == first
    assert marker.read_text() == "still here"
    assert second.rootfs.stat().st_ino == inode
    assert json.loads((second.rootfs.parent / "config.json").read_text())["digest"] == first.digest


def test_interrupted_extraction_leaves_nothing_reusable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build(tmp_path)

    def crash(self) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(Extractor, "_finish_dirs", crash)
        with pytest.raises(KeyboardInterrupt):
            extract_image(path, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []
    assert (extract_image(path, tmp_path / "cache").rootfs / "opt/overwritten.txt").read_text() == "layer 2\n"


def test_stale_partial_folders_are_removed_live_ones_kept(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    dead = cache / ".abc.dead.partial"
    alive = cache / ".abc.alive.partial"
    for folder in (dead, alive):
        (folder / "rootfs/etc").mkdir(parents=True)
        (folder / ".lock").touch()
    with open(alive / ".lock") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process would hold it (flock locks are per open file)
        extract_image(build(tmp_path), cache)
    assert not dead.exists()
    assert alive.exists()


def test_concurrent_extractions_agree(tmp_path: Path) -> None:
    paths = [build(tmp_path, fmt) for fmt in ("docker", "oci")]
    results: list = []
    errors: list[BaseException] = []

    def extract(path: Path) -> None:
        try:
            results.append(extract_image(path, tmp_path / "cache"))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=extract, args=(paths[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({r.rootfs for r in results}) == 1
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [results[0].rootfs.parent.name]
    assert (results[0].rootfs / "opt/old/new.txt").read_text() == "new\n"


def test_malicious_image_writes_nothing_outside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("victim\n")
    before = all_names(tmp_path)
    image = build_malicious_image(tmp_path / "evil.tar", outside)
    root = extract_image(image, tmp_path / "cache").rootfs

    assert all_names(outside) == {"victim.txt"}
    assert (outside / "victim.txt").read_text() == "victim\n"
    assert (outside / "victim.txt").stat().st_nlink == 1  # nothing links to it
    outside_paths = {name for name in all_names(tmp_path) - before if not name.startswith("cache")}
    assert outside_paths == {"evil.tar"}
    assert not (Path("/") / str(outside).strip("/") / "dotdot.txt").exists()

    mirrored = root / str(outside).strip("/")  # where absolute and link-relative names really land
    assert all_names(mirrored) == {"second-layer.txt"}  # layer 1's files there were emptied by the opaque marker
    assert os.readlink(root / "escape") == str(outside)  # kept as written: harmless inside the sandbox
    assert (root / "inside.txt").read_text() == "original\n"  # replaced the hardlink instead of writing through it
    assert (root / "linked.txt").read_text() == "replaced\n"
    assert (root / "plain.txt").read_text() == "plain\n"
    assert (root / "etc/keep.txt").read_text() == "keep\n"
    assert not (root / "dev-null").exists()
    assert not (root / "hardlink-climb").exists() and not (root / "hardlink-absolute").exists()
    assert "climbs above the root" in caplog.text
    assert "too many levels of symbolic links" in caplog.text
    shutil.rmtree(tmp_path / "cache")
