"""Registry failures as values the CLI can print: the registry's own error code and message when it gave one."""

from __future__ import annotations

from typing import Any

from scar.errors import ScarError


class RegistryError(ScarError):
    """A registry request failed, or what it sent is not what it claimed."""

    def __init__(self, message: str, code: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class DigestMismatch(RegistryError):
    """Downloaded bytes whose digest differs from the one asked for: nothing is kept."""


def describe(response: Any, what: str) -> RegistryError:
    """A RegistryError for an unexpected answer, from the `{"errors": [...]}` document the API defines."""
    code, detail = "", ""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    if errors and isinstance(errors[0], dict):
        code = str(errors[0].get("code", ""))
        detail = str(errors[0].get("message", ""))
    if response.status_code == 401:
        code, detail = code or "UNAUTHORIZED", "the registry refused the credentials, or needs some (docker login)"
    reason = f"{code}: {detail}" if code else f"HTTP {response.status_code} {response.reason or ''}".strip()
    return RegistryError(f"{what}: {reason}", code, response.status_code)
