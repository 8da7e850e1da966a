"""The executor on the in-memory cloud: references resolved, every change undone newest first on any failure
or interruption (the failing step's partial work included), undo failures reported by name."""

from __future__ import annotations

import threading

import pytest

from scar.deploy.executor import DeployFailed, DeployInterrupted, Executor, rollback_message
from scar.deploy.kind import Resource, Stale
from scar.deploy.model import Action, Plan, Ref
from scar.deploy.planner import plan_resources
from scar.errors import EXIT_FAILED, EXIT_INTERRUPTED
from tests.unit.deploy.memory import Cloud, item, kinds_for, swept

ROLLED_BACK = rollback_message([])


@pytest.fixture
def cloud() -> Cloud:
    """An account with three resources: `kept` is left alone, `changed` updated and `dropped` deleted."""
    cloud = Cloud()
    cloud.items["item", "kept"] = {"size": 1, "Arn": "arn:item:kept"}
    cloud.items["item", "changed"] = {"size": 1, "colour": "red", "Arn": "arn:item:changed"}
    cloud.items["item", "dropped"] = {"size": 9, "Arn": "arn:item:dropped"}
    return cloud


def full_plan(cloud: Cloud) -> Plan:
    """create a, keep `kept`, update `changed`, delete `dropped`, create b (pointing at a), create c."""
    return plan_resources("test", kinds_for(cloud), [
        Resource(item("a"), {"size": 2}),
        Resource(item("kept"), {"size": 1}),
        Resource(item("changed"), {"size": 5, "colour": "blue"}),
        Stale(item("dropped")),
        Resource(item("b"), {"target": Ref(item("a"), "Arn"), "kept": Ref(item("kept"), "Arn")}),
        Resource(item("c"), {"size": 3}),
    ])


FORWARD = [("create", "a"), ("update", "changed"), ("delete", "dropped"), ("create", "b"), ("create", "c")]


def test_success_resolves_references_from_earlier_steps(cloud: Cloud) -> None:
    executor = Executor()
    executor.run(full_plan(cloud))
    assert cloud.log == FORWARD
    assert cloud.items["item", "b"] == {"target": "arn:item:a", "kept": "arn:item:kept", "Arn": "arn:item:b"}
    assert cloud.items["item", "changed"] == {"size": 5, "colour": "blue", "Arn": "arn:item:changed"}
    assert ("item", "dropped") not in cloud.items
    assert executor.values[Ref(item("c"), "Arn")] == "arn:item:c"
    assert executor.values[Ref(item("kept"), "Arn")] == "arn:item:kept"  # an unchanged step's outputs too


def test_references_resolve_from_values_given(cloud: Cloud) -> None:
    shared = Ref(item("elsewhere"), "Arn")
    steps = plan_resources("test", kinds_for(cloud), [Resource(item("user"), {"target": shared})])
    Executor({shared: "arn:item:elsewhere"}).run(steps)
    assert cloud.items["item", "user"]["target"] == "arn:item:elsewhere"


def test_an_unresolvable_reference_fails_before_any_call_and_rolls_back(cloud: Cloud) -> None:
    before = cloud.snapshot()
    steps = plan_resources("test", kinds_for(cloud), [
        Resource(item("a"), {}), Resource(item("user"), {"target": Ref(item("nowhere"), "Arn")})])
    with pytest.raises(DeployFailed, match=r"could not create item user: LookupError: .*has no Arn yet"):
        Executor().run(steps)
    assert cloud.log == [("create", "a"), ("delete", "a")]
    assert cloud.items == before


@pytest.mark.parametrize("at", range(5))
@pytest.mark.parametrize("half_done", [False, True], ids=["before", "after"])
def test_a_failure_at_any_step_restores_the_cloud(cloud: Cloud, at: int, half_done: bool) -> None:
    before = cloud.snapshot()
    call, name = FORWARD[at]
    cloud.when(f"{call}d" if half_done else call, name, RuntimeError("boom"))
    with pytest.raises(DeployFailed) as caught:
        Executor().run(full_plan(cloud))
    assert cloud.items == before
    label = f"item {name}"
    assert caught.value.message == f"could not {call} {label}: RuntimeError: boom; {ROLLED_BACK}"
    assert caught.value.leftovers == []
    assert caught.value.exit_code == EXIT_FAILED
    done = FORWARD[:at + 1]
    undo = {"create": "delete", "update": "update", "delete": "create"}
    undone = [(undo[c], n) for c, n in reversed(done)]
    if not half_done and call == "create":
        undone = undone[1:]  # a create that failed before making anything has nothing to remove
    if not half_done and call == "delete":
        undone = undone[1:]  # nor a delete that deleted nothing
    assert cloud.log == done + undone  # newest first


def test_an_undo_that_fails_is_reported_by_name_and_the_rest_is_still_undone(cloud: Cloud) -> None:
    before = cloud.snapshot()
    cloud.when("create", "c", RuntimeError("boom"))
    cloud.when("update", "changed", OSError("restore refused"), call=2)  # the second update is the undo
    with pytest.raises(DeployFailed) as caught:
        Executor().run(full_plan(cloud))
    assert caught.value.leftovers == ["item changed: OSError: restore refused"]
    assert caught.value.message.endswith("rollback incomplete, left behind: item changed: OSError: restore refused")
    assert cloud.log[-4:] == [("delete", "b"), ("create", "dropped"), ("update", "changed"), ("delete", "a")]
    changed = cloud.items.pop(("item", "changed"))
    assert changed == {"size": 5, "colour": "blue", "Arn": "arn:item:changed"}  # what stays, as reported
    assert {k: v for k, v in before.items() if k != ("item", "changed")} == cloud.items


def test_cleanup_failures_are_reported_and_roll_nothing_back(cloud: Cloud) -> None:
    cloud.items["swept", "old-1"] = {"Arn": "arn:swept:old-1"}
    cloud.items["swept", "old-2"] = {"Arn": "arn:swept:old-2"}
    cloud.when("delete", "old-1", RuntimeError("still in use"))
    steps = plan_resources("test", kinds_for(cloud), [Stale(swept("old-1")), Stale(swept("old-2")),
                                                       Resource(item("a"), {})])
    executor = Executor()
    executor.run(steps)
    assert executor.cleanup_failures == ["swept old-1: RuntimeError: still in use"]
    assert ("item", "a") in cloud.items
    assert ("swept", "old-1") in cloud.items and ("swept", "old-2") not in cloud.items
    assert cloud.log == [("create", "a"), ("delete", "old-1"), ("delete", "old-2")]


def test_cleanup_runs_only_after_every_other_step_succeeded(cloud: Cloud) -> None:
    cloud.items["swept", "old"] = {"Arn": "arn:swept:old"}
    cloud.when("create", "b", RuntimeError("boom"))
    steps = plan_resources("test", kinds_for(cloud), [Stale(swept("old")), Resource(item("a"), {}),
                                                       Resource(item("b"), {})])
    with pytest.raises(DeployFailed):
        Executor().run(steps)
    assert ("swept", "old") in cloud.items
    assert ("delete", "old") not in cloud.log


def test_a_rollback_after_the_run_never_undoes_its_cleanup(cloud: Cloud) -> None:
    """deployment.apply_region rolls back every function that succeeded when another one is interrupted: the
    old packages that function swept must stay swept (a re-creation has nothing to restore from)."""
    cloud.items["swept", "old"] = {"Arn": "arn:swept:old"}
    steps = plan_resources("test", kinds_for(cloud), [Resource(item("a"), {}), Stale(swept("old"))])
    executor = Executor()
    executor.run(steps)
    assert executor.rollback() == []
    assert ("item", "a") not in cloud.items
    assert ("create", "old") not in cloud.log


def test_a_cancel_event_set_before_a_step_interrupts_and_rolls_back(cloud: Cloud) -> None:
    before = cloud.snapshot()
    cancel = threading.Event()
    cloud.when("updated", "changed", cancel.set)  # Ctrl-C while the update was running
    with pytest.raises(DeployInterrupted) as caught:
        Executor(cancel=cancel).run(full_plan(cloud))
    assert caught.value.exit_code == EXIT_INTERRUPTED == 130
    assert caught.value.message == f"test: interrupted; {ROLLED_BACK}"
    assert caught.value.leftovers == []
    assert cloud.log == [("create", "a"), ("update", "changed"), ("update", "changed"), ("delete", "a")]
    assert cloud.items == before


def test_an_already_set_cancel_event_runs_nothing(cloud: Cloud) -> None:
    before = cloud.snapshot()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DeployInterrupted):
        Executor(cancel=cancel).run(full_plan(cloud))
    assert cloud.log == []
    assert cloud.items == before


def test_a_keyboard_interrupt_inside_a_kind_interrupts_and_undoes_its_partial_work(cloud: Cloud) -> None:
    before = cloud.snapshot()
    cloud.when("created", "b", KeyboardInterrupt())
    with pytest.raises(DeployInterrupted) as caught:
        Executor().run(full_plan(cloud))
    assert caught.value.exit_code == 130
    assert cloud.items == before
    assert cloud.log[-4:] == [("delete", "b"), ("create", "dropped"), ("update", "changed"), ("delete", "a")]


def test_unchanged_steps_make_no_call_and_need_no_undo(cloud: Cloud) -> None:
    steps = plan_resources("test", kinds_for(cloud), [Resource(item("kept"), {"size": 1})])
    assert [s.action for s in steps.steps] == [Action.UNCHANGED]
    executor = Executor()
    executor.run(steps)
    assert cloud.log == [] and executor.journal == []
    assert executor.rollback() == []
