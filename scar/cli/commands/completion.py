"""`scar completion bash|zsh|fish`: a completion script for the shell, generated from scar's own parser."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from scar.errors import ScarError

if TYPE_CHECKING:
    from scar.cli.main import Context


def run(args: argparse.Namespace, ctx: Context) -> int:
    try:
        import shtab  # only here: `scar --help` must not pay for it
    except ImportError:
        raise ScarError("shell completion needs the shtab package: pip install shtab") from None
    from scar.cli.parser import build_parser

    parser = build_parser()
    _complete_paths(parser, shtab.FILE, shtab.DIRECTORY)
    print(shtab.complete(parser, shell=args.shell), end="")
    return 0


_FILES = frozenset({"FDL", "TAR", "PATH", "FILE"})
_DIRS = frozenset({"DIR"})


def _complete_paths(parser: argparse.ArgumentParser, files: dict[str, str], dirs: dict[str, str]) -> None:
    """Options whose value is a local file or folder complete file or folder names (shtab's `complete`)."""
    for action in parser._actions:  # argparse has no public way to walk its tree
        if action.metavar in _FILES:
            action.complete = files  # type: ignore[attr-defined]
        elif action.metavar in _DIRS:
            action.complete = dirs  # type: ignore[attr-defined]
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _complete_paths(sub, files, dirs)
