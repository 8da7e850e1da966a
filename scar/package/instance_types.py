"""Which CPU architecture an AWS Batch `instanceTypes` entry launches, as far as its name tells: the supervisor
artifact (batch_runtime.py) holds the building machine's Python, so the instances must be of its architecture.

Graviton (arm64) families have a `g` right after their generation digits (m7g, c6gn, r8gd, x2gd, im4gn, g5g,
t4g) or are a1; Batch's own choices are `optimal` and `default_x86_64` (x86_64) and `default_arm64`. Every other
family is x86_64."""

from __future__ import annotations

import re

_ARM64 = re.compile(r"(a1|[a-z]+\d+g[a-z0-9-]*)")
_CHOICES = {"optimal": "amd64", "default_x86_64": "amd64", "default_arm64": "arm64"}


def instance_architecture(instance_type: str) -> str:
    """"arm64" or "amd64" (the OCI names, as machine.build_architecture gives them)."""
    if instance_type in _CHOICES:
        return _CHOICES[instance_type]
    family = instance_type.split(".", 1)[0]
    return "arm64" if _ARM64.fullmatch(family) else "amd64"


def mismatched(instance_types: list[str], architecture: str) -> list[str]:
    """The entries that would launch instances of another architecture than `architecture`."""
    return [name for name in instance_types if instance_architecture(name) != architecture]
