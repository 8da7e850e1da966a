"""Reading what an image is: the docker-save manifest or the OCI index (choosing the host's platform among several),
the configuration, and the digest every layer must have."""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import tempfile
from pathlib import Path
from typing import Any

from .digests import digest_of, parse_digest
from .limits import size_limit
from .model import ImageConfig, ImageError, ImageInfo, Layer
from .source import HAS_ZSTD, Source, open_source, zstd_message

log = logging.getLogger(__name__)

_INDEX_TYPES = {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
           "armv6l": "arm", "i386": "386", "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x",
           "riscv64": "riscv64"}


def load_image(path: Path) -> ImageInfo:
    """Read the manifest and configuration of the image at `path` (tarball or folder)."""
    scratch = Path(tempfile.gettempdir())
    with open_source(Path(path), scratch=None, limit=size_limit(None, scratch)) as source:
        return read_info(source)


def read_info(source: Source) -> ImageInfo:
    if source.exists("index.json"):
        return _read_oci(source)
    if source.exists("manifest.json"):
        return _read_docker(source)
    raise ImageError(f"{source.label}: neither manifest.json (docker save) nor index.json (OCI layout) found")


def _read_docker(source: Source) -> ImageInfo:
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
    # The legacy format names no digest of the stored layer files: the configuration's diff_ids cover them.
    return _image_info(source, config, "", [(name, "", "") for name in layers], "docker")


def _read_oci(source: Source) -> ImageInfo:
    manifest = _pick_manifest(source, _json(source, "index.json"), depth=0)
    config = manifest.get("config")
    layers = manifest.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise ImageError(f"{source.label}: the image manifest has no config or layers")
    refs = [(_blob(source, d), str(d.get("mediaType", "")), str(d["digest"])) for d in layers if isinstance(d, dict)]
    return _image_info(source, _blob(source, config), str(config["digest"]), refs, "oci")


def _pick_manifest(source: Source, index: Any, depth: int) -> dict[str, Any]:
    """Follow index.json (and nested indexes) to one image manifest, choosing the platform when several."""
    if depth > 4 or not isinstance(index, dict):
        raise ImageError(f"{source.label}: invalid or too deeply nested image index")
    entries = [d for d in index.get("manifests") or [] if isinstance(d, dict) and not _is_attestation(d)]
    present = [d for d in entries if source.exists(_blob(source, d))]
    if not present:
        raise ImageError(f"{source.label}: the image index lists no manifest that the image contains")
    chosen = _by_platform(source, present)
    document = _json(source, _blob(source, chosen), str(chosen["digest"]))
    if not isinstance(document, dict):
        raise ImageError(f"{source.label}: invalid manifest {chosen.get('digest')}")
    if chosen.get("mediaType") in _INDEX_TYPES or document.get("mediaType") in _INDEX_TYPES or "manifests" in document:
        return _pick_manifest(source, document, depth + 1)
    return document


def _is_attestation(descriptor: dict[str, Any]) -> bool:
    annotations = descriptor.get("annotations") or {}
    platform_ = descriptor.get("platform") or {}
    return "vnd.docker.reference.type" in annotations or platform_.get("architecture") == "unknown"


def _by_platform(source: Source, descriptors: list[dict[str, Any]]) -> dict[str, Any]:
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


def _blob(source: Source, descriptor: dict[str, Any]) -> str:
    algorithm, hexdigest = parse_digest(descriptor.get("digest"), source.label)
    return f"blobs/{algorithm}/{hexdigest}"


def _read_verified(source: Source, name: str, digest: str) -> bytes:
    """The content of `name`, checked against `digest` ("<algorithm>:<hex>") unless that is empty."""
    with source.open(name) as stream:
        data = stream.read()
    if digest and digest_of(data, parse_digest(digest, source.label)[0]) != digest:
        raise ImageError(f"{source.label}: {name} does not match its digest {digest}: the image is corrupt or altered")
    return data


def _image_info(source: Source, config_path: str, config_digest: str, layers: list[tuple[str, str, str]],
                fmt: str) -> ImageInfo:
    raw = _read_verified(source, config_path, config_digest)
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise ImageError(f"{source.label}: the image configuration is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise ImageError(f"{source.label}: the image configuration is not a JSON object")
    if document.get("os", "linux") != "linux":
        raise ImageError(f"{source.label}: a {document.get('os')} image cannot run here (linux only)")
    rootfs = document.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or len(diff_ids) != len(layers):
        count = len(diff_ids) if isinstance(diff_ids, list) else 0
        raise ImageError(f"{source.label}: the image configuration lists {count} rootfs.diff_ids for "
                         f"{len(layers)} layers: the layers cannot be verified")
    for diff_id in diff_ids:
        parse_digest(diff_id, f"{source.label}: rootfs.diff_ids")
    checked = tuple(Layer(path, media_type, diff_id, digest)
                    for (path, media_type, digest), diff_id in zip(layers, diff_ids, strict=True))
    for layer in checked:
        _check_layer(source, layer)
    return ImageInfo("sha256:" + hashlib.sha256(raw).hexdigest(), _image_config(document.get("config") or {}),
                     checked, fmt, str(document.get("architecture", "")), str(document.get("os", "")))


def _check_layer(source: Source, layer: Layer) -> None:
    if "zstd" in layer.media_type and not HAS_ZSTD:
        raise ImageError(zstd_message(f"{source.label}: layer {layer.path}"))
    if not source.exists(layer.path):
        raise ImageError(f"{source.label}: layer {layer.path} is missing from the image")


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


def _json(source: Source, name: str, digest: str = "") -> Any:
    data = _read_verified(source, name, digest)
    try:
        return json.loads(data)
    except ValueError as error:
        raise ImageError(f"{source.label}: {name} is not valid JSON: {error}") from error
