"""A function package too large to upload directly, stored in the deployment bucket under a key that names its
content: a new package is a new object (its undo deletes it), and older ones are swept once the function uses
the new one."""

from __future__ import annotations

import hashlib
from typing import Any

from scar.aws.provider import AwsProvider
from scar.deploy.kind import Kind, register
from scar.deploy.model import Action, Call, ResourceId, Step

KIND = "deployment package"
PREFIX = "scar/{function}/"


def package_key(function: str, zip_bytes: bytes) -> str:
    return f"{PREFIX.format(function=function)}function-{hashlib.sha256(zip_bytes).hexdigest()[:16]}.zip"


def stored_packages(provider: AwsProvider, bucket: str, function: str) -> list[str]:
    """Keys of every package of `function` in `bucket` (none when the bucket does not exist)."""
    s3 = provider.s3
    if not s3.bucket_exists(bucket):
        return []
    paginator = s3.client.get_paginator("list_objects_v2")
    return [item["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=PREFIX.format(function=function))
            for item in page.get("Contents", ()) if item["Key"].endswith(".zip")]


@register("aws")
class PackageObject(Kind):
    """Named `bucket/key`. Wanted state: Body (the zip)."""

    kind = KIND
    sweep_last = True

    def __init__(self, provider: AwsProvider) -> None:
        self.provider = provider

    def label(self, rid: ResourceId, action: Action) -> str:
        return f"deployment package s3://{rid.name}"

    def describe(self, desired: dict[str, Any]) -> str:
        return f"{len(desired['Body']) / 2**20:.1f} MiB"

    def calls(self, action: Action, rid: ResourceId) -> tuple[Call, ...]:
        bucket, _, key = rid.name.partition("/")
        operation = {Action.CREATE: "PutObject", Action.DELETE: "DeleteObject"}.get(action)
        return (Call("s3", operation, {"Bucket": bucket, "Key": key}),) if operation else ()

    def read(self, rid: ResourceId) -> dict[str, Any] | None:
        bucket, _, key = rid.name.partition("/")
        return None if self.provider.s3.head_object(bucket, key) is None else {}

    def plan(self, resource: Any, current: Any, known: Any) -> list[Step]:
        action = Action.CREATE if current is None else Action.UNCHANGED
        return [self.step(resource.id, action, resource.desired, current, detail=self.describe(resource.desired))]

    def create(self, step: Step, desired: dict[str, Any], outputs: dict[str, Any]) -> None:
        bucket, _, key = step.resource.name.partition("/")
        self.provider.s3.client.put_object(Bucket=bucket, Key=key, Body=desired["Body"])
        outputs["created"] = True

    def delete(self, step: Step, outputs: dict[str, Any]) -> None:
        bucket, _, key = step.resource.name.partition("/")
        self.provider.s3.delete_object(bucket, key)
        outputs["deleted"] = True
