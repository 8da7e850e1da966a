"""Applying plans: every change is journaled with what undoes it, and on any failure or interruption the
journal is unwound newest first. What could not be undone is reported by name, never dropped."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from scar.deploy.model import Action, Plan, Ref, Step, resolve
from scar.errors import EXIT_INTERRUPTED, ScarError


class DeployFailed(ScarError):
    """A plan failed part-way; what it had changed was rolled back, except `leftovers`."""

    def __init__(self, message: str, leftovers: list[str]) -> None:
        super().__init__(message)
        self.leftovers = leftovers


class DeployInterrupted(DeployFailed):
    """Ctrl-C or SIGTERM stopped a plan; what it had changed was rolled back, except `leftovers`."""

    exit_code = EXIT_INTERRUPTED


class Cancelled(Exception):
    """Raised between steps once an interruption was asked for."""


def plain_message(err: Exception) -> str:
    """A scar error's own message, otherwise the exception's type and text."""
    return err.message if isinstance(err, ScarError) else f"{type(err).__name__}: {err}"


def rollback_message(leftovers: list[str]) -> str:
    if leftovers:
        return "rollback incomplete, left behind: " + "; ".join(leftovers)
    return "rolled back (what this run created was removed, what it changed was restored)"


class Executor:
    """Runs the steps of plans, resolving references with the outputs of the steps before them.

    `values` starts with what other plans produced (the shared layer's ARN); `cancel` is checked before
    every step. A failed step is undone too, so every kind's undo tolerates work that was only partly done.
    """

    def __init__(self, values: Mapping[Ref, Any] | None = None, cancel: threading.Event | None = None,
                 describe: Callable[[Exception], str] = plain_message) -> None:
        """`describe` turns a provider's exception into the message users read."""
        self.describe = describe
        self.values: dict[Ref, Any] = dict(values or {})
        self.cancel = cancel or threading.Event()
        self.journal: list[tuple[Step, dict[str, Any]]] = []
        self.cleanup_failures: list[str] = []

    def run(self, plan: Plan) -> None:
        """Apply `plan`; on failure roll back this executor's journal and raise DeployFailed (or
        DeployInterrupted). Cleanup steps run last; their failures land in `cleanup_failures`."""
        for step in (s for s in plan.steps if not s.cleanup):
            try:
                if self.cancel.is_set():
                    raise Cancelled
                self._apply(step)
            except (Cancelled, KeyboardInterrupt):
                leftovers = self.rollback()
                raise DeployInterrupted(f"{plan.name}: interrupted; {rollback_message(leftovers)}",
                                        leftovers) from None
            except Exception as err:
                leftovers = self.rollback()
                raise DeployFailed(f"could not {step.action} {step.label}: {self.describe(err)}; "
                                   f"{rollback_message(leftovers)}", leftovers) from err
        for step in (s for s in plan.steps if s.cleanup):
            try:
                self._apply(step, journaled=False)  # a sweep is never undone, not even by a later rollback
            except Exception as err:  # noqa: BLE001 - nothing to undo: report what stays behind
                self.cleanup_failures.append(f"{step.label}: {self.describe(err)}")

    def _apply(self, step: Step, journaled: bool = True) -> None:
        outputs: dict[str, Any] = dict(step.known)
        if step.action is not Action.UNCHANGED:
            desired = resolve(step.desired, self.values)
            if journaled:
                self.journal.append((step, outputs))  # before the call: a step that fails half-way is undone too
            step.kind.apply(step, desired, outputs, undoable=journaled)
        self.values.update({Ref(step.resource, key): value for key, value in outputs.items()})

    def rollback(self) -> list[str]:
        """Undo everything journaled, newest first; what could not be undone, with why."""
        leftovers = []
        while self.journal:
            step, outputs = self.journal.pop()
            try:
                step.kind.undo(step, outputs)
            except Exception as err:  # noqa: BLE001 - keep undoing the rest, then report
                leftovers.append(f"{step.label}: {self.describe(err)}")
        return leftovers


REMOVED, ABSENT, WOULD_REMOVE = "removed", "already absent", "would be removed"


def carry_out_removal(step: Step, dry_run: bool) -> str:
    """One step of a removal (`rm` is best effort and never rolled back): what became of its resource."""
    if step.action is Action.UNCHANGED:
        return ABSENT
    if dry_run:
        return WOULD_REMOVE
    outputs: dict[str, Any] = {}
    step.kind.apply(step, None, outputs, undoable=False)
    return REMOVED if outputs.get("deleted") else "kept (in use again)"
