"""Asking before something big: yes with -y, a question on a terminal, never a wait on a pipe."""

from __future__ import annotations

import sys

from scar.errors import BadInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from scar.cli.main import Context


def confirm(ctx: Context, what: str, question: str, refused: str) -> None:
    """Go on with -y; ask `question` on a terminal; without one, fail saying `what` and how to confirm."""
    if ctx.args.yes:
        return
    if not sys.stdin.isatty():
        raise BadInputError(f"{what}: pass -y to confirm (no terminal to ask on)")
    ctx.output.hint(what)
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise BadInputError(refused)
