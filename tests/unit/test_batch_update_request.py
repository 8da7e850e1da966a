"""What an in-place update of a Batch compute environment sends, from the settings read to the settings wanted."""

from __future__ import annotations

from scar.aws.kinds.batch_base import changed, tag_changes
from scar.aws.kinds.compute_environment import update_request

BASE = {"type": "MANAGED", "state": "ENABLED", "serviceRole": "role",
        "computeResources": {"type": "EC2", "minvCpus": 0, "maxvCpus": 2, "desiredvCpus": 2,
                             "subnets": ["a", "b"], "allocationStrategy": "BEST_FIT_PROGRESSIVE"}}


def target(state: str = "ENABLED", **resources: object) -> dict:
    return {**BASE, "state": state, "computeResources": {**BASE["computeResources"], **resources}}


def test_only_what_differs_is_sent():
    assert update_request(BASE, target()) == {}
    assert update_request(BASE, target("DISABLED", maxvCpus=8, subnets=["a"])) == {
        "state": "DISABLED", "computeResources": {"maxvCpus": 8, "subnets": ["a"]}}


def test_desired_vcpus_only_go_up_and_the_type_is_never_sent():
    assert update_request(BASE, target(desiredvCpus=1)) == {}
    assert update_request(BASE, target(desiredvCpus=3)) == {"computeResources": {"desiredvCpus": 3}}
    assert update_request(BASE, target(type="SPOT")) == {}


def test_tag_changes_set_new_values_and_remove_what_is_gone():
    assert tag_changes({"a": "1", "b": "2"}, {"a": "9", "c": "3"}) == ({"a": "9", "c": "3"}, ["b"])
    assert changed({"a": 1}, {"a": 1, "b": 2}) == {"b": 2}
