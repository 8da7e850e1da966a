"""A Batch function's job queue, sending its jobs to the function's compute environment. A change of its
settings is an UpdateJobQueue (priority, state, computeEnvironmentOrder) and of its tags a TagResource /
UntagResource; the undo puts back what planning read."""

from __future__ import annotations

from typing import Any

from scar.aws import batch_waiters
from scar.aws.kinds.batch_base import BatchSettingsKind, changed
from scar.deploy.kind import register
from scar.deploy.model import Action, Call, Change, ResourceId, Step

KIND = "job queue"


def _order(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """computeEnvironmentOrder with each environment by name (AWS Batch answers with ARNs)."""
    return [{"order": entry["order"], "computeEnvironment": entry["computeEnvironment"].rsplit("/", 1)[-1]}
            for entry in entries]


@register("aws")
class JobQueue(BatchSettingsKind):
    """Named after the function. Params: CreateJobQueue's (state, priority, computeEnvironmentOrder)."""

    kind = KIND
    what = "AWS Batch job queue"
    compared = ("Digest", "Tags")

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
        params = {"state": found.get("state"), "priority": found.get("priority"),
                  "computeEnvironmentOrder": _order(found.get("computeEnvironmentOrder") or [])}
        return self.owned_state(rid, dict(found.get("tags") or {}), Arn=found["jobQueueArn"], Params=params)

    def setting_changes(self, current: dict[str, Any], wanted: dict[str, Any]) -> tuple[Change, ...]:
        return tuple(Change(key, current["Params"].get(key), value)
                     for key, value in changed(current["Params"], wanted["Params"]).items())

    def update_calls(self, rid: ResourceId, current: dict[str, Any], wanted: dict[str, Any]) -> tuple[Call, ...]:
        settings = changed(current["Params"], wanted["Params"])
        update = (Call("batch", "UpdateJobQueue", {"jobQueue": rid.name, **settings}),
                  Call("batch", "DescribeJobQueues", {"jobQueues": [rid.name]})) if settings else ()
        return update + self.tag_calls(current, wanted)

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        batch = self.provider.batch
        answer = batch.create_job_queue(jobQueueName=step.resource.name, tags=desired["Tags"], **desired["Params"])
        outputs["Arn"] = answer["jobQueueArn"]
        batch_waiters.wait(batch, "JobQueueValid", step.resource.name)

    def change_settings(self, name: str, base: dict[str, Any], target: dict[str, Any]) -> None:
        settings = changed(base, target)
        if settings:
            self.provider.batch.update_job_queue(jobQueue=name, **settings)
            batch_waiters.wait(self.provider.batch, "JobQueueValid", name)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        name, batch = step.resource.name, self.provider.batch
        found = self._find(name)
        if found is None:
            outputs["deleted"] = True
            return
        self.disable_then_delete(name, found.get("state"),
                                 lambda: batch.update_job_queue(jobQueue=name, state="DISABLED"),
                                 lambda: batch.delete_job_queue(jobQueue=name), "JobQueue", outputs)
