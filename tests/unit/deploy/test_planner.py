"""Planning without a provider: the in-memory kinds of tests/unit/deploy/memory.py stand for the cloud."""

from __future__ import annotations

import json

import pytest

from scar.deploy.kind import Resource, Stale
from scar.deploy.model import SECRET_MASK, UNKNOWN, Action, Change, Ref, diff, resolve
from scar.deploy.planner import known_values, plan_resources
from tests.unit.deploy.memory import Cloud, item, kinds_for, swept


@pytest.fixture
def cloud() -> Cloud:
    return Cloud()


def plan(cloud: Cloud, *entries: Resource | Stale, known: dict[Ref, object] | None = None):
    return plan_resources("test", kinds_for(cloud), entries, known)


def test_create_update_unchanged(cloud: Cloud) -> None:
    cloud.items["item", "same"] = {"size": 1, "Arn": "arn:item:same"}
    cloud.items["item", "old"] = {"size": 1, "colour": "red", "Arn": "arn:item:old"}
    result = plan(cloud, Resource(item("new"), {"size": 2}), Resource(item("same"), {"size": 1}),
                  Resource(item("old"), {"size": 3, "colour": "red"}))
    assert [(s.resource.name, s.action) for s in result.steps] == [
        ("new", Action.CREATE), ("same", Action.UNCHANGED), ("old", Action.UPDATE)]
    assert [s.resource.name for s in result.changes] == ["new", "old"]
    create, unchanged, update = result.steps
    assert create.current is None and create.desired == {"size": 2} and create.detail == "1 fields"
    assert unchanged.known == {"Arn": "arn:item:same"}  # an unchanged resource's outputs are known at once
    assert update.current == cloud.items["item", "old"]  # what an undo puts back
    assert update.changes == (Change("size", 1, 3),)  # only what differs, old → new
    assert update.summary() == "size 1 → 3"
    assert update.describe() == {"Resource": "item old", "Kind": "item", "Name": "old", "Action": "update",
                                 "Detail": "size 1 → 3", "Changes": [{"Field": "size", "Old": 1, "New": 3}]}
    assert update.describe(verbose=True)["Calls"] == [
        {"Service": "memory", "Operation": "update", "Parameters": {"Name": "old"}}]
    assert unchanged.calls == ()


def test_a_field_not_set_before_is_a_change_from_none(cloud: Cloud) -> None:
    cloud.items["item", "a"] = {"size": 1, "Arn": "arn:item:a"}
    step = plan(cloud, Resource(item("a"), {"size": 1, "colour": "blue"})).steps[0]
    assert step.action is Action.UPDATE
    assert step.changes == (Change("colour", None, "blue"),)
    assert step.describe()["Changes"] == [{"Field": "colour", "Old": None, "New": "blue"}]


def test_secrets_are_masked_in_every_rendering(cloud: Cloud) -> None:
    cloud.items["item", "db"] = {"password": "old-hunter2", "size": 1, "Arn": "arn:item:db"}
    result = plan(cloud, Resource(item("db"), {"password": "new-hunter2", "size": 2}),
                  Resource(item("fresh"), {"password": "first-hunter2"}))
    step = result.steps[0]
    secret = next(c for c in step.changes if c.field == "password")
    assert secret.secret
    assert secret.describe() == {"Field": "password", "Old": SECRET_MASK, "New": SECRET_MASK}
    assert secret.text() == "password (new value)"
    shown = json.dumps(result.describe(verbose=True)) + "".join(s.summary() for s in result.steps)
    assert "hunter2" not in shown
    assert "size 1 → 2" in step.summary()
    assert Change("password", None, "x", secret=True).describe() == {"Field": "password", "Old": None,
                                                                    "New": SECRET_MASK}
    assert Change("password", None, "x", secret=True).text() == "password"


def test_an_unknown_reference_always_makes_a_difference(cloud: Cloud) -> None:
    cloud.items["item", "user"] = {"target": "arn:item:maker", "Arn": "arn:item:user"}
    result = plan(cloud, Resource(item("maker"), {"size": 1}),
                  Resource(item("user"), {"target": Ref(item("maker"), "Arn")}))
    step = result.steps[1]
    assert step.action is Action.UPDATE  # the value may well be the same, but it is not known yet
    assert step.changes == (Change("target", "arn:item:maker", Ref(item("maker"), "Arn")),)
    assert step.describe()["Changes"] == [{"Field": "target", "Old": "arn:item:maker", "New": UNKNOWN}]
    assert str(Ref(item("maker"), "Arn")) == UNKNOWN
    nested = diff({"list": ["a"]}, {"list": [Ref(item("maker"), "Arn")]})
    assert [c.field for c in nested] == ["list"]
    assert nested[0].describe()["New"] == [UNKNOWN]


def test_known_values_resolve_within_a_plan_and_from_another(cloud: Cloud) -> None:
    cloud.items["item", "maker"] = {"size": 1, "Arn": "arn:item:maker"}
    cloud.items["item", "user"] = {"target": "arn:item:maker", "Arn": "arn:item:user"}
    user = Resource(item("user"), {"target": Ref(item("maker"), "Arn")})
    within = plan(cloud, Resource(item("maker"), {"size": 1}), user)
    assert [s.action for s in within.steps] == [Action.UNCHANGED, Action.UNCHANGED]
    alone = plan(cloud, user)
    assert alone.steps[0].action is Action.UPDATE
    other = plan(cloud, user, known=known_values(within))
    assert other.steps[0].action is Action.UNCHANGED
    assert known_values(within) == {Ref(item("maker"), "Arn"): "arn:item:maker",
                                    Ref(item("user"), "Arn"): "arn:item:user"}


def test_resolve() -> None:
    ref = Ref(item("a"), "Arn")
    values = {ref: "arn:a"}
    assert resolve({"x": [ref, (ref, 1)], "y": "plain"}, values) == {"x": ["arn:a", ("arn:a", 1)], "y": "plain"}
    with pytest.raises(LookupError, match="item a has no Other yet"):
        resolve([Ref(item("a"), "Other")], values)
    assert resolve([Ref(item("a"), "Other")], values, strict=False) == [Ref(item("a"), "Other")]


def test_stale_entries_become_delete_steps_in_place_and_absent_ones_vanish(cloud: Cloud) -> None:
    cloud.items["item", "gone-soon"] = {"size": 1, "Arn": "arn:item:gone-soon"}
    result = plan(cloud, Resource(item("first"), {}), Stale(item("gone-soon")), Stale(item("never-was")),
                  Resource(item("last"), {}))
    assert [(s.resource.name, s.action) for s in result.steps] == [
        ("first", Action.CREATE), ("gone-soon", Action.DELETE), ("last", Action.CREATE)]
    delete = result.steps[1]
    assert delete.detail == "no longer wanted" and not delete.cleanup
    assert delete.current == cloud.items["item", "gone-soon"]


def test_sweep_last_kinds_go_to_the_end_as_cleanup_in_order(cloud: Cloud) -> None:
    for name in ("s1", "s2"):
        cloud.items["swept", name] = {"Arn": f"arn:swept:{name}"}
    cloud.items["item", "old"] = {"Arn": "arn:item:old"}
    result = plan(cloud, Stale(swept("s2")), Resource(item("a"), {}), Stale(swept("s1")), Stale(item("old")),
                  Resource(item("b"), {}))
    assert [(s.resource.kind, s.resource.name, s.action, s.cleanup) for s in result.steps] == [
        ("item", "a", Action.CREATE, False), ("item", "old", Action.DELETE, False),
        ("item", "b", Action.CREATE, False),
        ("swept", "s2", Action.DELETE, True), ("swept", "s1", Action.DELETE, True)]


def test_removal_of_what_is_absent_is_an_unchanged_step(cloud: Cloud) -> None:
    kind = kinds_for(cloud)["item"]
    (step,) = kind.removal(item("nothing"), None)
    assert step.action is Action.UNCHANGED and step.detail == "already absent" and not step.changes_anything
