"""From what a definition wants to a plan: read each resource's current state, let its kind plan the change,
and sweep what scar owns but the definition no longer wants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scar.deploy.kind import Kinds, Resource, Stale
from scar.deploy.model import Action, Plan, Ref, Step


def plan_resources(name: str, kinds: Kinds, entries: Iterable[Resource | Stale],
                   known: Mapping[Ref, Any] | None = None) -> Plan:
    """The plan for `entries`, in their order. `known` holds values other plans already know (an unchanged
    shared layer's ARN); the outputs of this plan's unchanged steps are added as they are found."""
    values: dict[Ref, Any] = dict(known or {})
    plan = Plan(name)
    cleanup: list[Step] = []
    for entry in entries:
        kind = kinds[entry.id.kind]
        current = kind.read(entry.id)
        if isinstance(entry, Stale):
            steps = [step for step in kind.removal(entry.id, current) if step.action is Action.DELETE]
            for step in steps:
                step.detail = step.detail or "no longer wanted"
                step.cleanup = kind.sweep_last
            (cleanup if kind.sweep_last else plan.steps).extend(steps)
            continue
        for step in kind.plan(entry, current, values):
            values.update({Ref(step.resource, key): value for key, value in step.known.items()})
            plan.steps.append(step)
    plan.steps.extend(cleanup)
    return plan


def known_values(plan: Plan) -> dict[Ref, Any]:
    """The outputs `plan` already knows without running (its unchanged steps')."""
    return {Ref(step.resource, key): value for step in plan.steps for key, value in step.known.items()}
