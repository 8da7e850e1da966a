"""A Batch function's job queue, sending its jobs to the function's compute environment."""

from __future__ import annotations

from typing import Any

from scar.aws import batch_waiters
from scar.aws.kinds.batch_base import BatchKind
from scar.deploy.kind import register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "job queue"


@register("aws")
class JobQueue(BatchKind):
    """Named after the function. Params: CreateJobQueue's (state, priority, computeEnvironmentOrder)."""

    kind = KIND
    what = "AWS Batch job queue"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        name = {"jobQueueName": rid.name}
        return {Action.CREATE: (Call("batch", "CreateJobQueue", name), Call("batch", "DescribeJobQueues", name)),
                Action.DELETE: (Call("batch", "UpdateJobQueue", {**name, "state": "DISABLED"}),
                                Call("batch", "DescribeJobQueues", name), Call("batch", "DeleteJobQueue", name),
                                Call("batch", "DescribeJobQueues", name))}.get(action, ())

    def _find(self, name: str) -> dict[str, Any] | None:
        found = self.provider.batch.describe_job_queues(jobQueues=[name])["jobQueues"]
        return next((queue for queue in found if queue.get("status") != "DELETED"), None)

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        found = self._find(rid.name)
        if found is None:
            return None
        return self.owned_state(rid, dict(found.get("tags") or {}), Arn=found["jobQueueArn"])

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        batch = self.provider.batch
        answer = batch.create_job_queue(jobQueueName=step.resource.name, tags=desired["Tags"], **desired["Params"])
        outputs["Arn"] = answer["jobQueueArn"]
        batch_waiters.wait(batch, "JobQueueValid", step.resource.name)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        name, batch = step.resource.name, self.provider.batch
        found = self._find(name)
        if found is None:
            outputs["deleted"] = True
            return
        self.disable_then_delete(name, found.get("state"),
                                 lambda: batch.update_job_queue(jobQueue=name, state="DISABLED"),
                                 lambda: batch.delete_job_queue(jobQueue=name), "JobQueue", outputs)
