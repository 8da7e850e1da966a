"""A Batch function's managed compute environment (EC2 or SPOT). Removing it disables it, waits, deletes
it and waits again, all with bounded waits; one that a job queue of another function uses stays."""

from __future__ import annotations

from typing import Any

from scar.aws import batch_waiters
from scar.aws.kinds.batch_base import BatchKind
from scar.deploy.kind import register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "compute environment"


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


@register("aws")
class ComputeEnvironment(BatchKind):
    """Named after the function. Params: CreateComputeEnvironment's (type, state, serviceRole,
    computeResources)."""

    kind = KIND
    what = "AWS Batch compute environment"

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
        return self.owned_state(rid, dict(found.get("tags") or {}), Arn=found["computeEnvironmentArn"],
                                State=found.get("state"))

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        batch = self.provider.batch
        answer = batch.create_compute_environment(computeEnvironmentName=step.resource.name, tags=desired["Tags"],
                                                  **desired["Params"])
        outputs["Arn"] = answer["computeEnvironmentArn"]
        batch_waiters.wait(batch, "ComputeEnvironmentValid", step.resource.name)

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
