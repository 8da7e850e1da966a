"""A function's CloudWatch log group and its retention."""

from __future__ import annotations

from typing import Any

from scar.aws.provider import AwsProvider
from scar.aws.tags import TAG_CREATED_BY
from scar.deploy.kind import Kind, register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "log group"


def log_group_name(function: str) -> str:
    return f"/aws/lambda/{function}"


@register("aws")
class LogGroup(Kind):
    kind = KIND

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        group = self.provider.log_group(rid.name)
        return None if group is None else {"retentionInDays": group.get("retentionInDays")}

    def describe(self, desired: dict[str, Any]) -> str:
        return f"retention {desired['retentionInDays']} days"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        return {Action.CREATE: (Call("logs", "CreateLogGroup", {"logGroupName": rid.name}),
                                Call("logs", "PutRetentionPolicy", {"logGroupName": rid.name})),
                Action.UPDATE: (Call("logs", "PutRetentionPolicy", {"logGroupName": rid.name}),),
                Action.DELETE: (Call("logs", "DeleteLogGroup", {"logGroupName": rid.name}),)}.get(action, ())

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self.provider.logs.create_group(step.resource.name, {TAG_CREATED_BY: "scar"})
        outputs["created"] = True
        self.update(step, desired, outputs)

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        days = desired.get("retentionInDays")
        client = self.provider.logs.client
        if days:
            client.put_retention_policy(logGroupName=step.resource.name, retentionInDays=days)
        else:
            client.delete_retention_policy(logGroupName=step.resource.name)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        self.provider.logs.delete_group(step.resource.name)
        outputs["deleted"] = True
