"""Buckets of a function's S3 inputs and outputs: created private and tagged when missing, never deleted by
`rm` (they hold the user's data); the undo of a creation removes the bucket only while it is still empty."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.aws.provider import AwsProvider
from scar.aws.tags import TAG_CREATED_BY
from scar.deploy.kind import Kind, register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "bucket"


@register("aws")
class Bucket(Kind):
    kind = KIND

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        return {} if self.provider.s3.bucket_exists(rid.name) else None

    def plan(self, resource: Any, current: Any, known: Any) -> list[Step]:
        action = Action.UNCHANGED if current is not None else Action.CREATE
        detail = "exists" if current is not None else f"private, in {self.provider.region}"
        return [self.step(resource.id, action, resource.desired, current, detail=detail)]

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        if action is Action.CREATE:
            return (Call("s3", "CreateBucket", {"Bucket": rid.name}), Call("s3", "PutBucketTagging",
                                                                           {"Bucket": rid.name}))
        return ()

    def create(self, step: Step, desired: Any, outputs: dict[str, Any]) -> None:
        s3 = self.provider.s3
        if not s3.ensure_bucket(step.resource.name, self.provider.region):
            return  # someone made it meanwhile: not ours to undo
        outputs["created"] = True
        s3.client.put_bucket_tagging(Bucket=step.resource.name,
                                     Tagging={"TagSet": [{"Key": TAG_CREATED_BY, "Value": "scar"}]})

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        """Only while empty: a bucket that received data meanwhile stays."""
        client = self.provider.s3.client
        try:
            if client.list_objects_v2(Bucket=step.resource.name, MaxKeys=1).get("KeyCount"):
                return
            client.delete_bucket(Bucket=step.resource.name)
        except ClientError as err:
            if error_code(err) != "NoSuchBucket":
                raise
        outputs["deleted"] = True
