"""A Batch function's managed compute environment (EC2 or SPOT). A change is an UpdateComputeEnvironment of
what changed (a new launch template version included: the environment names its version, so the update
makes Batch use it) and TagResource / UntagResource; the undo puts back what planning read. What AWS Batch
cannot change in place is refused at planning. Removing it disables it, waits, deletes it and waits again,
all with bounded waits; one that a job queue of another function uses stays."""

from __future__ import annotations

from typing import Any

from scar.aws import batch_waiters
from scar.aws.kinds.batch_base import BatchSettingsKind, changed
from scar.deploy.kind import register
from scar.deploy.model import Action, Call, Change, ResourceId, Step

KIND = "compute environment"
#: what a scaling update changes; any other setting of computeResources needs an infrastructure update
SCALING = ("minvCpus", "maxvCpus", "desiredvCpus")
#: the computeResources settings scar sets, and the FDL key of each
SETTINGS = {"type": "batch.compute_resources.type", "minvCpus": "batch.compute_resources.min_v_cpus",
            "maxvCpus": "batch.compute_resources.max_v_cpus",
            "desiredvCpus": "batch.compute_resources.desired_v_cpus",
            "instanceTypes": "batch.compute_resources.instance_types", "subnets": "batch.compute_resources.subnets",
            "securityGroupIds": "batch.compute_resources.security_group_ids",
            "instanceRole": "batch.compute_resources.instance_role",
            "launchTemplate": "batch.compute_resources.launch_template_name",
            "allocationStrategy": "batch.compute_resources.allocation_strategy",
            "bidPercentage": "batch.compute_resources.bid_percentage"}


def queues_using(provider: Any, environment: str, arn: str, excluding: str) -> list[str]:
    """The job queues, other than `excluding`, whose order lists the compute environment."""
    users = []
    for page in provider.batch.get_paginator("describe_job_queues").paginate():
        for queue in page.get("jobQueues", ()):
            if queue["jobQueueName"] == excluding or queue.get("status") == "DELETED":
                continue
            if any(entry["computeEnvironment"] in (environment, arn) for entry in queue["computeEnvironmentOrder"]):
                users.append(queue["jobQueueName"])
    return users


def update_request(base: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """UpdateComputeEnvironment's parameters (but the name) from settings `base` to `target`: state and
    serviceRole, and the computeResources that differ. desiredvCpus only ever goes up: Batch refuses to lower
    it and lowers it itself as the queue empties."""
    request = changed({k: base.get(k) for k in ("state", "serviceRole")},
                      {k: target[k] for k in ("state", "serviceRole")})
    resources = changed(base["computeResources"], target["computeResources"])
    resources.pop("type", None)  # refused at planning
    if resources.get("desiredvCpus", 0) <= (base["computeResources"].get("desiredvCpus") or 0):
        resources.pop("desiredvCpus", None)
    if resources:
        request["computeResources"] = resources
    return request


@register("aws")
class ComputeEnvironment(BatchSettingsKind):
    """Named after the function. Params: CreateComputeEnvironment's (type, state, serviceRole,
    computeResources). Wanted and read also hold TemplateVersion, the launch template version it uses."""

    kind = KIND
    what = "AWS Batch compute environment"
    compared = ("Digest", "Tags", "TemplateVersion")

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        name = {"computeEnvironmentName": rid.name}
        return {Action.CREATE: (Call("batch", "CreateComputeEnvironment", name),
                                Call("batch", "DescribeComputeEnvironments", name)),
                Action.DELETE: (Call("batch", "UpdateComputeEnvironment", {**name, "state": "DISABLED"}),
                                Call("batch", "DescribeComputeEnvironments", name),
                                Call("batch", "DeleteComputeEnvironment", name),
                                Call("batch", "DescribeComputeEnvironments", name))}.get(action, ())

    def describe(self, desired: dict[str, Any]) -> str:
        resources = desired["Params"]["computeResources"]
        return f"{resources['type']}, {resources['minvCpus']}-{resources['maxvCpus']} vCPUs"

    def _find(self, name: str) -> dict[str, Any] | None:
        found = self.provider.batch.describe_compute_environments(computeEnvironments=[name])["computeEnvironments"]
        return next((env for env in found if env.get("status") != "DELETED"), None)

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        found = self._find(rid.name)
        if found is None:
            return None
        resources = found.get("computeResources") or {}
        settings = {key: resources[key] for key in SETTINGS if key in resources}
        settings.setdefault("allocationStrategy", "BEST_FIT")  # what Batch uses when none was given
        params = {"type": found.get("type"), "state": found.get("state"), "serviceRole": found.get("serviceRole"),
                  "computeResources": settings}
        return self.owned_state(rid, dict(found.get("tags") or {}), Arn=found["computeEnvironmentArn"],
                                State=found.get("state"), Params=params,
                                TemplateVersion=(resources.get("launchTemplate") or {}).get("version"))

    def refuse(self, rid: ResourceId, current: dict[str, Any], wanted: dict[str, Any]) -> None:
        old, new = current["Params"], wanted["Params"]
        if old["type"] != new["type"]:
            raise self.refused(rid, "batch.type", old["type"], new["type"],
                               "AWS Batch cannot turn a managed compute environment into an unmanaged one or back")
        before, after = old["computeResources"], new["computeResources"]
        if before.get("type") != after["type"]:
            raise self.refused(rid, SETTINGS["type"], before.get("type"), after["type"],
                               "scar does not move a compute environment between EC2 and SPOT instances")
        infrastructure = sorted(set(update_request(old, new).get("computeResources", {})) - set(SCALING))
        if infrastructure and before["allocationStrategy"] == "BEST_FIT":
            raise self.refused(rid, SETTINGS[infrastructure[0]], before.get(infrastructure[0]),
                               after.get(infrastructure[0]), "the compute environment uses the allocation strategy "
                               "BEST_FIT, with which AWS Batch changes only its vCPUs in place")
        if infrastructure and after["allocationStrategy"] == "BEST_FIT":
            raise self.refused(rid, SETTINGS["allocationStrategy"], before["allocationStrategy"], "BEST_FIT",
                               "AWS Batch cannot change a compute environment to BEST_FIT")

    def setting_changes(self, current: dict[str, Any], wanted: dict[str, Any]) -> tuple[Change, ...]:
        request = update_request(current["Params"], wanted["Params"])
        resources = request.pop("computeResources", {})
        resources.pop("launchTemplate", None)  # shown as TemplateVersion
        return (*(Change(key, current["Params"].get(key), value) for key, value in request.items()),
                *(Change(f"computeResources.{key}", current["Params"]["computeResources"].get(key), value)
                  for key, value in resources.items()))

    def update_calls(self, rid: ResourceId, current: dict[str, Any], wanted: dict[str, Any]) -> tuple[Call, ...]:
        name = {"computeEnvironment": rid.name}
        request = update_request(current["Params"], wanted["Params"])
        update = (Call("batch", "UpdateComputeEnvironment", {**name, **request}),
                  Call("batch", "DescribeComputeEnvironments", {"computeEnvironments": [rid.name]})) \
            if request else ()
        return update + self.tag_calls(current, wanted)

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        batch = self.provider.batch
        answer = batch.create_compute_environment(computeEnvironmentName=step.resource.name, tags=desired["Tags"],
                                                  **desired["Params"])
        outputs["Arn"] = answer["computeEnvironmentArn"]
        batch_waiters.wait(batch, "ComputeEnvironmentValid", step.resource.name)

    def change_settings(self, name: str, base: dict[str, Any], target: dict[str, Any]) -> None:
        request = update_request(base, target)
        if request:
            self.provider.batch.update_compute_environment(computeEnvironment=name, **request)
            batch_waiters.wait(self.provider.batch, "ComputeEnvironmentValid", name)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        name, batch = step.resource.name, self.provider.batch
        found = self._find(name)
        if found is None:
            outputs["deleted"] = True
            return
        if queues_using(self.provider, name, found["computeEnvironmentArn"], step.resource.parent):
            return  # another function's queue still sends jobs to it: it stays
        self.disable_then_delete(name, found.get("state"),
                                 lambda: batch.update_compute_environment(computeEnvironment=name, state="DISABLED"),
                                 lambda: batch.delete_compute_environment(computeEnvironment=name),
                                 "ComputeEnvironment", outputs)
