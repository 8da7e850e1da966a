"""What reading an image produces: its configuration, its layers with their expected digests, and the error."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

#: Bumped whenever what a cache entry holds, or how it was checked, changes: older entries are never reused.
CACHE_FORMAT = "scar-rootfs-v2"


class ImageError(Exception):
    """The image cannot be read, is not supported, is not what its manifest says, or cannot be extracted; the
    message says why."""


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
    diff_id: str  # "<algorithm>:<hex>" of the uncompressed tar, from the configuration's rootfs.diff_ids
    digest: str = ""  # "<algorithm>:<hex>" of the stored bytes, from the OCI manifest; empty when unknown (legacy)


@dataclass(frozen=True)
class ImageInfo:
    digest: str  # "sha256:<hex>" of the config blob: identifies the image (its layers' diff_ids included)
    config: ImageConfig
    layers: tuple[Layer, ...]  # bottom first
    format: str  # "docker" (legacy manifest.json) or "oci" (index.json)
    architecture: str
    os: str

    @property
    def cache_key(self) -> str:
        """The cache entry's name: the configuration and the ordered layer contents it was verified against."""
        text = "\n".join([CACHE_FORMAT, self.digest, *(layer.diff_id for layer in self.layers)])
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ExtractedImage:
    rootfs: Path  # cache_root/<cache key>/rootfs
    config: ImageConfig
    digest: str
