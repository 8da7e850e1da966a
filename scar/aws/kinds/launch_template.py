"""The EC2 launch template of a Batch function's instances: its user data installs the supervisor."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.aws.kinds.batch_base import BatchKind
from scar.deploy.kind import register
from scar.deploy.model import Action, Call, ResourceId, Step
from scar.version import __version__

KIND = "launch template"
_MISSING = ("InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound")


@register("aws")
class LaunchTemplate(BatchKind):
    """Named by the template, with the function as parent. Params: LaunchTemplateData."""

    kind = KIND
    what = "EC2 launch template"

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
        return self.owned_state(rid, {t["Key"]: t["Value"] for t in found[0].get("Tags") or ()})

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        tags = [{"Key": key, "Value": value} for key, value in desired["Tags"].items()]
        self.provider.ec2.create_launch_template(
            LaunchTemplateName=step.resource.name, VersionDescription=f"scar supervisor {__version__}",
            TagSpecifications=[{"ResourceType": "launch-template", "Tags": tags}], **desired["Params"])
        outputs["created"] = True

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        try:
            self.provider.ec2.delete_launch_template(LaunchTemplateName=step.resource.name)
        except ClientError as err:
            if error_code(err) not in _MISSING:
                raise
        outputs["deleted"] = True
