"""The building machine's architecture, the only one scar builds the supervisor's Python runtime for."""

from __future__ import annotations

import platform

_ARCHES = {"x86_64": "amd64", "aarch64": "arm64"}


def build_architecture() -> str:
    """The OCI architecture of the runtime this machine can build (its own)."""
    machine = platform.machine().lower()
    return _ARCHES.get(machine, machine)
