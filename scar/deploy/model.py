"""Plans as data: resources with an identity, the steps that bring each to its wanted state, the differences
they make and the API calls they will send. Nothing here talks to a provider."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scar.deploy.kind import Kind

SECRET_MASK = "***"
UNKNOWN = "(known after apply)"


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    UNCHANGED = "unchanged"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ResourceId:
    """What a resource is and where: `kind` names its kind in the registry, `scope` its region and account
    (or cluster), `parent` the function it belongs to when it is part of one (a permission, a trigger)."""

    kind: str
    name: str
    scope: str
    parent: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.name}" + (f" of {self.parent}" if self.parent else "")


@dataclass(frozen=True)
class Ref:
    """A value that exists only once an earlier step has run (a new layer version's ARN, a function's ARN):
    the executor replaces it with output `output` of the step that applied `resource`."""

    resource: ResourceId
    output: str

    def __str__(self) -> str:
        return UNKNOWN


@dataclass(frozen=True)
class Change:
    """One field's difference; a secret field's values are never shown."""

    field: str
    old: Any
    new: Any
    secret: bool = False

    def describe(self) -> dict[str, Any]:
        if self.secret:
            return {"Field": self.field, "Old": None if self.old is None else SECRET_MASK, "New": SECRET_MASK}
        return {"Field": self.field, "Old": _shown(self.old), "New": _shown(self.new)}

    def text(self) -> str:
        if self.secret:
            return f"{self.field} (new value)" if self.old is not None else self.field
        if isinstance(self.old, (int, str, float)) and isinstance(self.new, (int, str, float)):
            return f"{self.field} {self.old} → {self.new}"
        return self.field


@dataclass(frozen=True)
class Call:
    """An API call a step will make, for `--dry-run -v`: parameters that carry data or secrets are left out."""

    service: str
    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"Service": self.service, "Operation": self.operation, "Parameters": _shown(dict(self.params))}


@dataclass
class Step:
    """One action on one resource. `current` is the state read while planning: undoing an update or a
    deletion puts it back. `known` holds outputs already known at planning time (an existing layer's ARN).
    `cleanup` steps run only once every other step has succeeded: their failure is reported, never undone
    (removing an object nothing uses any more)."""

    resource: ResourceId
    action: Action
    label: str
    kind: Kind = field(repr=False, compare=False)
    desired: Any = None
    current: Any = None
    changes: tuple[Change, ...] = ()
    detail: str = ""
    calls: tuple[Call, ...] = ()
    known: dict[str, Any] = field(default_factory=dict)
    cleanup: bool = False
    part: str = ""  # which part of the resource a kind with several kinds of step changes

    @property
    def changes_anything(self) -> bool:
        return self.action is not Action.UNCHANGED

    def summary(self) -> str:
        """The DETAIL column: what the kind says, or else what changes."""
        if not self.detail and self.changes:
            return ", ".join(change.text() for change in self.changes)
        return self.detail

    def describe(self, verbose: bool = False) -> dict[str, Any]:
        document: dict[str, Any] = {"Resource": self.label, "Kind": self.resource.kind, "Name": self.resource.name,
                                    "Action": str(self.action), "Detail": self.summary()}
        if self.changes:
            document["Changes"] = [change.describe() for change in self.changes]
        if verbose:
            document["Calls"] = [call.describe() for call in self.calls]
        return document


@dataclass
class Plan:
    """The ordered steps of one unit of work (a function, or the resources several functions share)."""

    name: str
    steps: list[Step] = field(default_factory=list)

    @property
    def changes(self) -> list[Step]:
        return [step for step in self.steps if step.changes_anything]

    def describe(self, verbose: bool = False) -> list[dict[str, Any]]:
        return [step.describe(verbose) for step in self.steps]


def outcome(plan: Plan | None, error: str | None, dry_run: bool, main_kind: str | None = None) -> str:
    """The result line of one unit of work: failed, up to date, or (would be) created or updated; "created"
    when a step creates its `main_kind` resource (any resource when None)."""
    if error or plan is None:
        return "failed"
    changes = plan.changes
    if not changes:
        return "up to date"
    creates = any(step.action is Action.CREATE and main_kind in (None, step.resource.kind) for step in changes)
    if dry_run:
        return "would be created" if creates else "would be updated"
    return "created" if creates else "updated"


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any], secret: frozenset[str] = frozenset(),
         known: Mapping[Ref, Any] | None = None) -> tuple[Change, ...]:
    """The fields of `new` whose value differs from `old`'s (a reference still unknown always differs)."""
    before = old or {}
    changes = []
    for name, wanted in new.items():
        resolved = resolve(wanted, known or {}, strict=False)
        if _has_ref(resolved) or before.get(name) != resolved:
            changes.append(Change(name, before.get(name), resolved, name in secret))
    return tuple(changes)


def resolve(value: Any, values: Mapping[Ref, Any], strict: bool = True) -> Any:
    """`value` with every `Ref` replaced by its value; `strict` raises on one not known yet."""
    if isinstance(value, Ref):
        if value in values:
            return values[value]
        if strict:
            raise LookupError(f"{value.resource} has no {value.output} yet")
        return value
    if isinstance(value, dict):
        return {key: resolve(item, values, strict) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(resolve(item, values, strict) for item in value)
    return value


def _has_ref(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, dict):
        return any(_has_ref(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_ref(item) for item in value)
    return False


def _shown(value: Any) -> Any:
    """`value` as JSON can hold it: references as "(known after apply)", bytes as their size."""
    if isinstance(value, Ref):
        return UNKNOWN
    if isinstance(value, (bytes, bytearray)):
        return f"({len(value)} bytes)"
    if isinstance(value, dict):
        return {str(key): _shown(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shown(item) for item in value]
    return value
