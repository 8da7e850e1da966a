"""Where a configuration value came from, so that every message can name its file, line and key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: A position in a configuration tree: mapping keys and list indexes.
KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """`("functions", "aws", 1, "lambda", "memory")` → `functions.aws[1].lambda.memory`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Origin:
    """A value's source: a file (with its key path and, for YAML, its line) or a command-line flag."""

    source: str
    key: str
    line: int | None = None
    folder: Path | None = None  # what relative paths in this source are relative to

    def describe(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.key}"


def file_origin(file: Path, path: KeyPath, line: int | None = None) -> Origin:
    return Origin(str(file), format_path(path), line, file.parent)


def flag_origin(flag: str) -> Origin:
    return Origin("command line", flag, None, Path.cwd())


def env_origin(variable: str) -> Origin:
    return Origin("environment", variable, None, Path.cwd())
