"""A Batch function changed in place against moto: the compute environment's settings, the job queue's, a
new launch template version when scar's supervisor artifact changes; the plan shows each change; what AWS
Batch cannot change in place is refused before any call. moto leaves UpdateComputeEnvironment's
computeResources, DeleteLaunchTemplateVersions and current launch template tags out: the test server fills
them in (devtools/moto_gaps.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from scar.aws import batch_resources
from scar.cli.commands import init
from scar.package.batch_runtime import BatchRuntime
from scar.package.machine import build_architecture
from tests.integration.batch_support import batch_fdl, create_batch_roles, network
from tests.integration.conftest import write_fdl

pytestmark = pytest.mark.skipif(shutil.which("patchelf") is None, reason="patchelf is needed "
                                "(scripts/install-system-deps.sh)")

FAMILY = "m7i" if build_architecture() == "amd64" else "m7g"
TEMPLATE = "faas-supervisor-upfn"


@pytest.fixture
def batch_env(deploy_env: str, tmp_path: Path) -> tuple[list[str], list[str]]:
    create_batch_roles(deploy_env)
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho one\n")
    return network(deploy_env)


def upgraded_runtime(monkeypatch: pytest.MonkeyPatch) -> BatchRuntime:
    """What a later scar version would ship: another supervisor artifact (another SHA-256)."""
    archive = init._batch_runtime().archive + b"a later scar"
    runtime = BatchRuntime(archive, hashlib.sha256(archive).hexdigest())
    monkeypatch.setattr(init, "_batch_runtime", lambda: runtime)
    return runtime


def other_queue_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a later scar version might ask of the queue (no FDL key sets its priority or state)."""
    wanted = batch_resources.job_queue
    monkeypatch.setattr(batch_resources, "job_queue", lambda spec: {**wanted(spec), "priority": 5, "state": "DISABLED"})


def deployed(scar, tmp_path: Path, text: str, name: str = "fdl.yaml") -> Path:
    fdl = write_fdl(tmp_path, text, name)
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    return fdl


def tags_of(template: dict) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in template["Tags"]}


def test_compute_environment_settings_change_in_place(scar, aws, batch_env, tmp_path, counter):
    subnets, groups = batch_env
    deployed(scar, tmp_path, batch_fdl("upfn", subnets, groups))
    batch, ec2 = aws("batch"), aws("ec2")
    before, = batch.describe_compute_environments(computeEnvironments=["upfn"])["computeEnvironments"]
    vpc = ec2.describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="jobs", Description="jobs", VpcId=vpc)["GroupId"]
    changed = write_fdl(tmp_path, batch_fdl("upfn", subnets[:1], [group], batch_extra=f"""
        min_v_cpus: 1
        desired_v_cpus: 1
        max_v_cpus: 8
        instance_types: [{FAMILY}.large, {FAMILY}.xlarge]
"""), "changed.yaml")

    counter.reset()
    plan = scar("init", "-f", changed, "--dry-run", "-v", "-j")
    assert plan.code == 0 and counter.mutating == {}, plan.stderr
    step, = [s for s in json.loads(plan.stdout)["Functions"][0]["Steps"] if s["Kind"] == "compute environment"]
    assert step["Action"] == "update"
    changes = {change["Field"]: (change["Old"], change["New"]) for change in step["Changes"]}
    assert {key: changes[key] for key in ("computeResources.maxvCpus", "computeResources.subnets")} == {
        "computeResources.maxvCpus": (2, 8), "computeResources.subnets": (subnets, subnets[:1])}
    assert "computeResources.desiredvCpus" in changes and "Tags" in changes
    assert [c["Operation"] for c in step["Calls"]] == ["UpdateComputeEnvironment", "DescribeComputeEnvironments",
                                                       "TagResource"]

    result = scar("init", "-f", changed)
    assert result.code == 0 and "upfn: updated" in result.stdout, result.stderr
    assert counter.mutating == {"UpdateComputeEnvironment": 1, "TagResource": 1}
    after, = batch.describe_compute_environments(computeEnvironments=["upfn"])["computeEnvironments"]
    assert after["computeEnvironmentArn"] == before["computeEnvironmentArn"]  # the same environment
    assert (after["state"], after["status"]) == ("ENABLED", "VALID")
    assert after["computeResources"] == {
        **before["computeResources"], "minvCpus": 1, "desiredvCpus": 1, "maxvCpus": 8,
        "instanceTypes": [f"{FAMILY}.large", f"{FAMILY}.xlarge"], "subnets": subnets[:1],
        "securityGroupIds": [group]}
    assert after["tags"]["scar:definition"] != before["tags"]["scar:definition"]
    assert {k: v for k, v in after["tags"].items() if k != "scar:definition"} == \
        {k: v for k, v in before["tags"].items() if k != "scar:definition"}

    counter.reset()
    again = scar("init", "-f", changed)
    assert again.code == 0 and "upfn: up to date" in again.stdout, again.stdout
    assert counter.mutating == {}


def test_the_job_queue_changes_in_place(scar, aws, batch_env, tmp_path, counter, monkeypatch):
    fdl = deployed(scar, tmp_path, batch_fdl("upfn", *batch_env))
    before, = aws("batch").describe_job_queues(jobQueues=["upfn"])["jobQueues"]
    other_queue_settings(monkeypatch)
    counter.reset()
    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    assert counter.mutating == {"UpdateJobQueue": 1, "TagResource": 1}
    after, = aws("batch").describe_job_queues(jobQueues=["upfn"])["jobQueues"]
    assert (after["jobQueueArn"], after["priority"], after["state"], after["status"]) == (
        before["jobQueueArn"], 5, "DISABLED", "VALID")
    assert after["computeEnvironmentOrder"] == before["computeEnvironmentOrder"]
    assert after["tags"]["scar:definition"] != before["tags"]["scar:definition"]


def test_a_scar_upgrade_makes_a_new_template_version_the_environment_uses(scar, aws, batch_env, tmp_path, counter,
                                                                          monkeypatch):
    fdl = deployed(scar, tmp_path, batch_fdl("upfn", *batch_env))
    ec2, batch = aws("ec2"), aws("batch")
    old_tags = tags_of(ec2.describe_launch_templates(LaunchTemplateNames=[TEMPLATE])["LaunchTemplates"][0])
    runtime = upgraded_runtime(monkeypatch)

    counter.reset()
    plan = scar("init", "-f", fdl, "--dry-run", "-v", "-j")
    assert plan.code == 0 and counter.mutating == {}, plan.stderr
    steps = {s["Kind"]: s for s in json.loads(plan.stdout)["Functions"][0]["Steps"]}
    assert (steps["launch template"]["Action"], steps["compute environment"]["Action"]) == ("update", "update")
    assert [c["Operation"] for c in steps["launch template"]["Calls"]] == [
        "CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "CreateTags"]
    assert {"Field": "TemplateVersion", "Old": "1", "New": "(known after apply)"} in \
        steps["compute environment"]["Changes"]
    assert steps["job queue"]["Action"] == steps["job definition"]["Action"] == "unchanged"

    result = scar("init", "-f", fdl)
    assert result.code == 0, result.stderr
    mutating = counter.mutating
    assert {key: mutating.get(key) for key in ("CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "CreateTags",
                                               "UpdateComputeEnvironment")} == {
        "CreateLaunchTemplateVersion": 1, "ModifyLaunchTemplate": 1, "CreateTags": 1, "UpdateComputeEnvironment": 1}
    assert not {"CreateLaunchTemplate", "DeleteLaunchTemplate", "CreateComputeEnvironment", "TagResource",
                "UpdateJobQueue", "RegisterJobDefinition"} & set(mutating)

    template, = ec2.describe_launch_templates(LaunchTemplateNames=[TEMPLATE])["LaunchTemplates"]
    assert (template["DefaultVersionNumber"], template["LatestVersionNumber"]) == (2, 2)
    assert tags_of(template)["scar:definition"] != old_tags["scar:definition"]
    version, = ec2.describe_launch_template_versions(LaunchTemplateName=TEMPLATE, Versions=["2"])[
        "LaunchTemplateVersions"]
    user_data = base64.b64decode(version["LaunchTemplateData"]["UserData"]).decode()
    assert f"supervisor-{runtime.sha256[:16]}.tar.gz" in user_data and runtime.sha256 in user_data
    environment, = batch.describe_compute_environments(computeEnvironments=["upfn"])["computeEnvironments"]
    assert environment["computeResources"]["launchTemplate"] == {"launchTemplateName": TEMPLATE, "version": "2"}

    counter.reset()
    assert scar("init", "-f", fdl).code == 0
    assert counter.mutating == {}


# lines of compute_resources (8 spaces), or of batch itself (6)
@pytest.mark.parametrize(("first", "then", "key"), [
    ("", "        type: SPOT\n", "batch.compute_resources.type"),
    ("      type: MANAGED\n", "      type: UNMANAGED\n", "batch.type"),
    ("        type: SPOT\n        allocation_strategy: BEST_FIT\n",
     "        type: SPOT\n        allocation_strategy: BEST_FIT\n        bid_percentage: 50\n",
     "batch.compute_resources.bid_percentage"),
], ids=["EC2 to SPOT", "managed to unmanaged", "infrastructure with BEST_FIT"])
def test_what_batch_cannot_change_in_place_is_refused_before_any_call(scar, batch_env, tmp_path, counter, first,
                                                                      then, key):
    subnets, groups = batch_env
    deployed(scar, tmp_path, batch_fdl("upfn", subnets, groups, batch_extra=first))
    counter.reset()
    result = scar("init", "-f", write_fdl(tmp_path, batch_fdl("upfn", subnets, groups, batch_extra=then),
                                          "changed.yaml"))
    assert result.code == 2, result.stderr
    line, = result.stderr.strip().splitlines()
    assert key in line and "scar rm -n upfn" in line, line
    assert counter.mutating == {}


def test_with_best_fit_the_vcpus_still_change_in_place(scar, aws, batch_env, tmp_path, counter):
    subnets, groups = batch_env
    spot = "        type: SPOT\n        allocation_strategy: BEST_FIT\n"
    deployed(scar, tmp_path, batch_fdl("upfn", subnets, groups, batch_extra=spot))
    counter.reset()
    deployed(scar, tmp_path, batch_fdl("upfn", subnets, groups, batch_extra=spot + "        max_v_cpus: 6\n"), "6.yaml")
    assert counter.mutating == {"UpdateComputeEnvironment": 1, "TagResource": 1}
    environment, = aws("batch").describe_compute_environments(computeEnvironments=["upfn"])["computeEnvironments"]
    assert (environment["computeResources"]["maxvCpus"], environment["computeResources"]["allocationStrategy"]) == (
        6, "BEST_FIT")


def test_a_removed_tag_leaves_every_batch_resource(scar, aws, batch_env, tmp_path, counter):
    """The function's API goes, and with it its `scar:api` tag: DeleteTags on the template, UntagResource on
    the environment and the queue, nothing else of them changes."""
    subnets, groups = batch_env
    deployed(scar, tmp_path, batch_fdl("upfn", subnets, groups).replace(
        "    batch:\n", "    api_gateway: {name: up-api}\n    batch:\n"), "api.yaml")
    batch, ec2 = aws("batch"), aws("ec2")
    assert batch.describe_job_queues(jobQueues=["upfn"])["jobQueues"][0]["tags"]["scar:api"] == "up-api"
    counter.reset()
    deployed(scar, tmp_path, batch_fdl("upfn", subnets, groups))
    # UntagResource: the Lambda function, the environment and the queue
    assert {key: counter.mutating.get(key) for key in ("DeleteTags", "UntagResource", "CreateTags", "TagResource",
                                                       "UpdateComputeEnvironment", "UpdateJobQueue")} == {
        "DeleteTags": 1, "UntagResource": 3, "CreateTags": None, "TagResource": None,
        "UpdateComputeEnvironment": None, "UpdateJobQueue": None}
    template, = ec2.describe_launch_templates(LaunchTemplateNames=[TEMPLATE])["LaunchTemplates"]
    assert template["DefaultVersionNumber"] == 1 and "scar:api" not in tags_of(template)
    for tags in (batch.describe_compute_environments(computeEnvironments=["upfn"])["computeEnvironments"][0]["tags"],
                 batch.describe_job_queues(jobQueues=["upfn"])["jobQueues"][0]["tags"]):
        assert "scar:api" not in tags and tags["createdby"] == "scar"
