"""Read container images and extract their root filesystem safely, into a private cache.

Inputs: a `docker save` tarball, in the legacy format (`manifest.json` with `Config` and `Layers`) or the OCI
layout that Docker >= 25 writes (`oci-layout`, `index.json`, `blobs/`); plain, gzip, bzip2 or xz compressed; or an
OCI layout (or unpacked docker-save) folder. Layers may be plain, gzip, bzip2 or xz tars (zstd needs Python 3.14).
Standard library only (see ARCHITECTURE.md, principle 8).

- source.py: the tarball or folder, compression detection;
- manifest.py: manifests, index and platform choice, configuration, the digests layers must have;
- layers.py: one layer as a single-pass stream, verified against those digests;
- extract.py: safe extraction (never outside the root, never a privilege on the host);
- limits.py: the cap on the bytes one extraction writes;
- cache.py: cache folder rules, locking, publishing, stale partial folders.
"""

from .cache import extract_image, prepare_cache, remove_tree
from .extract import MOUNTPOINTS
from .limits import ENV_VARIABLE as MAX_SIZE_VARIABLE
from .manifest import load_image
from .model import ExtractedImage, ImageConfig, ImageError, ImageInfo, Layer

__all__ = ["MAX_SIZE_VARIABLE", "MOUNTPOINTS", "ExtractedImage", "ImageConfig", "ImageError", "ImageInfo", "Layer",
           "extract_image", "load_image", "prepare_cache", "remove_tree"]
