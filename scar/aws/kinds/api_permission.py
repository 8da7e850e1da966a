"""The statement of a function's resource policy that lets its REST API invoke it: SourceArn names that
API's id (any stage, method and path of it; never every API of the account)."""

from __future__ import annotations

from typing import Any

from scar.aws.kinds.permission import PolicyStatement
from scar.aws.kinds.rest_api import api_ref
from scar.aws.provider import AwsProvider
from scar.deploy.kind import register
from scar.deploy.model import Action, ResourceId

KIND = "api permission"
STATEMENT_ID = "scar-apigateway"
PRINCIPAL = "apigateway.amazonaws.com"


def api_permission(rid: ResourceId) -> dict[str, Any]:
    return {"Principal": PRINCIPAL, "ApiId": api_ref(rid, "Id")}


def source_arn(provider: AwsProvider, api_id: str) -> str:
    return provider.arn("execute-api", f"{api_id}/*")


@register("aws")
class ApiPermission(PolicyStatement):
    """Named by the API's name, with the function as parent."""

    kind = KIND

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"permission for REST API {rid.name or '(removed)'} to invoke {rid.parent}"

    def describe(self, desired: dict[str, Any]) -> str:
        return f"SourceArn {source_arn(self.provider, '<api id>')}"

    def statement_id(self, rid: ResourceId) -> str:
        return STATEMENT_ID

    def arguments(self, desired: dict[str, Any]) -> dict[str, Any]:
        return {"Principal": desired["Principal"], "SourceArn": source_arn(self.provider, desired["ApiId"])}

    def as_wanted(self, statement: dict[str, Any]) -> dict[str, Any]:
        principal = statement.get("Principal")
        arn = ((statement.get("Condition") or {}).get("ArnLike") or {}).get("AWS:SourceArn", "")
        prefix = source_arn(self.provider, "")[:-len("/*")]
        api_id = arn[len(prefix):-len("/*")] if arn.startswith(prefix) and arn.endswith("/*") else None
        return {"Principal": principal.get("Service") if isinstance(principal, dict) else principal,
                "ApiId": api_id or None}
