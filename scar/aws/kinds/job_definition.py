"""A Batch function's job definition: a change registers a new revision (its undo deregisters it), and
removing it deregisters every active revision."""

from __future__ import annotations

from typing import Any

from scar.aws.kinds.batch_base import BatchKind
from scar.deploy.kind import register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "job definition"


@register("aws")
class JobDefinition(BatchKind):
    """Named after the function. Params: RegisterJobDefinition's (type, containerProperties or
    nodeProperties, platformCapabilities; the container's jobRoleArn with batch.job_role)."""

    kind = KIND
    what = "AWS Batch job definition"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        name = {"jobDefinitionName": rid.name}
        register_call = Call("batch", "RegisterJobDefinition", name)
        return {Action.CREATE: (register_call,), Action.UPDATE: (register_call,),
                Action.DELETE: (Call("batch", "DescribeJobDefinitions", name),
                                Call("batch", "DeregisterJobDefinition", name))}.get(action, ())

    def describe(self, desired: dict[str, Any]) -> str:
        params = desired["Params"]
        container = params.get("containerProperties") or params["nodeProperties"]["nodeRangeProperties"][0]["container"]
        shown = ", ".join(f"{r['type']} {r['value']}" for r in container["resourceRequirements"])
        nodes = f", {params['nodeProperties']['numNodes']} nodes" if params["type"] == "multinode" else ""
        role = f", job role {container['jobRoleArn']}" if "jobRoleArn" in container else ""
        return f"{container['image']}, {shown}{nodes}{role}"

    def revisions(self, name: str) -> list[dict[str, Any]]:
        """The active revisions, newest first."""
        paginator = self.provider.batch.get_paginator("describe_job_definitions")
        found = [d for page in paginator.paginate(jobDefinitionName=name, status="ACTIVE")
                 for d in page.get("jobDefinitions", ()) if d["jobDefinitionName"] == name]
        return sorted(found, key=lambda d: d["revision"], reverse=True)

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        found = self.revisions(rid.name)
        if not found:
            return None
        return self.owned_state(rid, dict(found[0].get("tags") or {}), Arn=found[0]["jobDefinitionArn"])

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        answer = self.provider.batch.register_job_definition(
            jobDefinitionName=step.resource.name, tags=desired["Tags"], propagateTags=True, **desired["Params"])
        outputs["Arn"] = answer["jobDefinitionArn"]

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self.create(step, desired, outputs)

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        if "Arn" in outputs and outputs["Arn"] != step.known.get("Arn"):  # only the revision this run registered
            self.provider.batch.deregister_job_definition(jobDefinition=outputs["Arn"])

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        for revision in self.revisions(step.resource.name):
            self.provider.batch.deregister_job_definition(jobDefinition=revision["jobDefinitionArn"])
        outputs["deleted"] = True
