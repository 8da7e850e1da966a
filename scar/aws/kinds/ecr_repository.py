"""The ECR repository of an image function, named after the function and tagged as scar's: created when
missing, kept as it is when it exists (scar never removes a repository it did not create)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.aws.provider import AwsProvider
from scar.aws.tags import TAG_CREATED_BY
from scar.deploy.kind import Kind, Resource, register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "ecr repository"


def read_repository(provider: AwsProvider, name: str) -> dict[str, Any] | None:
    try:
        found = provider.ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except ClientError as err:
        if error_code(err) == "RepositoryNotFoundException":
            return None
        raise
    tags = provider.ecr.list_tags_for_resource(resourceArn=found["repositoryArn"]).get("tags") or []
    return {"Uri": found["repositoryUri"], "Arn": found["repositoryArn"],
            "Tags": {tag["Key"]: tag["Value"] for tag in tags}}


@register("aws")
class EcrRepository(Kind):
    """Wanted state: Tags (set on creation only; an existing repository is used as it is)."""

    kind = KIND
    compared = ()

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"ECR repository {rid.name}"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        name = {"repositoryName": rid.name}
        return {Action.CREATE: (Call("ecr", "CreateRepository", name),),
                Action.DELETE: (Call("ecr", "DeleteRepository", {**name, "force": True}),)}.get(action, ())

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        return read_repository(self.provider, rid.name)

    def plan(self, resource: Resource, current: Any | None, known: Any) -> list[Step]:
        if current is None:
            return [self.step(resource.id, Action.CREATE, resource.desired, None, detail="tagged createdby=scar")]
        return [self.step(resource.id, Action.UNCHANGED, resource.desired, current, detail="exists",
                          known={"Uri": current["Uri"]})]

    def removal(self, rid: ResourceId, current: Any | None) -> list[Step]:
        if current is not None and current["Tags"].get(TAG_CREATED_BY) != "scar":
            return [self.step(rid, Action.UNCHANGED, None, current, detail="kept: scar did not create it")]
        return super().removal(rid, current)

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        tags = [{"Key": key, "Value": value} for key, value in desired["Tags"].items()]
        answer = self.provider.ecr.create_repository(repositoryName=step.resource.name, tags=tags)
        outputs["Uri"] = answer["repository"]["repositoryUri"]
        outputs["created"] = True

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        try:
            self.provider.ecr.delete_repository(repositoryName=step.resource.name, force=True)
        except ClientError as err:
            if error_code(err) != "RepositoryNotFoundException":
                raise
        outputs["deleted"] = True
