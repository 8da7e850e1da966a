"""The statement of a function's resource policy that lets its REST API invoke it: SourceArn names that
API's id (any stage, method and path of it; never every API of the account)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.aws.kinds.rest_api import api_ref
from scar.aws.provider import AwsProvider
from scar.deploy.kind import Kind, register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "api permission"
STATEMENT_ID = "scar-apigateway"
PRINCIPAL = "apigateway.amazonaws.com"


def api_permission(rid: ResourceId) -> dict[str, Any]:
    return {"Principal": PRINCIPAL, "ApiId": api_ref(rid, "Id")}


def source_arn(provider: AwsProvider, api_id: str) -> str:
    return provider.arn("execute-api", f"{api_id}/*")


@register("aws")
class ApiPermission(Kind):
    """Named by the API's name, with the function as parent."""

    kind = KIND

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"permission for REST API {rid.name or '(removed)'} to invoke {rid.parent}"

    def describe(self, desired: dict[str, Any]) -> str:
        return f"SourceArn {source_arn(self.provider, '<api id>')}"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        params = {"FunctionName": rid.parent, "StatementId": STATEMENT_ID}
        add, remove = Call("lambda", "AddPermission", params), Call("lambda", "RemovePermission", params)
        return {Action.CREATE: (add,), Action.UPDATE: (remove, add), Action.DELETE: (remove,)}.get(action, ())

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        statement = self.provider.policy_statements(rid.parent).get(STATEMENT_ID)
        if statement is None:
            return None
        principal = statement.get("Principal")
        arn = ((statement.get("Condition") or {}).get("ArnLike") or {}).get("AWS:SourceArn", "")
        prefix = source_arn(self.provider, "")[:-len("/*")]
        api_id = arn[len(prefix):-len("/*")] if arn.startswith(prefix) and arn.endswith("/*") else None
        return {"Principal": principal.get("Service") if isinstance(principal, dict) else principal,
                "ApiId": api_id or None}

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self.provider.lam.client.add_permission(
            FunctionName=step.resource.parent, StatementId=STATEMENT_ID, Action="lambda:InvokeFunction",
            Principal=desired["Principal"], SourceArn=source_arn(self.provider, desired["ApiId"]))
        outputs["created"] = True

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self.delete(step, {})
        self.create(step, desired, {})

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        try:
            self.provider.lam.client.remove_permission(FunctionName=step.resource.parent, StatementId=STATEMENT_ID)
        except ClientError as err:
            if error_code(err) != "ResourceNotFoundException":
                raise
        outputs["deleted"] = True
