"""Plans and their application: compare what is wanted with what exists, list the steps (create, update,
unchanged), run them, and undo what the run did if a step fails.

A `Step` holds its own action; applying records an undo for every change in a `Journal`, which is
unwound in reverse order on failure. Removal does not use plans: it is best effort and idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from scar.aws.errors import message_of
from scar.errors import ScarError

CREATE, UPDATE, UNCHANGED, DELETE = "create", "update", "unchanged", "delete"

Undo = Callable[[], None]


@dataclass
class Step:
    resource: str  # what the step is about, as people say it: "function scar-hello"
    action: str  # CREATE, UPDATE, UNCHANGED or DELETE
    detail: str = ""
    run: Callable[[Journal], None] | None = None  # does the work; records undos in the journal

    def describe(self) -> dict[str, str]:
        return {"Resource": self.resource, "Action": self.action, "Detail": self.detail}


@dataclass
class Journal:
    """Undo actions for what a run changed, unwound newest first."""

    entries: list[tuple[str, Undo]] = field(default_factory=list)

    def record(self, description: str, undo: Undo) -> None:
        self.entries.append((description, undo))

    def rollback(self) -> list[str]:
        """Undo everything recorded; returns what could not be undone, with why."""
        failures = []
        while self.entries:
            description, undo = self.entries.pop()
            try:
                undo()
            except Exception as err:  # noqa: BLE001 - keep undoing the rest, then report
                failures.append(f"{description}: {err}")
        return failures


class DeployFailed(ScarError):
    """A plan failed part-way and what it had changed was rolled back (or could not be)."""


@dataclass
class Plan:
    name: str
    steps: list[Step] = field(default_factory=list)

    @property
    def changes(self) -> list[Step]:
        return [step for step in self.steps if step.action != UNCHANGED]

    def apply(self) -> Journal:
        """Run every step; on failure undo this run's changes and raise DeployFailed naming the cause."""
        journal = Journal()
        for step in self.steps:
            if step.run is None:
                continue
            try:
                step.run(journal)
            except Exception as err:
                cause = message_of(err)
                leftovers = journal.rollback()
                message = f"could not {step.action} {step.resource}: {cause}; "
                if leftovers:
                    message += "rollback incomplete, left behind: " + "; ".join(leftovers)
                else:
                    message += "rolled back (what this run created was removed, changed configuration restored)"
                raise DeployFailed(message) from err
        return journal
