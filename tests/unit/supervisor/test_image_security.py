"""Issue 16's attacks on the image cache, each reproduced: privileges carried by an image (setuid bits, device nodes,
file capabilities), a cache folder someone else controls, decompression and sparse-file bombs, and a poisoned cache
(the genuine configuration with a trojaned layer). Plus whiteouts, now applied while a layer streams."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import stat
import struct
import subprocess
import tarfile
import zlib
from pathlib import Path

import pytest

from devtools.images import (
    DEFAULT_PATH,
    LayerBuilder,
    build_busybox_image,
    image_config,
    write_image,
)
from scar.supervisor.config import FunctionConfig
from scar.supervisor.image import ImageError, extract_image, load_image
from scar.supervisor.runners import RunnerError, image_file_path

FAKE_BUSYBOX = b"\x7fELF not really busybox\n" * 100  # never run by these tests
GIB = 1 << 30
MIB = 1 << 20
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (to chown, or to set file capabilities)")


def image_of(tmp_path: Path, *layers: LayerBuilder, name: str = "image.tar", fmt: str = "docker") -> Path:
    tars = [layer.tar() for layer in layers]
    return write_image(tmp_path / name, tars, image_config(tars, {"PATH": DEFAULT_PATH}, ["/bin/sh"]), fmt=fmt)


def disk_usage(folder: Path) -> int:
    """Bytes really allocated under `folder` (sparse files count what they occupy)."""
    if not folder.exists():
        return 0
    return sum(os.lstat(p).st_blocks * 512 for p in [folder, *folder.rglob("*")])


# --- privileges carried by an image ----------------------------------------------------------------------------


def test_setuid_and_setgid_bits_are_cleared(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    layer = LayerBuilder().dir("bin").file("bin/rootshell", "#!/bin/sh\nid\n", 0o6755)
    layer.dir("srv", 0o3775, gid=50).file("srv/tool", "x", 0o2711, gid=50).dir("tmp", 0o1777)
    caplog.set_level(logging.INFO, logger="scar.supervisor.image")
    root = extract_image(image_of(tmp_path, layer), tmp_path / "cache").rootfs
    for path in [root, *root.rglob("*")]:
        assert not path.lstat().st_mode & (stat.S_ISUID | stat.S_ISGID), path
    assert stat.S_IMODE((root / "bin/rootshell").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "srv").stat().st_mode) == 0o1775  # the sticky bit of a folder stays
    assert stat.S_IMODE((root / "tmp").stat().st_mode) == 0o1777
    assert "cleared the setuid or setgid bit of 3 entries" in caplog.text
    if os.geteuid() == 0:  # owners are kept, as Docker does: harmless without the bits
        assert (root / "srv/tool").stat().st_gid == 50


def test_device_nodes_and_fifos_are_not_created(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    layer = LayerBuilder().dir("dev").device("dev/mem").block_device("dev/sda").fifo("queue").file("kept.txt", "ok")
    root = extract_image(image_of(tmp_path, layer), tmp_path / "cache").rootfs
    assert sorted(p.name for p in root.iterdir()) == ["dev", "kept.txt", "proc", "sys", "tmp"]
    assert list((root / "dev").iterdir()) == []
    for name in ("dev/mem", "dev/sda", "queue"):
        assert f"skipped {name!r}: device nodes and fifos are not extracted" in caplog.text


@as_root
def test_file_capabilities_are_not_restored(tmp_path: Path) -> None:
    """security.capability (here cap_setuid+ep) would make a binary privileged for whoever runs it."""
    capability = struct.pack("<IIIII", 0x02000001, 1 << 7, 0, 0, 0)
    probe = tmp_path / "probe"
    probe.touch()
    try:
        os.setxattr(probe, "security.capability", capability)
    except OSError:
        pytest.skip("this file system does not store file capabilities")
    layer = LayerBuilder().file("cap-tool", "x", 0o755,
                                xattrs={"security.capability": capability, "user.note": b"kept"})
    root = extract_image(image_of(tmp_path, layer), tmp_path / "cache").rootfs
    assert "security.capability" not in os.listxattr(root / "cap-tool")
    assert os.getxattr(root / "cap-tool", "user.note") == b"kept"


# --- cache folders ---------------------------------------------------------------------------------------------


def test_cache_folders_are_created_private(tmp_path: Path) -> None:
    cache = tmp_path / "made" / "by" / "scar"
    extracted = extract_image(image_of(tmp_path, LayerBuilder().file("a.txt", "a")), cache)
    for folder in (tmp_path / "made", tmp_path / "made/by", cache, extracted.rootfs.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        assert folder.stat().st_uid == os.geteuid()
    assert stat.S_IMODE(extracted.rootfs.stat().st_mode) == 0o755  # the container's own /


def test_an_own_cache_left_open_for_reading_is_made_private(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o755)
    os.chmod(cache, 0o755)
    extract_image(image_of(tmp_path, LayerBuilder().file("a.txt", "a")), cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


@as_root
def test_a_cache_folder_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    image = image_of(tmp_path, LayerBuilder().file("bin/sh", "#!/bin/sh\necho trojan\n", 0o755))
    planted = tmp_path / "cache"
    planted.mkdir(mode=0o700)
    os.chown(planted, 65534, 65534)
    with pytest.raises(ImageError, match=r"refusing the image cache folder .*/cache: it belongs to uid 65534"):
        extract_image(image, planted)
    assert list(planted.iterdir()) == []

    above = tmp_path / "theirs"  # a folder above the cache, owned by someone who could swap the cache
    (above / "cache").mkdir(parents=True, mode=0o700)
    os.chown(above, 65534, 65534)
    with pytest.raises(ImageError, match=r"the folder .*/theirs above it belongs to uid 65534"):
        extract_image(image, above / "cache")


@as_root
def test_a_planted_cache_entry_is_refused(tmp_path: Path) -> None:
    """An entry under a good cache folder that is not ours (someone wrote it there as root, or an old scar did)."""
    image = image_of(tmp_path, LayerBuilder().file("bin/sh", "genuine"))
    cache = tmp_path / "cache"
    planted = cache / load_image(image).cache_key / "rootfs" / "bin"
    planted.mkdir(parents=True)
    (planted / "sh").write_text("#!/bin/sh\necho trojan\n")
    os.chmod(cache, 0o700)
    for folder in (planted.parent.parent, planted.parent):
        os.chown(folder, 65534, 65534)
    with pytest.raises(ImageError, match=r"refusing the image cache folder .*: it belongs to uid 65534"):
        extract_image(image, cache)


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_a_cache_folder_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    os.chmod(cache, mode)
    with pytest.raises(ImageError, match=rf"group or others can write to it \(mode {mode:04o}\)"):
        extract_image(image_of(tmp_path, LayerBuilder().file("a.txt", "a")), cache)
    assert list(cache.iterdir()) == []


def test_a_writable_folder_above_the_cache_is_refused_unless_sticky(tmp_path: Path) -> None:
    image = image_of(tmp_path, LayerBuilder().file("a.txt", "a"))
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(ImageError, match=r"group or others can write to the folder .*/shared above it"):
        extract_image(image, shared / "scar-cache" / "rootfs")
    assert list(shared.iterdir()) == []
    os.chmod(shared, 0o1777)  # as /tmp: others cannot rename or remove what is ours
    assert (extract_image(image, shared / "scar-cache" / "rootfs").rootfs / "a.txt").read_text() == "a"


def test_a_symbolic_link_as_cache_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    (tmp_path / "cache").symlink_to(target)
    with pytest.raises(ImageError, match="it is a symbolic link"):
        extract_image(image_of(tmp_path, LayerBuilder().file("a.txt", "a")), tmp_path / "cache")
    assert list(target.iterdir()) == []


def bucket_image(tmp_path: Path) -> FunctionConfig:
    return FunctionConfig.from_dict({"name": "fn", "container": {"image_file": {"bucket": "deploy",
                                                                                 "key": "fn/image.tar"}}}, tmp_path)


class Downloads:
    """Stands in for Storage.download (S3 itself is tested against moto in tests/integration): writes the object
    into the folder it is given, as a partial file, and records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Path]] = []

    def __call__(self, bucket: str, key: str, folder: Path) -> Path:
        self.calls.append((bucket, key, folder))
        partial = folder / "download.partial"
        partial.write_bytes(b"genuine image")
        return partial


def test_a_downloaded_image_is_kept_in_a_private_folder(tmp_path: Path) -> None:
    cache, download = tmp_path / "scar-cache", Downloads()
    path = image_file_path(bucket_image(tmp_path), download, cache)
    assert path == cache / "images" / "image.tar" and path.read_bytes() == b"genuine image"
    assert download.calls == [("deploy", "fn/image.tar", cache / "images")]
    for folder in (cache, cache / "images"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        assert folder.stat().st_uid == os.geteuid()
    assert image_file_path(bucket_image(tmp_path), download, cache) == path
    assert len(download.calls) == 1  # downloaded once


def test_an_images_folder_others_can_write_is_refused(tmp_path: Path) -> None:
    (tmp_path / "scar-cache" / "images").mkdir(parents=True)
    os.chmod(tmp_path / "scar-cache" / "images", 0o777)
    download = Downloads()
    with pytest.raises(RunnerError, match=r"cannot use the image: refusing the image cache folder "
                                          r".*/images: group or others can write to it \(mode 0777\)"):
        image_file_path(bucket_image(tmp_path), download, tmp_path / "scar-cache")
    assert download.calls == []


@as_root
def test_a_planted_images_folder_is_refused_not_run(tmp_path: Path) -> None:
    """Another user made the images folder first and left a trojaned tarball under the expected name."""
    planted = tmp_path / "scar-cache" / "images"
    planted.mkdir(parents=True, mode=0o700)
    os.chmod(tmp_path / "scar-cache", 0o700)
    (planted / "image.tar").write_bytes(b"trojan")
    os.chown(planted, 65534, 65534)
    download = Downloads()
    with pytest.raises(RunnerError, match=r"refusing the image cache folder .*/images: it belongs to uid 65534"):
        image_file_path(bucket_image(tmp_path), download, tmp_path / "scar-cache")
    assert download.calls == []

# --- size limits -----------------------------------------------------------------------------------------------


def sparse_layer(folder: Path, size: int, fmt: str) -> bytes:
    """A tar holding one sparse file of `size` apparent bytes, written by GNU tar (tarfile cannot write them)."""
    folder.mkdir()
    with open(folder / "bomb", "wb") as stream:
        stream.truncate(size)
    subprocess.run(["tar", "--sparse", f"--format={fmt}", "-cf", str(folder / "layer.tar"), "-C", str(folder),
                    "bomb"], check=True)
    data = (folder / "layer.tar").read_bytes()
    shutil.rmtree(folder)
    return data


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs GNU tar")
@pytest.mark.parametrize("fmt", ["gnu", "pax"])
def test_a_sparse_bomb_layer_is_refused(tmp_path: Path, fmt: str) -> None:
    layer = sparse_layer(tmp_path / "build", GIB, fmt)
    assert len(layer) < 64 * 1024
    image = write_image(tmp_path / "sparse.tar", [layer], image_config([layer], {}, ["sh"]))
    cache = tmp_path / "cache"
    with pytest.raises(ImageError, match=r"layer .*/layer.tar: bomb: the image needs more than 64.0 MiB, the limit"):
        extract_image(image, cache, max_size=64 * MIB)
    assert list(cache.iterdir()) == []
    assert disk_usage(cache) < MIB


@pytest.fixture(scope="module")
def gzip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A legacy docker-save image whose only layer is a gzip tar (a few MB) of a 1 GiB file of zeros: built
    streaming, never held in memory; its diff_id is right, so only the size can stop it."""
    folder = tmp_path_factory.mktemp("gzip-bomb")
    info = tarfile.TarInfo("zeros")
    info.size, info.mode = GIB, 0o644
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # 31: the gzip container
    plain = hashlib.sha256()
    blob = io.BytesIO()
    zeros = bytes(MIB)
    for chunk in [header, *[zeros] * (GIB // MIB), bytes(1024)]:  # data, then the end-of-archive blocks
        plain.update(chunk)
        blob.write(compressor.compress(chunk))
    blob.write(compressor.flush())
    layer = blob.getvalue()
    config = image_config([], {}, ["sh"], diff_ids=["sha256:" + plain.hexdigest()])
    return write_image(folder / "bomb.tar", [layer], config)


def test_a_gzip_bomb_layer_is_refused_without_a_scratch_copy(gzip_bomb: Path, tmp_path: Path) -> None:
    assert gzip_bomb.stat().st_size < 8 * MIB
    cache = tmp_path / "cache"
    with pytest.raises(ImageError, match=r"layer .*/layer.tar: zeros: the image needs more than 64.0 MiB, the limit "
                                         r"\(max_size 64.0 MiB\)"):
        extract_image(gzip_bomb, cache, max_size=64 * MIB)
    assert list(cache.iterdir()) == []
    assert disk_usage(cache) < MIB


def test_the_limit_comes_from_the_environment(gzip_bomb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAR_MAX_IMAGE_SIZE", "512M")
    with pytest.raises(ImageError, match=r"more than 512.0 MiB, the limit \(SCAR_MAX_IMAGE_SIZE=512M\)"):
        extract_image(gzip_bomb, tmp_path / "cache")
    monkeypatch.setenv("SCAR_MAX_IMAGE_SIZE", "lots")
    with pytest.raises(ImageError, match=r"SCAR_MAX_IMAGE_SIZE: 'lots' is not a size"):
        extract_image(gzip_bomb, tmp_path / "cache")


def test_the_default_limit_is_the_free_space_of_the_cache(gzip_bomb: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the free space is smaller than the bomb (as in Lambda's /tmp); statvfs is faked: the machine's disk is
    what it is."""
    monkeypatch.delenv("SCAR_MAX_IMAGE_SIZE", raising=False)
    real = os.statvfs

    def small(path: object) -> os.statvfs_result:
        values = list(real(path))
        values[0], values[1], values[4] = 4096, 4096, (300 * MIB) // 4096  # f_bsize, f_frsize, f_bavail
        return os.statvfs_result(values)

    monkeypatch.setattr(os, "statvfs", small)
    with pytest.raises(ImageError, match=r"more than 300.0 MiB, the limit \(the free space of .*/cache\)"):
        extract_image(gzip_bomb, tmp_path / "cache")


def test_many_files_count_together(tmp_path: Path) -> None:
    layer = LayerBuilder()
    for index in range(12):
        layer.file(f"part-{index}", bytes(100 * 1024))
    image = image_of(tmp_path, layer)
    with pytest.raises(ImageError, match=r"part-10: the image needs more than 1\.0 MiB"):
        extract_image(image, tmp_path / "cache", max_size=MIB)
    assert (extract_image(image, tmp_path / "cache", max_size=2 * MIB).rootfs / "part-11").stat().st_size == 102400


def test_a_compressed_tarball_is_capped_too(tmp_path: Path) -> None:
    plain = build_busybox_image(tmp_path / "plain.tar", busybox=FAKE_BUSYBOX)
    packed = tmp_path / "image.tar.gz"
    with open(plain, "rb") as source, open(packed, "wb") as target:
        target.write(zlib.compress(source.read(), wbits=31))
    with pytest.raises(ImageError, match=r"image.tar.gz \(decompressed\): the image needs more than 8.0 KiB"):
        extract_image(packed, tmp_path / "cache", max_size=8 * 1024)
    assert list((tmp_path / "cache").iterdir()) == []


# --- cache poisoning -------------------------------------------------------------------------------------------


def genuine_and_trojan(tmp_path: Path) -> tuple[list[bytes], dict, bytes]:
    genuine = [LayerBuilder().dir("bin").file("bin/sh", "#!/genuine\n", 0o755).tar(),
               LayerBuilder().file("etc/motd", "hello\n").tar()]
    trojan = LayerBuilder().file("etc/motd", "hello\n").file("bin/sh", "#!/trojan\n", 0o755).tar()
    return genuine, image_config(genuine, {"PATH": DEFAULT_PATH}, ["/bin/sh"]), trojan


@pytest.mark.parametrize("gzip_layers", [False, True], ids=["plain", "gzip"])
def test_a_poisoned_legacy_image_is_refused_and_never_cached(tmp_path: Path, gzip_layers: bool) -> None:
    """The genuine configuration (so the same cache entry) with a trojaned layer: docker save's legacy format
    names no layer digest, the configuration's diff_ids (of the uncompressed tar) catch it."""
    genuine, config, trojan = genuine_and_trojan(tmp_path)
    poisoned = write_image(tmp_path / "poisoned.tar", [genuine[0], trojan], config, gzip_layers=gzip_layers)
    cache = tmp_path / "cache"
    with pytest.raises(ImageError, match=r"layer .*/layer.tar: its uncompressed content has digest sha256:\w+, "
                                         r"the image configuration says sha256:\w+"):
        extract_image(poisoned, cache)
    assert list(cache.iterdir()) == []
    root = extract_image(write_image(tmp_path / "genuine.tar", genuine, config, gzip_layers=gzip_layers), cache).rootfs
    assert (root / "bin/sh").read_text() == "#!/genuine\n"


def test_a_poisoned_oci_blob_is_refused(tmp_path: Path) -> None:
    """A trojaned layer stored under the genuine blob name: its bytes do not match the manifest's digest."""
    genuine, config, trojan = genuine_and_trojan(tmp_path)
    image = write_image(tmp_path / "genuine.tar", genuine, config, fmt="oci")
    poisoned = tmp_path / "poisoned.tar"
    with tarfile.open(image) as source, tarfile.open(poisoned, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "blobs/sha256/" + hashlib.sha256(genuine[1]).hexdigest():
                data, member.size = trojan, len(trojan)
            target.addfile(member, io.BytesIO(data))
    with pytest.raises(ImageError, match=r"its content has digest sha256:\w+, the manifest says sha256:\w+"):
        extract_image(poisoned, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_poisoned_oci_manifest_is_refused(tmp_path: Path) -> None:
    """A rewritten manifest (and index) naming the trojan's real digest: the configuration's diff_id still
    differs."""
    genuine, config, trojan = genuine_and_trojan(tmp_path)
    poisoned = write_image(tmp_path / "poisoned.tar", [genuine[0], trojan], config, fmt="oci")
    with pytest.raises(ImageError, match="the image configuration says"):
        extract_image(poisoned, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_an_altered_oci_config_is_refused(tmp_path: Path) -> None:
    genuine, config, _ = genuine_and_trojan(tmp_path)
    image = write_image(tmp_path / "genuine.tar", genuine, config, fmt="oci")
    altered = tmp_path / "altered.tar"
    config_name = "blobs/sha256/" + hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    with tarfile.open(image) as source, tarfile.open(altered, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == config_name:
                data = data.replace(b'"Cmd": ["/bin/sh"]', b'"Cmd": ["/bin/evil"]')
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    with pytest.raises(ImageError, match=r"does not match its digest sha256:"):
        load_image(altered)


def test_entries_of_the_unverified_cache_format_are_not_reused(tmp_path: Path) -> None:
    """Before layers were verified, entries were named by the config digest alone: one of them may be poisoned."""
    genuine, config, _ = genuine_and_trojan(tmp_path)
    image = write_image(tmp_path / "genuine.tar", genuine, config)
    cache = tmp_path / "cache"
    old = cache / load_image(image).digest.removeprefix("sha256:") / "rootfs" / "bin"
    old.mkdir(parents=True)
    (old / "sh").write_text("#!/trojan\n")
    os.chmod(cache, 0o700)
    assert (extract_image(image, cache).rootfs / "bin/sh").read_text() == "#!/genuine\n"


def test_a_config_without_diff_ids_is_refused(tmp_path: Path) -> None:
    genuine, config, _ = genuine_and_trojan(tmp_path)
    del config["rootfs"]
    with pytest.raises(ImageError, match=r"lists 0 rootfs\.diff_ids for 2 layers: the layers cannot be verified"):
        load_image(write_image(tmp_path / "image.tar", genuine, config))


# --- whiteouts in a streamed layer -----------------------------------------------------------------------------


def test_whiteouts_hide_lower_layers_only_whatever_their_place(tmp_path: Path) -> None:
    lower = LayerBuilder().dir("a").file("a/lower.txt", "1").dir("b").file("b/lower.txt", "1").file("c.txt", "1")
    lower.dir("d").file("d/lower.txt", "1").file("e.txt", "1").dir("f").file("f/lower.txt", "1")
    upper = LayerBuilder()
    upper.file("a/own.txt", "2").opaque("a")  # opaque after the layer's own entry: the entry stays
    upper.opaque("b").file("b/own.txt", "2")  # opaque first: the same
    upper.file("c.txt", "2").whiteout("c.txt")  # a whiteout never hides its own layer's file
    upper.file("d/own.txt", "2").whiteout("d")  # the lower folder goes, the layer's own file in it stays
    upper.whiteout("e.txt").file("e.txt", "2")  # hidden, then written again
    upper.whiteout("f")
    root = extract_image(image_of(tmp_path, lower, upper), tmp_path / "cache").rootfs
    assert sorted(p.name for p in (root / "a").iterdir()) == ["own.txt"]
    assert sorted(p.name for p in (root / "b").iterdir()) == ["own.txt"]
    assert (root / "c.txt").read_text() == "2"
    assert sorted(p.name for p in (root / "d").iterdir()) == ["own.txt"]
    assert (root / "e.txt").read_text() == "2"
    assert not (root / "f").exists()

