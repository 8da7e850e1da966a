"""The stage that serves a function's REST API (`scar`, or `api_gateway.stage_name`): a deployment of the
API's routes. The deployment's description records which routes it was made from (a digest), so a change
of routes is redeployed and an unchanged re-init deploys nothing (the URL stays the same)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from scar.aws.apigateway import invoke_url
from scar.aws.kinds.rest_api import api_ref, find_api
from scar.aws.provider import AwsProvider
from scar.deploy.kind import Kind, Resource, register
from scar.deploy.model import Action, Call, Change, ResourceId, Step

KIND = "api stage"
_REVISION_PREFIX = "scar routes "


def revision(function: str, routes: dict[str, Any]) -> str:
    """What a deployment is made of, as its description: a digest of the routes' wanted state (by the
    function's name, which is known before the function exists)."""
    text = json.dumps({"function": function, "routes": routes}, sort_keys=True)
    return _REVISION_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:16]


def stage_entry(rid: ResourceId, stage: str, routes: dict[str, Any]) -> dict[str, Any]:
    """`routes`: the routes' wanted state without references (authorization and the fixed route shape)."""
    return {"RestApiId": api_ref(rid, "Id"), "StageName": stage, "Revision": revision(rid.parent, routes)}


@register("aws")
class ApiStage(Kind):
    """Named by the API's name, with the function as parent. Current state: the API's stages (name →
    deployment) and its deployments' descriptions; other stages than the wanted one are removed."""

    kind = KIND

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"stage of REST API {rid.name}"

    def describe(self, desired: dict[str, Any]) -> str:
        return f"stage {desired['StageName']}"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        if action is Action.UNCHANGED:
            return ()
        return (Call("apigateway", "CreateDeployment", {"restApi": rid.name}),
                Call("apigateway", "DeleteStage", {"restApi": rid.name, "when": "another stage name"}))

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        api = find_api(self.provider, rid.parent)
        if api is None:
            return None
        gateway = self.provider.apigateway
        return {"RestApiId": api["id"], "Stages": gateway.stages(api["id"]),
                "Deployments": gateway.deployments(api["id"])}

    def plan(self, resource: Resource, current: dict[str, Any] | None, known: Any) -> list[Step]:
        rid, wanted = resource.id, resource.desired
        stage = wanted["StageName"]
        if current is None:
            return [self.step(rid, Action.CREATE, wanted, None, detail=self.describe(wanted))]
        stages = current["Stages"]
        served = current["Deployments"].get(stages.get(stage, ""))
        changes = []
        if sorted(stages) != [stage]:
            changes.append(Change("StageName", ", ".join(sorted(stages)) or None, stage))
        if served != wanted["Revision"]:
            changes.append(Change("Revision", served, wanted["Revision"]))
        url = {"Url": invoke_url(current["RestApiId"], self.provider.region, stage)}
        if not changes:
            return [self.step(rid, Action.UNCHANGED, wanted, current, detail=self.describe(wanted), known=url)]
        detail = "redeploy" if len(changes) == 1 and changes[0].field == "Revision" else None
        return [self.step(rid, Action.UPDATE, wanted, current, changes=tuple(changes), detail=detail or "")]

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self._deploy(step, desired, outputs)

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self._deploy(step, desired, outputs)

    def _deploy(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        api_id, stage = desired["RestApiId"], desired["StageName"]
        gateway = self.provider.apigateway
        outputs.update({"RestApiId": api_id, "changed": True})
        outputs["DeploymentId"] = gateway.client.create_deployment(restApiId=api_id, stageName=stage,
                                                                   description=desired["Revision"])["id"]
        for other in (step.current or {}).get("Stages", {}):
            if other != stage:
                gateway.delete_stage(api_id, other)
        outputs["Url"] = invoke_url(api_id, self.provider.region, stage)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        """Only ever an undo: the stage goes with its API."""
        self.undo(step, outputs)
        outputs["deleted"] = True

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        """Every stage serves again the deployment it served; the wanted stage goes if it is new; the
        deployment this step made is deleted."""
        if not outputs.get("changed"):
            return
        api_id = outputs["RestApiId"]
        gateway = self.provider.apigateway
        before = (step.current or {}).get("Stages", {})
        now = gateway.stages(api_id)
        for stage, deployment in before.items():
            if stage not in now:
                gateway.client.create_stage(restApiId=api_id, stageName=stage, deploymentId=deployment)
            elif now[stage] != deployment:
                gateway.client.update_stage(restApiId=api_id, stageName=stage, patchOperations=[
                    {"op": "replace", "path": "/deploymentId", "value": deployment}])
        wanted = step.desired["StageName"]
        if wanted not in before:
            gateway.delete_stage(api_id, wanted)
        if outputs.get("DeploymentId"):
            gateway.delete_deployment(api_id, outputs["DeploymentId"])
