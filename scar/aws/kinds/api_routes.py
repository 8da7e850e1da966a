"""The routes of a function's REST API: `ANY` on `/` and on a `{proxy+}` resource, each an `AWS_PROXY`
integration to the function, with the `X-Amz-Invocation-Type` request header passed on (its value `Event`
makes the call asynchronous)."""

from __future__ import annotations

from typing import Any

from scar.aws.kinds.rest_api import api_ref, find_api
from scar.aws.provider import AwsProvider
from scar.deploy.kind import Kind, register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "api routes"
ROOT, PROXY = "/", "/{proxy+}"
HTTP_METHOD = "ANY"
INVOCATION_HEADER = "X-Amz-Invocation-Type"
#: what each route is, apart from its authorization and the function it calls
ROUTE = {
    "MethodRequestParameters": {f"method.request.header.{INVOCATION_HEADER}": False},
    "IntegrationType": "AWS_PROXY",
    "IntegrationHttpMethod": "POST",
    "IntegrationRequestParameters": {
        f"integration.request.header.{INVOCATION_HEADER}": f"method.request.header.{INVOCATION_HEADER}"},
}
ROUTES = {ROOT: ROUTE, PROXY: ROUTE}
AUTHORIZATION = {"none": "NONE", "iam": "AWS_IAM"}
_URI_PREFIX, _URI_SUFFIX = "/functions/", "/invocations"


def integration_uri(provider: AwsProvider, function_arn: str) -> str:
    """The Lambda invocation URI of an AWS_PROXY integration, in the region's partition."""
    return f"arn:{provider.partition}:apigateway:{provider.region}:lambda:path/2015-03-31/functions/" \
           f"{function_arn}/invocations"


def routes_entry(rid: ResourceId, function_arn: Any, auth: str) -> dict[str, Any]:
    """The wanted state of the routes: `function_arn` may be a Ref (a function created in this run)."""
    return {"RestApiId": api_ref(rid, "Id"), "RootId": api_ref(rid, "RootId"), "FunctionArn": function_arn,
            "AuthorizationType": AUTHORIZATION[auth], "Routes": ROUTES}


def _function_of(uri: str | None) -> str | None:
    if not uri or _URI_PREFIX not in uri or not uri.endswith(_URI_SUFFIX):
        return None
    return uri.split(_URI_PREFIX, 1)[1][:-len(_URI_SUFFIX)]


def _route(method: dict[str, Any] | None) -> dict[str, Any] | None:
    """One method as scar describes it (AuthorizationType and Uri included), or None when absent."""
    if method is None:
        return None
    integration = method.get("methodIntegration") or {}
    return {"AuthorizationType": method.get("authorizationType"),
            "MethodRequestParameters": dict(method.get("requestParameters") or {}),
            "IntegrationType": integration.get("type"), "IntegrationHttpMethod": integration.get("httpMethod"),
            "IntegrationRequestParameters": dict(integration.get("requestParameters") or {}),
            "Uri": integration.get("uri")}


def _common(values: list[Any]) -> Any:
    return values[0] if values and all(value == values[0] for value in values) else None


@register("aws")
class ApiRoutes(Kind):
    """Named by the API's name, with the function as parent. Current state: the wanted fields plus
    `Methods`, each path's method as it is (None: absent), which an undo puts back exactly."""

    kind = KIND
    compared = ("FunctionArn", "AuthorizationType", "Routes")

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"routes of REST API {rid.name}"

    def describe(self, desired: dict[str, Any]) -> str:
        return f"ANY / and {PROXY} → {desired_function(desired)} (AWS_PROXY, auth {desired['AuthorizationType']})"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        if action is Action.UNCHANGED:
            return ()
        return (Call("apigateway", "CreateResource", {"pathPart": "{proxy+}"}),
                *(Call("apigateway", operation, {"httpMethod": HTTP_METHOD, "path": path})
                  for path in ROUTES for operation in ("PutMethod", "PutIntegration")))

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        api = find_api(self.provider, rid.parent)
        if api is None:
            return None
        gateway = self.provider.apigateway
        resources = gateway.resources(api["id"])
        methods = {path: _route(gateway.method(api["id"], resources[path]["id"], HTTP_METHOD)
                                if path in resources else None) for path in ROUTES}
        fixed = {path: None if m is None else {key: m[key] for key in ROUTE} for path, m in methods.items()}
        present = list(methods.values())
        return {"RestApiId": api["id"], "Methods": methods, "Routes": fixed,
                "FunctionArn": _common([_function_of(m["Uri"]) if m else None for m in present]),
                "AuthorizationType": _common([m["AuthorizationType"] if m else None for m in present])}

    def _wanted_methods(self, desired: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
        uri = integration_uri(self.provider, desired["FunctionArn"])
        return {path: {"AuthorizationType": desired["AuthorizationType"], **route, "Uri": uri}
                for path, route in desired["Routes"].items()}

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self._converge(desired["RestApiId"], desired["RootId"], self._wanted_methods(desired), outputs)

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self._converge(desired["RestApiId"], desired["RootId"], self._wanted_methods(desired), outputs)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        """Only ever an undo: the routes go with their API."""
        self._converge(outputs["RestApiId"], outputs["RootId"], dict.fromkeys(ROUTES), {})
        outputs["deleted"] = True

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        if not outputs.get("changed"):
            return
        before = step.current["Methods"] if step.current else dict.fromkeys(ROUTES)
        self._converge(outputs["RestApiId"], outputs["RootId"], before, {})

    def _converge(self, api_id: str, root_id: str, wanted: dict[str, dict[str, Any] | None],
                  outputs: dict[str, Any]) -> None:
        """Make each path's method what `wanted` says (None: no method, and no `{proxy+}` resource)."""
        outputs.update({"RestApiId": api_id, "RootId": root_id})
        gateway = self.provider.apigateway
        resources = {path: resource["id"] for path, resource in gateway.resources(api_id).items()}
        for path, method in wanted.items():
            resource_id = resources.get(path)
            if method is None:
                if resource_id and path != ROOT:
                    outputs["changed"] = True
                    gateway.delete_resource(api_id, resource_id)  # its methods go with it
                elif resource_id:
                    outputs["changed"] = True
                    gateway.delete_method(api_id, resource_id, HTTP_METHOD)
                continue
            if resource_id is None:
                outputs["changed"] = True
                resource_id = gateway.client.create_resource(restApiId=api_id, parentId=root_id,
                                                             pathPart=path.strip("/"))["id"]
            existing = _route(gateway.method(api_id, resource_id, HTTP_METHOD))
            if existing == method:
                continue
            outputs["changed"] = True
            if existing is not None:
                gateway.delete_method(api_id, resource_id, HTTP_METHOD)
            self._put(api_id, resource_id, method)

    def _put(self, api_id: str, resource_id: str, method: dict[str, Any]) -> None:
        client = self.provider.apigateway.client
        client.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=HTTP_METHOD,
                          authorizationType=method["AuthorizationType"],
                          requestParameters=method["MethodRequestParameters"])
        if method["IntegrationType"]:
            client.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=HTTP_METHOD,
                                   type=method["IntegrationType"],
                                   integrationHttpMethod=method["IntegrationHttpMethod"], uri=method["Uri"],
                                   requestParameters=method["IntegrationRequestParameters"])


def desired_function(desired: dict[str, Any]) -> str:
    arn = desired["FunctionArn"]
    return arn.rsplit(":", 1)[-1] if isinstance(arn, str) else "the function"
