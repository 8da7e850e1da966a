"""Image layers (and the AWS Batch runtime archive, batch_runtime.py) scar writes itself: reproducible tars (sorted
names, owner root, one fixed time), gzip-compressed, stored in the image store under their digest; a layer whose
inputs did not change is not built again."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scar.registry.store import ImageStore

LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
_MTIME = 1_700_000_000
_COPY = 1 << 20


@dataclass(frozen=True)
class LayerFile:
    name: str  # inside the image, relative to /
    source: Path | None = None
    data: bytes | None = None
    mode: int = 0o644
    cleanup: bool = False  # a temporary copy, removed once the layer is written


def build_layer(store: ImageStore, key: str, files: Callable[[], list[LayerFile]]) -> dict[str, str]:
    """The descriptor (`mediaType`, `digest`, `size`, `diff_id`) of the layer `key` names, built from `files()`
    only when the store does not hold it yet."""
    return cached(store, key, lambda: write_layer(store, files()))


def cached(store: ImageStore, key: str, build: Callable[[], dict[str, str]]) -> dict[str, str]:
    """The descriptor of the blob `key` names: the one recorded in the store while the store still holds its
    blob, else what `build()` writes (then recorded)."""
    index = store.root / "layers"
    index.mkdir(mode=0o700, exist_ok=True)
    record = index / f"{key}.json"
    if record.is_file():
        descriptor = json.loads(record.read_text())
        if store.has(descriptor["digest"]):
            return descriptor
    descriptor = build()
    fd, temp = tempfile.mkstemp(dir=store.root / "tmp")
    with os.fdopen(fd, "w") as out:
        json.dump(descriptor, out)
    os.replace(temp, record)
    return descriptor


def write_layer(store: ImageStore, files: list[LayerFile]) -> dict[str, str]:
    try:
        return write_tar(store, lambda tar: _add_all(tar, files))
    finally:
        for item in files:
            if item.cleanup and item.source is not None:
                item.source.unlink(missing_ok=True)


def write_tar(store: ImageStore, fill: Callable[[tarfile.TarFile], None]) -> dict[str, str]:
    """A reproducible tar.gz (no time in the gzip header) of what `fill` adds, stored under its digest."""
    plain = hashlib.sha256()
    packed = hashlib.sha256()
    fd, temp = tempfile.mkstemp(dir=store.root / "tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            sink = _Hashing(out, packed)
            with gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=1, mtime=0) as zipped:
                tee = _Hashing(zipped, plain)
                with tarfile.open(fileobj=tee, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    fill(tar)
        digest = "sha256:" + packed.hexdigest()
        size = os.path.getsize(temp)
        if not store.has(digest):
            store.adopt(Path(temp), digest)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return {"mediaType": LAYER_TYPE, "digest": digest, "size": size, "diff_id": "sha256:" + plain.hexdigest()}


def _add_all(tar: tarfile.TarFile, files: list[LayerFile]) -> None:
    folders = sorted({str(Path(f.name).parents[i]) for f in files for i in range(len(Path(f.name).parents) - 1)})
    for folder in folders:
        tar.addfile(tar_info(folder, tarfile.DIRTYPE, 0o755, 0))
    for item in sorted(files, key=lambda f: f.name):
        if item.data is not None:
            tar.addfile(tar_info(item.name, tarfile.REGTYPE, item.mode, len(item.data)), io.BytesIO(item.data))
        else:
            assert item.source is not None
            with item.source.open("rb") as stream:
                tar.addfile(tar_info(item.name, tarfile.REGTYPE, item.mode, os.fstat(stream.fileno()).st_size), stream)


def tar_info(name: str, kind: bytes, mode: int, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, _MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _Hashing(io.RawIOBase):
    """A write-only stream that hashes what passes through to `out`."""

    def __init__(self, out: io.IOBase | gzip.GzipFile, hasher: Any) -> None:
        super().__init__()
        self._out = out
        self._hasher = hasher

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._hasher.update(data)
        self._out.write(data)
        return len(data)
