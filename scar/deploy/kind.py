"""The one interface every resource kind implements, and the registry that holds them.

A kind reads what exists, plans the change to what is wanted, applies it, undoes it, removes it, and lists
what scar owns of it. `init`, `rm`, `ls` and `--dry-run` all go through these methods; adding a kind means
one module with one `@register`ed class.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from scar.deploy.model import Action, Call, Ref, ResourceId, Step, diff


class NotUndoable(Exception):
    """An undo that cannot be done; the message says what stays changed."""


@dataclass(frozen=True)
class Resource:
    """A resource as the definition wants it."""

    id: ResourceId
    desired: Any


@dataclass(frozen=True)
class Stale:
    """A resource scar owns that the definition no longer wants: the sweeper plans its removal."""

    id: ResourceId


class Kind:
    """Base of the resource kinds. Subclasses set `kind`, and implement `read`, `create`, `delete` and,
    when a resource can change in place, `update`; `plan`, `apply`, `undo` and `removal` follow from them
    and may be overridden where a kind needs more than one kind of step."""

    kind: ClassVar[str]
    #: fields of the wanted state that hold secrets: shown as *** in every plan
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    #: fields compared to decide on an update (default: every field of the wanted state)
    compared: ClassVar[tuple[str, ...] | None] = None
    #: whether sweeping a stale resource waits until everything else succeeded (nothing can restore it)
    sweep_last: ClassVar[bool] = False

    # -- what each kind provides ---------------------------------------------------------------------

    def read(self, rid: ResourceId) -> Any | None:
        """The current state, in the shape of the wanted state, or None when the resource does not exist."""
        raise NotImplementedError

    def create(self, step: Step, desired: Any, outputs: dict[str, Any]) -> None:
        """Create the resource. Put its outputs (ARNs, ids, or just `created`) in `outputs` the moment it
        exists: the undo of a create that failed half-way removes only what `outputs` says was made."""
        raise NotImplementedError

    def update(self, step: Step, desired: Any, outputs: dict[str, Any]) -> None:
        """Change the resource in place to `desired` (also used to put back `step.current`)."""
        raise NotUndoable(f"{step.label} cannot be changed in place")

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        """Remove the resource; an absent one is fine. Sets `outputs["deleted"]` once it is gone."""
        raise NotImplementedError

    def delete_for_good(self, step: Step, outputs: dict[str, Any]) -> None:
        """Remove the resource where nothing will undo it (`rm`, a sweep): by default `delete`; a kind whose
        `delete` keeps what its undo would need (a secret, say) skips reading that here."""
        self.delete(step, outputs)

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"{rid.kind} {rid.name}"

    def describe(self, desired: Any) -> str:
        """A short description of what is wanted, for the plan's DETAIL column."""
        return ""

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        return ()

    def owned(self) -> list[tuple[ResourceId, Any]]:
        """Every resource of this kind that scar owns in this scope, each with what a listing shows of it
        (`ls` and `rm -a` list functions this way). Kinds whose resources belong to a function, and are found
        from it, list nothing here."""
        return []

    # -- derived behaviour ---------------------------------------------------------------------------

    def plan(self, resource: Resource, current: Any | None, known: Mapping[Ref, Any]) -> list[Step]:
        rid, desired = resource.id, resource.desired
        if current is None:
            return [self.step(rid, Action.CREATE, desired, None, detail=self.describe(desired))]
        wanted = {key: desired[key] for key in (self.compared or desired)}
        changes = diff({key: current.get(key) for key in wanted}, wanted, self.secret_fields, known)
        if not changes:
            return [self.step(rid, Action.UNCHANGED, desired, current, detail=self.describe(desired),
                              known=self.outputs_of(current))]
        return [self.step(rid, Action.UPDATE, desired, current, changes=changes)]

    def removal(self, rid: ResourceId, current: Any | None) -> list[Step]:
        """The steps that remove the resource (an UNCHANGED step says it is already absent)."""
        if current is None:
            return [self.step(rid, Action.UNCHANGED, None, None, detail="already absent")]
        return [self.step(rid, Action.DELETE, None, current)]

    def apply(self, step: Step, desired: Any, outputs: dict[str, Any], undoable: bool = True) -> None:
        """Carry out `step` with `desired` resolved, filling `outputs` for the undo and later steps."""
        if step.action is Action.CREATE:
            self.create(step, desired, outputs)
        elif step.action is Action.UPDATE:
            self.update(step, desired, outputs)
        elif step.action is Action.DELETE:
            (self.delete if undoable else self.delete_for_good)(step, outputs)

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        """Put back what `step` changed, even if it stopped half-way: delete what it created, restore what it
        updated (an idempotent call), re-create what it deleted."""
        if step.action is Action.CREATE and any(key not in step.known for key in outputs):
            self.delete(step, dict(outputs))
        elif step.action is Action.UPDATE:
            self.update(step, step.current, {})
        elif step.action is Action.DELETE and outputs.get("deleted"):
            self.create(step, step.current, {})

    def outputs_of(self, current: Any) -> dict[str, Any]:
        """The outputs of an existing resource that needs no change."""
        return {}

    def step(self, rid: ResourceId, action: Action, desired: Any, current: Any, **details: Any) -> Step:
        return Step(rid, action, self.label(rid, action), self, desired, current,
                    calls=self.calls(action, rid), **details)


KindFactory = Callable[[Any], Kind]
_REGISTRY: dict[str, dict[str, KindFactory]] = {}


def register(family: str) -> Callable[[type[Kind]], type[Kind]]:
    """Class decorator: make a kind known for a provider family ("aws", "oscar"); its constructor takes the
    provider (the clients and scope it works with)."""

    def add(cls: type[Kind]) -> type[Kind]:
        _REGISTRY.setdefault(family, {})[cls.kind] = cls
        return cls

    return add


class Kinds:
    """The registered kinds of one family, bound to one provider (built on first use)."""

    def __init__(self, family: str, provider: Any) -> None:
        self._factories = _REGISTRY.get(family, {})
        self._provider = provider
        self._built: dict[str, Kind] = {}
        self._lock = threading.Lock()

    def __getitem__(self, kind: str) -> Kind:
        with self._lock:  # functions are planned on several threads
            if kind not in self._built:
                self._built[kind] = self._factories[kind](self._provider)
            return self._built[kind]

    def names(self) -> list[str]:
        return sorted(self._factories)
