"""The EC2 launch template of a Batch function's instances: its user data installs the supervisor. A change
(a new supervisor artifact, say) is a new version made the default, and the template's tags follow; the
undo makes the previous version the default again and deletes the one this run created. Its outputs give
the default version, which the compute environment names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.aws.kinds.batch_base import BatchKind, tag_changes
from scar.deploy.kind import Resource, register
from scar.deploy.model import Action, Call, Change, Ref, ResourceId, Step
from scar.errors import AwsError
from scar.version import __version__

KIND = "launch template"
_MISSING = ("InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound")


@register("aws")
class LaunchTemplate(BatchKind):
    """Named by the template, with the function as parent. Params: LaunchTemplateData. Read also gives Id and
    Version (the default version's number, as a string)."""

    kind = KIND
    what = "EC2 launch template"
    compared = ("Digest", "Tags")

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        name = {"LaunchTemplateName": rid.name}
        return {Action.CREATE: (Call("ec2", "CreateLaunchTemplate", name),),
                Action.DELETE: (Call("ec2", "DeleteLaunchTemplate", name),)}.get(action, ())

    def describe(self, desired: dict[str, Any]) -> str:
        return "user data installs the supervisor (SHA-256 checked)"

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        try:
            found = self.provider.ec2.describe_launch_templates(LaunchTemplateNames=[rid.name])["LaunchTemplates"]
        except ClientError as err:
            if error_code(err) in _MISSING:
                return None
            raise
        if not found:
            return None
        return self.owned_state(rid, {t["Key"]: t["Value"] for t in found[0].get("Tags") or ()},
                                Id=found[0]["LaunchTemplateId"], Version=str(found[0]["DefaultVersionNumber"]))

    def outputs_of(self, current: dict[str, Any]) -> dict[str, Any]:
        return {"Version": current["Version"]}

    def plan(self, resource: Resource, current: Any | None, known: Mapping[Ref, Any]) -> list[Step]:
        steps = super().plan(resource, current, known)
        if steps[0].action is Action.UPDATE and current["Digest"] == resource.desired["Digest"]:
            steps[0].known = self.outputs_of(current)  # only the tags change: the default version stays
        return steps

    def setting_changes(self, current: dict[str, Any], wanted: dict[str, Any]) -> tuple[Change, ...]:
        if current["Digest"] == wanted["Digest"]:
            return ()
        return (Change("default version", current["Version"], f"a new version ({self.describe(wanted)})"),)

    def update_calls(self, rid: ResourceId, current: dict[str, Any], wanted: dict[str, Any]) -> tuple[Call, ...]:
        name = {"LaunchTemplateName": rid.name}
        version = (Call("ec2", "CreateLaunchTemplateVersion", name), Call("ec2", "ModifyLaunchTemplate", name)) \
            if current["Digest"] != wanted["Digest"] else ()
        put, remove = tag_changes(current["Tags"], wanted["Tags"])
        return version + ((Call("ec2", "CreateTags", {"Resources": [current["Id"]]}),) if put else ()) + \
            ((Call("ec2", "DeleteTags", {"Resources": [current["Id"]], "Tags": remove}),) if remove else ())

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        tags = [{"Key": key, "Value": value} for key, value in desired["Tags"].items()]
        answer = self.provider.ec2.create_launch_template(
            LaunchTemplateName=step.resource.name, VersionDescription=f"scar supervisor {__version__}",
            TagSpecifications=[{"ResourceType": "launch-template", "Tags": tags}], **desired["Params"])
        outputs["created"] = True
        outputs["Version"] = str(answer["LaunchTemplate"]["DefaultVersionNumber"])

    def update(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        ec2, name, current = self.provider.ec2, step.resource.name, step.current
        if desired["Digest"] != current["Digest"]:
            answer = ec2.create_launch_template_version(
                LaunchTemplateName=name, VersionDescription=f"scar supervisor {__version__}", **desired["Params"])
            outputs["NewVersion"] = str(answer["LaunchTemplateVersion"]["VersionNumber"])
            ec2.modify_launch_template(LaunchTemplateName=name, DefaultVersion=outputs["NewVersion"])
            outputs["Version"] = outputs["NewVersion"]
        outputs["Retagged"] = True
        self._retag(current["Id"], current["Tags"], desired["Tags"])

    def undo(self, step: Step, outputs: dict[str, Any]) -> None:
        if step.action is not Action.UPDATE:
            super().undo(step, outputs)
            return
        ec2, name, current = self.provider.ec2, step.resource.name, step.current
        if "NewVersion" in outputs:
            ec2.modify_launch_template(LaunchTemplateName=name, DefaultVersion=current["Version"])
            answer = ec2.delete_launch_template_versions(LaunchTemplateName=name, Versions=[outputs["NewVersion"]])
            if answer.get("UnsuccessfullyDeletedLaunchTemplateVersions"):
                raise AwsError(f"version {outputs['NewVersion']} of the launch template {name} stays")
        if outputs.get("Retagged"):
            self._retag(current["Id"], step.desired["Tags"], current["Tags"])

    def _retag(self, template_id: str, old: Mapping[str, str], new: Mapping[str, str]) -> None:
        put, remove = tag_changes(old, new)
        if put:
            self.provider.ec2.create_tags(Resources=[template_id],
                                          Tags=[{"Key": key, "Value": value} for key, value in put.items()])
        if remove:
            self.provider.ec2.delete_tags(Resources=[template_id], Tags=[{"Key": key} for key in remove])

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        try:
            self.provider.ec2.delete_launch_template(LaunchTemplateName=step.resource.name)
        except ClientError as err:
            if error_code(err) not in _MISSING:
                raise
        outputs["deleted"] = True
