"""Choosing one image of a multi-platform index: Lambda's architectures as OCI platforms."""

from __future__ import annotations

import platform as platform_module
from dataclasses import dataclass
from typing import Any

from scar.registry.errors import RegistryError

_LAMBDA_ARCHES = {"x86_64": "amd64", "arm64": "arm64"}


@dataclass(frozen=True)
class Platform:
    architecture: str = "amd64"
    os: str = "linux"

    def __str__(self) -> str:
        return f"{self.os}/{self.architecture}"


def lambda_platform(architecture: str) -> Platform:
    """The platform of a Lambda architecture (`x86_64` or `arm64`)."""
    return Platform(_LAMBDA_ARCHES.get(architecture, architecture))


def choose(index: dict[str, Any], platform: Platform, label: str) -> dict[str, Any]:
    """The descriptor of `platform`'s image in `index`; attestation manifests are never chosen."""
    found = []
    for descriptor in index.get("manifests") or []:
        if not isinstance(descriptor, dict):
            continue
        wanted = descriptor.get("platform") or {}
        if wanted.get("architecture") in (None, "unknown"):
            continue
        found.append(f"{wanted.get('os', '?')}/{wanted.get('architecture')}")
        if wanted.get("os") == platform.os and wanted.get("architecture") == platform.architecture:
            return descriptor
    raise RegistryError(f"{label} has no {platform} image (it has {', '.join(found) or 'none'})")


def host_platform() -> Platform:
    """This machine's platform (what a local run can execute)."""
    machine = platform_module.machine().lower()
    return Platform({"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine))
