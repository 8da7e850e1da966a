"""A Lambda function as three kinds of step: its configuration (creating it creates everything), its tags and
its code. The code comes last in a function's plan: a new package cannot be undone cheaply, and a failed
code update leaves Lambda on the previous one."""

from __future__ import annotations

from typing import Any

from scar.aws.apigateway import ApiGateway
from scar.aws.functions import FunctionInfo, list_functions
from scar.aws.provider import AwsProvider
from scar.aws.tags import TAG_CREATED_BY
from scar.deploy.kind import Kind, NotUndoable, Resource, register
from scar.deploy.model import Action, Call, Change, ResourceId, Step, diff
from scar.errors import ScarError

KIND = "function"
TAGS_KIND = "function tags"
CODE_KIND = "function code"


def current_configuration(configuration: dict[str, Any]) -> dict[str, Any]:
    """GetFunction's configuration in the shape scar asks for (the keys UpdateFunctionConfiguration takes)."""
    vpc = configuration.get("VpcConfig") or {}
    return {
        "Role": configuration.get("Role"),
        "Handler": configuration.get("Handler"),
        "Runtime": configuration.get("Runtime"),
        "Description": configuration.get("Description", ""),
        "Timeout": configuration.get("Timeout"),
        "MemorySize": configuration.get("MemorySize"),
        "EphemeralStorage": {"Size": (configuration.get("EphemeralStorage") or {}).get("Size", 512)},
        "Environment": {"Variables": dict((configuration.get("Environment") or {}).get("Variables") or {})},
        "Layers": [layer["Arn"] for layer in configuration.get("Layers") or ()],
        "VpcConfig": {"SubnetIds": list(vpc.get("SubnetIds") or []),
                      "SecurityGroupIds": list(vpc.get("SecurityGroupIds") or [])},
        "FileSystemConfigs": [{"Arn": fs["Arn"], "LocalMountPath": fs["LocalMountPath"]}
                              for fs in configuration.get("FileSystemConfigs") or ()],
    }


def scope_of(arn: str) -> str:
    """The scope of a resource from its ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`)."""
    parts = arn.split(":")
    return f"aws:{parts[3]}:{parts[4]}"


def function_state(remote: dict[str, Any]) -> dict[str, Any]:
    configuration = remote["Configuration"]
    return {"Configuration": current_configuration(configuration), "Tags": dict(remote.get("Tags") or {}),
            "CodeSha256": configuration.get("CodeSha256"), "ImageUri": (remote.get("Code") or {}).get("ImageUri"),
            "Architectures": list(configuration.get("Architectures") or ["x86_64"]),
            "PackageType": configuration.get("PackageType", "Zip"), "FunctionArn": configuration["FunctionArn"]}


class _FunctionPart(Kind):
    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        remote = self.provider.function(rid.name)
        if remote is None:
            return None
        if (remote.get("Tags") or {}).get(TAG_CREATED_BY) != "scar":
            raise ScarError(f"{rid.name}: a Lambda function with this name exists and was not created by scar; "
                            "choose another name (scar never changes or removes functions it did not create)")
        return function_state(remote)


@register("aws")
class Function(_FunctionPart):
    """Wanted state: Configuration, Code (ZipFile or S3Bucket/S3Key), CodeSha256, Architectures, Tags, Size."""

    kind = KIND

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"configuration of {rid.name}" if action is Action.UPDATE else f"function {rid.name}"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        name = {"FunctionName": rid.name}
        return {Action.CREATE: (Call("lambda", "CreateFunction", name), Call("lambda", "GetFunction", name)),
                Action.UPDATE: (Call("lambda", "UpdateFunctionConfiguration", name),
                                Call("lambda", "GetFunctionConfiguration", name)),
                Action.DELETE: (Call("lambda", "DeleteFunction", name),)}.get(action, ())

    def plan(self, resource: Resource, current: dict[str, Any] | None, known: Any) -> list[Step]:
        rid, wanted = resource.id, resource.desired
        if current is None:
            lam = wanted["Configuration"]
            detail = f"{lam['Runtime'] or 'image'}, {lam['MemorySize']} MB, {lam['Timeout']} s, " \
                     f"{wanted['Size'] / 2**20:.1f} MiB"
            return [self.step(rid, Action.CREATE, wanted, None, detail=detail)]
        wanted_type = wanted.get("PackageType", "Zip")
        if current["PackageType"] != wanted_type:
            raise ScarError(f"{rid.name}: the function is deployed as a {current['PackageType'].lower()} package and "
                            f"the definition wants a {wanted_type.lower()} one; Lambda cannot change that in place: "
                            f"run `scar rm -n {rid.name}`, then `scar init` again")
        arn = {"FunctionArn": current["FunctionArn"]}
        changes = diff(current["Configuration"], wanted["Configuration"], known=known)
        if not changes:
            return [self.step(rid, Action.UNCHANGED, wanted, current, detail="up to date", known=arn)]
        return [self.step(rid, Action.UPDATE, wanted, current, changes=changes, known=arn)]

    def owned(self) -> list[tuple[ResourceId, FunctionInfo]]:
        """The caller's scar functions in this region (found by their tags), with what `ls` shows of each."""
        session = self.provider.session
        _, functions = list_functions(self.provider.lam, session.client("resourcegroupstaggingapi"),
                                      session.client("sts"), lambda: ApiGateway(session.client("apigateway")))
        return [(ResourceId(KIND, info.name, scope_of(info.arn)), info) for info in functions]

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        configuration = dict(desired["Configuration"])
        if not any(configuration["VpcConfig"].values()):  # empty ones are not accepted on creation
            del configuration["VpcConfig"]
        if not configuration["FileSystemConfigs"]:
            del configuration["FileSystemConfigs"]
        package_type = desired.get("PackageType", "Zip")
        if package_type == "Image":  # the image's configuration says what runs
            configuration = {key: value for key, value in configuration.items()
                             if key not in ("Handler", "Runtime", "Layers")}
        lam = self.provider.lam
        answer = lam.create_function(FunctionName=step.resource.name, PackageType=package_type, Code=desired["Code"],
                                     Architectures=desired["Architectures"], Tags=desired["Tags"], **configuration)
        outputs["FunctionArn"] = answer["FunctionArn"]
        lam.wait_active(step.resource.name)

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        keys = [change.field for change in step.changes]
        lam = self.provider.lam
        lam.update_configuration(step.resource.name, **{key: desired["Configuration"][key] for key in keys})
        lam.wait_updated(step.resource.name)

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        self.provider.lam.delete_function(step.resource.name)
        outputs["deleted"] = True


@register("aws")
class FunctionTags(_FunctionPart):
    """Wanted state: the tags. Keys scar no longer sets (`scar:*`) are removed; other people's tags stay."""

    kind = TAGS_KIND

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"tags of {rid.name}"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        return (Call("lambda", "TagResource", {"Resource": rid.name}),
                Call("lambda", "UntagResource", {"Resource": rid.name})) if action is Action.UPDATE else ()

    def plan(self, resource: Resource, current: dict[str, Any] | None, known: Any) -> list[Step]:
        if current is None:
            return []  # the function's creation sets them
        have, want = current["Tags"], resource.desired
        changes = [Change(key, have.get(key), value) for key, value in want.items() if have.get(key) != value]
        changes += [Change(key, have[key], None) for key in have if _managed(key) and key not in want]
        if not changes:
            return []
        return [self.step(resource.id, Action.UPDATE, want, current, changes=tuple(changes),
                          detail=", ".join(sorted(c.field for c in changes)))]

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        self._converge(step, step.current["Tags"], desired, _managed)

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        added = step.desired
        self._converge(step, added, step.current["Tags"], lambda key: key in added)

    def _converge(self, step: Step, have: dict[str, str], want: dict[str, str], removable: Any) -> None:
        arn = step.current["FunctionArn"]
        lam = self.provider.lam
        changed = {key: value for key, value in want.items() if have.get(key) != value}
        stale = [key for key in have if key not in want and removable(key)]
        if changed:
            lam.tag(arn, changed)
        if stale:
            lam.untag(arn, stale)


def _managed(key: str) -> bool:
    return key.startswith("scar:")


@register("aws")
class FunctionCode(_FunctionPart):
    """Wanted state: Code, CodeSha256 (zip) or ImageUri (`repository@digest`: the image), Architectures."""

    kind = CODE_KIND

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"code of {rid.name}"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        if action is Action.UPDATE:
            return (Call("lambda", "UpdateFunctionCode", {"FunctionName": rid.name}),
                    Call("lambda", "GetFunctionConfiguration", {"FunctionName": rid.name}))
        return ()

    def plan(self, resource: Resource, current: dict[str, Any] | None, known: Any) -> list[Step]:
        if current is None:
            return []  # the function's creation uploads it
        wanted = resource.desired
        code = "ImageUri" if "ImageUri" in wanted else "CodeSha256"
        changes = diff({key: current.get(key) for key in (code, "Architectures")},
                       {key: wanted[key] for key in (code, "Architectures")})
        if not changes:
            return []
        new = {"ImageUri": "new image", "CodeSha256": "new package"}
        detail = next((new[c.field] for c in changes if c.field in new), f"architecture {wanted['Architectures'][0]}")
        return [self.step(resource.id, Action.UPDATE, wanted, current, changes=changes, detail=detail)]

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        lam = self.provider.lam
        lam.update_code(step.resource.name, Architectures=desired["Architectures"], **desired["Code"])
        outputs["updated"] = True
        lam.wait_updated(step.resource.name)

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        if outputs.get("updated"):
            raise NotUndoable("the new package stays (Lambda keeps no copy of the previous one to restore); run "
                              "scar init again to deploy the definition you want")
