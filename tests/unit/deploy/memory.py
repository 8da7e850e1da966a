"""An in-memory provider for the deploy engine's tests: a dict plays the cloud, and faults or hooks can be set
on any call (before the call does anything, or after it did its work, to leave a step half done)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from scar.deploy.kind import Kind, Kinds, register
from scar.deploy.model import Action, Call, ResourceId, Step

FAMILY = "memory-test"
SCOPE = "memory"
Hook = Callable[[], None]


class Cloud:
    """Resources by (kind, name), and the log of every call made, in order."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.log: list[tuple[str, str]] = []
        self._hooks: dict[tuple[str, str, int], Hook] = {}
        self._counts: dict[tuple[str, str], int] = {}

    def when(self, point: str, name: str, hook: Hook | BaseException, call: int = 1) -> None:
        """Run `hook` (or raise it) at the `call`-th time `point` is reached for `name`. Points are the call
        (create, update, delete) before it does anything, and `<call>d` (created, ...) once it did its work."""
        self._hooks[point, name, call] = hook if callable(hook) else _raiser(hook)

    def reach(self, point: str, name: str) -> None:
        count = self._counts[point, name] = self._counts.get((point, name), 0) + 1
        hook = self._hooks.get((point, name, count))
        if hook is not None:
            hook()

    def snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        return copy.deepcopy(self.items)


def _raiser(error: BaseException) -> Hook:
    def hook() -> None:
        raise error

    return hook


@register(FAMILY)
class Item(Kind):
    """A resource whose state is a dict; it holds its `Arn` once created. `password` is a secret field."""

    kind = "item"
    secret_fields = frozenset({"password"})

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        state = self.cloud.items.get((self.kind, rid.name))
        return None if state is None else copy.deepcopy(state)

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        return (Call("memory", f"{action}", {"Name": rid.name}),) if action is not Action.UNCHANGED else ()

    def describe(self, desired: Any) -> str:
        return f"{len(desired)} fields" if desired else ""

    def _do(self, call: str, step: Step, work: Callable[[str], None]) -> None:
        name = step.resource.name
        self.cloud.log.append((call, name))
        self.cloud.reach(call, name)
        work(name)
        self.cloud.reach(f"{call}d", name)

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        def work(name: str) -> None:
            arn = f"arn:{self.kind}:{name}"
            self.cloud.items[self.kind, name] = {**copy.deepcopy(desired), "Arn": arn}
            outputs["Arn"] = arn

        self._do("create", step, work)

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        def work(name: str) -> None:
            self.cloud.items[self.kind, name] = {**copy.deepcopy(desired), "Arn": f"arn:{self.kind}:{name}"}

        self._do("update", step, work)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        def work(name: str) -> None:
            self.cloud.items.pop((self.kind, name), None)
            outputs["deleted"] = True

        self._do("delete", step, work)

    def outputs_of(self, current: dict[str, Any]) -> dict[str, Any]:
        return {"Arn": current["Arn"]}


@register(FAMILY)
class Swept(Item):
    """Like Item, but nothing can restore one once removed: the sweeper removes it last, as cleanup."""

    kind = "swept"
    sweep_last = True


def item(name: str) -> ResourceId:
    return ResourceId(Item.kind, name, SCOPE)


def swept(name: str) -> ResourceId:
    return ResourceId(Swept.kind, name, SCOPE)


def kinds_for(cloud: Cloud) -> Kinds:
    return Kinds(FAMILY, cloud)
