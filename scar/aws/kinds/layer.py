"""The supervisor layer: one version per content (its description names the content's hash), shared by the
functions of a region, and the sweep of versions no function uses any more."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.aws.provider import AwsProvider
from scar.deploy.kind import Kind, Resource, register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "layer"
VERSION_KIND = "layer version"


def layer_version_id(provider: AwsProvider, layer: str, version: int) -> ResourceId:
    return ResourceId(VERSION_KIND, f"{layer}:{version}", provider.scope)


@register("aws")
class Layer(Kind):
    """Wanted state: Description, Zip, LicenseInfo, CompatibleRuntimes, CompatibleArchitectures."""

    kind = KIND

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def read(self, rid: ResourceId) -> list[dict[str, Any]]:
        return self.provider.layer_versions(rid.name)

    def plan(self, resource: Resource, current: list[dict[str, Any]], known: Any) -> list[Step]:
        wanted = resource.desired
        for version in current:
            if version.get("Description") == wanted["Description"]:
                return [self.step(resource.id, Action.UNCHANGED, wanted, version,
                                  detail=f"version {version['Version']}",
                                  known={"LayerVersionArn": version["LayerVersionArn"]})]
        return [self.step(resource.id, Action.CREATE, wanted, None, detail=wanted["Description"])]

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        if action is Action.CREATE:
            return (Call("lambda", "PublishLayerVersion", {"LayerName": rid.name}),)
        return ()

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        answer = self.provider.lam.publish_layer(
            step.resource.name, desired["Description"], desired["Zip"], desired["CompatibleRuntimes"],
            desired["LicenseInfo"], desired["CompatibleArchitectures"])
        outputs.update(LayerVersionArn=answer["LayerVersionArn"], Version=answer["Version"])

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        delete_version(self.provider, step.resource.name, outputs["Version"])


@register("aws")
class LayerVersion(Kind):
    """A version of a scar layer; stale once no function of the region uses it. Its removal checks that
    again when it runs, so a version a function still (or again) uses is never deleted."""

    kind = VERSION_KIND
    sweep_last = True

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"layer {rid.name}"

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        return {"LayerVersionArn": self.provider.arn("lambda", f"layer:{rid.name}")}

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        layer, _, version = rid.name.rpartition(":")
        if action is Action.DELETE:
            return (Call("lambda", "DeleteLayerVersion", {"LayerName": layer, "VersionNumber": int(version)}),)
        return ()

    def removal(self, rid: ResourceId, current: Any) -> list[Step]:
        return [self.step(rid, Action.DELETE, None, current, detail="no function uses it")]

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        layer, _, version = step.resource.name.rpartition(":")
        if step.current["LayerVersionArn"] in used_layer_arns(self.provider):
            return
        delete_version(self.provider, layer, int(version))
        outputs["deleted"] = True

    def create(self, step: Step, desired: Any, outputs: dict[str, Any]) -> None:
        raise NotImplementedError("a deleted layer version cannot be restored")


def used_layer_arns(provider: AwsProvider, excluding: set[str] = frozenset(),  # type: ignore[assignment]
                    planning: bool = False) -> set[str]:
    """Every layer version ARN a function of the region uses, read afresh (or, when `planning`, as planning
    listed the functions), but for the functions named in `excluding` (the ones a plan moves to another
    version or removes)."""
    functions = provider.function_listing() if planning else provider.lam.list_functions()
    return {entry["Arn"] for function in functions if function["FunctionName"] not in excluding
            for entry in function.get("Layers") or ()}


def unused_versions(provider: AwsProvider, layer: str, keep: set[str], moving: set[str]) -> list[ResourceId]:
    """The versions of `layer` no function will use once the functions in `moving` no longer use theirs,
    except `keep` (ARNs a plan is about to use). The functions and the layer's versions are those planning
    listed (asked at once); the removal of a version checks afresh that nothing uses it."""
    with ThreadPoolExecutor(1) as pool:
        in_use = pool.submit(used_layer_arns, provider, moving, True)
        versions = provider.layer_versions(layer)
        used = in_use.result() | keep
    return [layer_version_id(provider, layer, v["Version"]) for v in versions if v["LayerVersionArn"] not in used]


def delete_version(provider: AwsProvider, layer: str, version: int) -> None:
    try:
        provider.lam.delete_layer_version(layer, version)
    except ClientError as err:
        if error_code(err) != "ResourceNotFoundException":
            raise
