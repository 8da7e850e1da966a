"""The statement of a function's resource policy that lets S3 invoke it for one input bucket, limited to
that bucket (SourceArn) and to this account (SourceAccount)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.aws.provider import AwsProvider
from scar.deploy.kind import Kind, register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "permission"
S3_PREFIX = "scar-s3-"


def statement_id(bucket: str) -> str:
    return f"{S3_PREFIX}{bucket}"


def wired_buckets(statements: dict[str, dict[str, Any]]) -> list[str]:
    """The input buckets a function's policy lets invoke it (scar's statements): the record of which buckets
    it is wired to, with no size limit (tags are cut at 256 characters)."""
    return sorted(sid[len(S3_PREFIX):] for sid in statements if sid.startswith(S3_PREFIX))


def s3_permission(provider: AwsProvider, bucket: str) -> dict[str, Any]:
    return {"Principal": "s3.amazonaws.com", "SourceArn": provider.arn("s3", bucket, regional=False),
            "SourceAccount": provider.account}


def _as_wanted(statement: dict[str, Any]) -> dict[str, Any]:
    principal = statement.get("Principal")
    condition = statement.get("Condition") or {}
    source_arn = (condition.get("ArnLike") or {}).get("AWS:SourceArn")
    account = (condition.get("StringEquals") or {}).get("AWS:SourceAccount")
    return {"Principal": principal.get("Service") if isinstance(principal, dict) else principal,
            "SourceArn": source_arn, "SourceAccount": account}


class PolicyStatement(Kind):
    """A statement of a function's resource policy (the function is the resource's parent) that lets one
    service invoke it. Subclasses give its statement id, the AddPermission arguments that limit it, and how a
    statement read back looks in the wanted shape; an update replaces the statement."""

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def statement_id(self, rid: ResourceId) -> str:
        raise NotImplementedError

    def arguments(self, desired: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def as_wanted(self, statement: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        params = {"FunctionName": rid.parent, "StatementId": self.statement_id(rid)}
        add, remove = Call("lambda", "AddPermission", params), Call("lambda", "RemovePermission", params)
        return {Action.CREATE: (add,), Action.UPDATE: (remove, add), Action.DELETE: (remove,)}.get(action, ())

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        statement = self.provider.policy_statements(rid.parent).get(self.statement_id(rid))
        return None if statement is None else self.as_wanted(statement)

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self.provider.lam.client.add_permission(
            FunctionName=step.resource.parent, StatementId=self.statement_id(step.resource),
            Action="lambda:InvokeFunction", **self.arguments(desired))
        outputs["created"] = True

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self.delete(step, {})
        self.create(step, desired, {})

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        try:
            self.provider.lam.client.remove_permission(FunctionName=step.resource.parent,
                                                       StatementId=self.statement_id(step.resource))
        except ClientError as err:
            if error_code(err) != "ResourceNotFoundException":
                raise
        outputs["deleted"] = True


@register("aws")
class Permission(PolicyStatement):
    """S3's permission for one input bucket: named by the bucket."""

    kind = KIND

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"permission for s3://{rid.name} to invoke {rid.parent}"

    def describe(self, desired: dict[str, Any]) -> str:
        return f"SourceArn {desired['SourceArn']}, SourceAccount {desired['SourceAccount']}"

    def statement_id(self, rid: ResourceId) -> str:
        return statement_id(rid.name)

    def arguments(self, desired: dict[str, Any]) -> dict[str, Any]:
        return {"Principal": desired["Principal"], "SourceArn": desired["SourceArn"],
                "SourceAccount": desired["SourceAccount"]}

    def as_wanted(self, statement: dict[str, Any]) -> dict[str, Any]:
        return _as_wanted(statement)
