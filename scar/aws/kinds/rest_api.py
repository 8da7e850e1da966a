"""A function's REST API: regional, binary media types `*/*` (so binary bodies and results pass untouched),
tagged with the function it serves. It is found again by those tags (API names need not be unique), so
neither `init` nor `rm` depends on a record kept elsewhere."""

from __future__ import annotations

from typing import Any

from scar.aws.provider import AwsProvider
from scar.aws.tags import TAG_CREATED_BY
from scar.deploy.kind import Kind, NotUndoable, Resource, register
from scar.deploy.model import Action, Call, Ref, ResourceId, Step

KIND = "rest api"
TAG_FUNCTION = "scar:function"
DESCRIPTION = "API created automatically with SCAR"
BINARY_MEDIA_TYPES = ("*/*",)


def scar_api(apis: list[dict[str, Any]], function: str) -> dict[str, Any] | None:
    """The REST API scar created for `function` among `apis` (the oldest, should there be two)."""
    owned = [api for api in apis if (api.get("tags") or {}).get(TAG_CREATED_BY) == "scar"
             and (api.get("tags") or {}).get(TAG_FUNCTION) == function]
    return min(owned, key=lambda api: (str(api.get("createdDate", "")), api["id"])) if owned else None


def find_api(provider: AwsProvider, function: str) -> dict[str, Any] | None:
    """The function's REST API, from the region's list (read once per run while planning)."""
    return scar_api(provider.once(("rest apis",), provider.apigateway.rest_apis), function)


def api_tags(function_tags: dict[str, str], function: str) -> dict[str, str]:
    """The API's tags: who made it (as on the function) and which function it serves."""
    kept = {key: value for key, value in function_tags.items() if key in (TAG_CREATED_BY, "owner")}
    return {**kept, TAG_CREATED_BY: "scar", TAG_FUNCTION: function}


def api_ref(rid: ResourceId, output: str) -> Ref:
    """An output (`Id`, `RootId`) of the REST API step of the same function."""
    return Ref(ResourceId(KIND, rid.name, rid.scope, rid.parent), output)


@register("aws")
class RestApi(Kind):
    """Named by the API's name, with the function as parent. Wanted state: Name, Description, EndpointTypes,
    BinaryMediaTypes, Tags. Only the name and description are compared: the rest is set when the API is
    created (moto, the test emulator, neither keeps binary media types nor tags REST APIs afterwards)."""

    kind = KIND
    compared = ("Name", "Description")
    sweep_last = True  # a deleted API cannot come back with its id (and its URL): delete only once all went well

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"REST API {rid.name or '(removed)'} of {rid.parent}"

    def describe(self, desired: dict[str, Any]) -> str:
        types = ", ".join(desired["EndpointTypes"]).lower()
        return f"{types}, binary media types {', '.join(desired['BinaryMediaTypes'])}"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        return {Action.CREATE: (Call("apigateway", "CreateRestApi", {"name": rid.name}),),
                Action.UPDATE: (Call("apigateway", "UpdateRestApi", {"name": rid.name}),),
                Action.DELETE: (Call("apigateway", "DeleteRestApi", {"name": rid.name}),)}.get(action, ())

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        api = find_api(self.provider, rid.parent)
        if api is None:
            return None
        return {"Name": api.get("name"), "Description": api.get("description", ""),
                "EndpointTypes": list((api.get("endpointConfiguration") or {}).get("types") or []),
                "BinaryMediaTypes": list(api.get("binaryMediaTypes") or []), "Tags": dict(api.get("tags") or {}),
                "Id": api["id"], "RootId": api.get("rootResourceId")}

    def plan(self, resource: Resource, current: Any | None, known: Any) -> list[Step]:
        steps = super().plan(resource, current, known)
        if current is not None:
            for step in steps:
                step.known = self.outputs_of(current)
        return steps

    def outputs_of(self, current: dict[str, Any]) -> dict[str, Any]:
        return {"Id": current["Id"], "RootId": current["RootId"]}

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        gateway = self.provider.apigateway
        answer = gateway.client.create_rest_api(
            name=desired["Name"], description=desired["Description"],
            endpointConfiguration={"types": list(desired["EndpointTypes"])},
            binaryMediaTypes=list(desired["BinaryMediaTypes"]), tags=desired["Tags"])
        outputs["Id"] = answer["id"]
        self.provider.forget("rest apis")
        outputs["RootId"] = answer.get("rootResourceId") or gateway.resources(answer["id"])["/"]["id"]

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        """Also puts `step.current` back: the fields this step changes are sent either way."""
        operations = [{"op": "replace", "path": f"/{change.field.lower()}", "value": desired[change.field]}
                      for change in step.changes]
        if operations:
            self.provider.apigateway.client.update_rest_api(restApiId=step.current["Id"],
                                                            patchOperations=operations)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        api_id = outputs.get("Id") or step.current["Id"]
        self.provider.apigateway.delete_rest_api(api_id)
        self.provider.forget("rest apis")
        outputs["deleted"] = True

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        if step.action is Action.DELETE and outputs.get("deleted"):
            raise NotUndoable(f"{step.label} was deleted (a new one would have another URL); run scar init "
                              "again to create one")
        super().undo(step, outputs)
