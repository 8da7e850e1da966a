"""Images from a file into the store: a `docker save` tarball (legacy or OCI layout) or an OCI layout folder,
read with the supervisor's image reader, its blobs copied into the store under their digests and described by
an OCI manifest (so that it can be pushed like any pulled image)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from scar.registry.client import OCI_MANIFEST, Manifest, digest_of
from scar.registry.errors import RegistryError
from scar.registry.store import ImageStore, StoredImage
from scar.supervisor.image import ImageError
from scar.supervisor.image.limits import size_limit
from scar.supervisor.image.manifest import read_info
from scar.supervisor.image.source import Source, compression, open_source

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
_COPY = 1 << 20


def import_archive(path: Path, store: ImageStore) -> StoredImage:
    """Copy the image at `path` into `store`; every layer's digest is checked against what the image says."""
    try:
        with open_source(Path(path), scratch=store.root / "tmp", limit=size_limit(None, store.root)) as source:
            info = read_info(source)
            config = _read(source, _config_name(source, info.digest), info.digest)
            layers = [_copy_layer(source, layer.path, layer.digest, layer.diff_id, store) for layer in info.layers]
    except ImageError as err:
        raise RegistryError(f"cannot use the image {path}: {err}") from None
    config_digest = store.put(config)
    document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
                "layers": layers}
    data = json.dumps(document, sort_keys=True).encode()
    store.put(data)
    return store.image(Manifest(data, OCI_MANIFEST, digest_of(data)).digest)


def _config_name(source: Source, digest: str) -> str:
    if source.exists("index.json"):
        return "blobs/sha256/" + digest.split(":", 1)[1]
    with source.open("manifest.json") as stream:
        return str(json.load(stream)[0]["Config"])


def _read(source: Source, name: str, digest: str) -> bytes:
    with source.open(name) as stream:
        data = stream.read()
    if digest_of(data) != digest:
        raise RegistryError(f"{source.label}: {name} does not match its digest {digest}")
    return data


def _copy_layer(source: Source, name: str, digest: str, diff_id: str, store: ImageStore) -> dict[str, Any]:
    """Copy one layer blob as it is stored; an uncompressed one must match its diff_id, any other its digest
    when the image names one (the extractor checks the uncompressed content of all of them)."""
    hasher = hashlib.sha256()
    size = 0
    head = b""
    fd, temp = tempfile.mkstemp(dir=store.root / "tmp")
    try:
        with os.fdopen(fd, "wb") as out, source.open(name) as stream:
            while chunk := stream.read(_COPY):
                head = head or chunk[:8]
                hasher.update(chunk)
                out.write(chunk)
                size += len(chunk)
        got = "sha256:" + hasher.hexdigest()
        kind = compression(head)
        expected = digest or (diff_id if kind is None else "")
        if expected and got != expected:
            raise RegistryError(f"{source.label}: layer {name} has digest {got}, the image says {expected}")
        if not store.has(got):
            store.adopt(Path(temp), got)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    if kind in ("bzip2", "xz"):
        raise RegistryError(f"{source.label}: layer {name} is {kind}-compressed, which registries do not carry; "
                            "save the image with plain or gzip layers")
    return {"mediaType": OCI_LAYER + {"gzip": "+gzip", "zstd": "+zstd"}.get(kind or "", ""), "digest": got,
            "size": size}
