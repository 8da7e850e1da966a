"""Plain helpers (not fixtures) for the unit tests."""

from __future__ import annotations

import textwrap

ROLE = "arn:aws:iam::123456789012:role/scar-role"
ERROR = "scar: error: "


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def errors(stderr: str) -> list[str]:
    """The `scar: error: ` lines of stderr, without that prefix; every other line must be a notice."""
    lines = stderr.splitlines()
    assert all(line.startswith("scar: ") for line in lines), stderr
    return [line[len(ERROR):] for line in lines if line.startswith(ERROR)]
