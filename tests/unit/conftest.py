"""Helpers shared by the unit tests: FDL and scar.cfg writers, and load_settings on a parsed command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scar.cli.parser import build_parser
from scar.config.defaults import default_config
from scar.config.loader import Settings, load_settings
from scar.config.merge import deep_merge
from tests.unit.support import dedent


@pytest.fixture
def write(isolated_env: Path) -> Callable[..., Path]:
    """Write dedented text to PATH (relative to the working directory); return the relative path."""

    def run(path: str | Path, text: str = "") -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dedent(text), encoding="utf-8")
        return target

    return run


@pytest.fixture
def cfg_file(isolated_env: Path) -> Path:
    """Where scar looks for scar.cfg by default in the isolated HOME."""
    return isolated_env / ".scar" / "scar.cfg"


@pytest.fixture
def write_cfg(cfg_file: Path) -> Callable[..., Path]:
    """Write a current-version scar.cfg: the defaults with `changes` merged on top."""

    def run(changes: dict[str, Any] | None = None, path: Path | None = None) -> Path:
        target = path or cfg_file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(deep_merge(default_config(), changes or {}), indent=2), encoding="utf-8")
        return target

    return run


@pytest.fixture
def load() -> Callable[..., Settings]:
    """`load("-f", "fdl.yaml", "-m", "1024", deploying=False)`: Settings of `scar validate ARGV`."""

    def run(*argv: str, deploying: bool = False, notices: list[str] | None = None) -> Settings:
        args = build_parser().parse_args(["validate", *[str(a) for a in argv]])
        sink = notices if notices is not None else []
        return load_settings(args, sink.append, deploying)

    return run
