"""`python devtools/moto_gaps.py -H HOST -p PORT`: moto's server with the AWS Batch and EC2 behaviour scar's
in-place Batch updates need and moto 5 leaves out, filled in the server process before it starts:

- UpdateComputeEnvironment ignores `computeResources` (moto keeps a TODO): here the fields sent replace the
  stored ones, as AWS Batch reports them afterwards;
- UpdateJobQueue accepts compute environments only by ARN: here by name too, as AWS Batch does;
- DescribeLaunchTemplates shows the tags the template was created with, never CreateTags/DeleteTags: here
  the current ones;
- DeleteLaunchTemplateVersions does not exist: here it does, and version numbers are never reused (a new
  version gets the highest number ever given plus one), as in EC2.

Everything else is moto's own behaviour.
"""

from __future__ import annotations

from typing import Any

from moto.batch.models import BatchBackend
from moto.core.responses import ActionResult
from moto.ec2.exceptions import InvalidLaunchTemplateVersionNotFound
from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateBackend, LaunchTemplateVersion
from moto.ec2.responses.launch_templates import LaunchTemplates

_update_compute_environment = BatchBackend.update_compute_environment
_by_arn = BatchBackend.get_compute_environment_by_arn


def update_compute_environment(self: BatchBackend, compute_environment_name: str, state: str | None,
                               compute_resources: Any | None, service_role: str | None) -> tuple[str, str]:
    answer = _update_compute_environment(self, compute_environment_name, state, None, service_role)
    environment = self.get_compute_environment(compute_environment_name)
    if compute_resources and environment is not None:
        environment.compute_resources = {**environment.compute_resources, **compute_resources}
    return answer


def compute_environment_by_arn_or_name(self: BatchBackend, arn: str) -> Any:
    return _by_arn(self, arn) or self.get_compute_environment_by_name(arn)


def create_version(self: LaunchTemplate, data: dict[str, Any], description: str) -> LaunchTemplateVersion:
    number = getattr(self, "numbered", 0) + 1  # the highest number ever given: deleted ones are not reused
    self.numbered = number
    version = LaunchTemplateVersion(self, number, data, description)
    self.versions.append(version)
    return version


def get_version(self: LaunchTemplate, num: Any) -> LaunchTemplateVersion:
    wanted = {"$latest": self.versions[-1].number, "$default": self.default_version_number}.get(str(num).lower(), num)
    for version in self.versions:
        if str(version.number) == str(wanted):
            return version
    raise InvalidLaunchTemplateVersionNotFound(template_id=self.id, version=num)


def default_version(self: LaunchTemplate) -> LaunchTemplateVersion:
    return self.get_version(self.default_version_number)


def delete_versions(self: LaunchTemplateBackend, name: str | None, template_id: str | None,
                    numbers: list[str]) -> tuple[LaunchTemplate, list[str], list[str]]:
    template = self.get_launch_template_by_name(name) if name else self.get_launch_template(template_id or "")
    deleted, refused = [], []
    for number in numbers:
        kept = [v for v in template.versions if str(v.number) != str(number)]
        if str(number) == str(template.default_version_number) or len(kept) == len(template.versions):
            refused.append(number)
        else:
            template.versions = kept
            deleted.append(number)
    return template, deleted, refused


def delete_launch_template_versions(self: LaunchTemplates) -> ActionResult:
    self.error_on_dryrun()
    template, deleted, refused = self.ec2_backend.delete_launch_template_versions(
        self._get_param("LaunchTemplateName"), self._get_param("LaunchTemplateId"),
        self._get_param("Versions", []))
    return ActionResult({
        "SuccessfullyDeletedLaunchTemplateVersions": [
            {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name, "VersionNumber": int(number)}
            for number in deleted],
        "UnsuccessfullyDeletedLaunchTemplateVersions": [
            {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name, "VersionNumber": int(number),
             "ResponseError": {"Code": "launchTemplateVersionDoesNotExist", "Message": "cannot delete this version"}}
            for number in refused]})


def fill_gaps() -> None:
    BatchBackend.update_compute_environment = update_compute_environment  # type: ignore[method-assign]
    BatchBackend.get_compute_environment_by_arn = compute_environment_by_arn_or_name  # type: ignore[method-assign]
    LaunchTemplate.create_version = create_version  # type: ignore[method-assign]
    LaunchTemplate.get_version = get_version  # type: ignore[method-assign]
    LaunchTemplate.default_version = default_version  # type: ignore[method-assign]
    LaunchTemplate.tags = property(lambda self: self.get_tags(), lambda self, value: None)  # type: ignore[assignment]
    LaunchTemplateBackend.delete_launch_template_versions = delete_versions  # type: ignore[attr-defined]
    LaunchTemplates.delete_launch_template_versions = delete_launch_template_versions  # type: ignore[attr-defined]


if __name__ == "__main__":
    from moto.server import main

    fill_gaps()
    main()
