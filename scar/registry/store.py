"""The local image store: blobs under `~/.cache/scar/images/blobs/<algorithm>/<hex>`, named by their digest, and
for each image an OCI layout folder (index.json pointing at its manifest, `blobs` linked to the shared ones)
that the supervisor's extractor reads like any other image (its rootfs cache sits beside, in ../rootfs).

The store is private like the rootfs cache (the same folder rules): a blob is written to a temporary file in
the store and renamed into place only once its digest matched, so a blob present is a blob verified.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scar.config.defaults import cache_folder
from scar.registry.client import Manifest, digest_of
from scar.registry.errors import RegistryError
from scar.supervisor.image import ImageError, prepare_cache

_DIGEST = re.compile(r"^(sha256):([0-9a-f]{64})$")
_LAYOUT = b'{"imageLayoutVersion": "1.0.0"}'


@dataclass(frozen=True)
class StoredImage:
    """An image whose manifest, configuration and layers are all in the store."""

    manifest: Manifest
    config: dict[str, Any]  # the configuration's descriptor
    layers: tuple[dict[str, Any], ...]  # the layers' descriptors, bottom first
    layout: Path  # an OCI layout folder of this image

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def blobs(self) -> tuple[dict[str, Any], ...]:
        return (*self.layers, self.config)


def default_root() -> Path:
    return cache_folder() / "images"


class ImageStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(os.path.abspath(root or default_root()))
        try:
            prepare_cache(self.root)
            for folder in ("blobs", "blobs/sha256", "layouts", "tmp"):
                (self.root / folder).mkdir(mode=0o700, exist_ok=True)
        except (ImageError, OSError) as err:
            raise RegistryError(f"cannot use the image store {self.root}: {err}") from None

    def path(self, digest: str) -> Path:
        match = _DIGEST.match(digest)
        if match is None:
            raise RegistryError(f"unsupported or invalid digest {digest!r} (sha256 only)")
        return self.root / "blobs" / match.group(1) / match.group(2)

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def read(self, digest: str) -> bytes:
        try:
            return self.path(digest).read_bytes()
        except OSError as err:
            raise RegistryError(f"the image store has no blob {digest} ({err.strerror})") from None

    def put(self, data: bytes) -> str:
        """Store `data`; its digest."""
        digest = digest_of(data)
        if not self.has(digest):
            fd, name = tempfile.mkstemp(dir=self.root / "tmp")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(name, self.path(digest))
        return digest

    def download_target(self, digest: str) -> Path:
        """Where a download of `digest` is written before it is verified and moved into place."""
        return self.root / "tmp" / self.path(digest).name

    def adopt(self, downloaded: Path, digest: str) -> None:
        os.replace(downloaded, self.path(digest))

    def image(self, manifest_digest: str) -> StoredImage:
        """The stored image of `manifest_digest`; a RegistryError when any of its blobs is missing."""
        data = self.read(manifest_digest)
        manifest = _manifest(data, manifest_digest)
        document = manifest.document
        config, layers = document.get("config"), document.get("layers")
        if not isinstance(config, dict) or not isinstance(layers, list):
            raise RegistryError(f"{manifest_digest} is not an image manifest (no config or layers)")
        missing = [d["digest"] for d in [config, *layers] if not self.has(str(d.get("digest")))]
        if missing:
            raise RegistryError(f"the stored image {manifest_digest} lacks {len(missing)} blob(s)")
        return StoredImage(manifest, config, tuple(layers), self._layout(manifest))

    def config(self, image: StoredImage) -> dict[str, Any]:
        return json.loads(self.read(image.config["digest"]))

    def _layout(self, manifest: Manifest) -> Path:
        folder = self.root / "layouts" / manifest.digest.split(":", 1)[1]
        if not (folder / "index.json").is_file():
            partial = Path(tempfile.mkdtemp(dir=self.root / "tmp"))
            (partial / "oci-layout").write_bytes(_LAYOUT)
            (partial / "blobs").symlink_to(self.root / "blobs")
            index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
                {"mediaType": manifest.media_type, "digest": manifest.digest, "size": len(manifest.data)}]}
            (partial / "index.json").write_text(json.dumps(index))
            try:
                os.rename(partial, folder)
            except OSError:  # made meanwhile by another run
                for name in ("oci-layout", "blobs", "index.json"):
                    (partial / name).unlink()
                partial.rmdir()
        return folder


def _manifest(data: bytes, digest: str) -> Manifest:
    try:
        document = json.loads(data)
    except ValueError:
        raise RegistryError(f"the stored manifest {digest} is not JSON") from None
    return Manifest(data, str(document.get("mediaType") or "application/vnd.oci.image.manifest.v1+json"), digest)
