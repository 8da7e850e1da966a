"""A thin wrapper over the S3 client: buckets, folder-style listings and locations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code
from scar.config.specs import BUCKET_NAME
from scar.errors import AwsError, BadInputError

_BUCKET = re.compile(BUCKET_NAME)


@dataclass(frozen=True)
class S3Location:
    """`bucket[/folder]`. The folder is a folder: `in` covers `in/x` but not `input2/x`."""

    bucket: str
    folder: str = ""

    @property
    def key_prefix(self) -> str:
        return f"{self.folder}/" if self.folder else ""

    def key_for(self, relative: str) -> str:
        return self.key_prefix + relative

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key_prefix}"


def parse_location(text: str, flag: str = "-b/--bucket") -> S3Location:
    """`bucket`, `bucket/folder/sub` or `s3://bucket/folder` → S3Location; exit 2 on a bad bucket name."""
    path = text[len("s3://"):] if text.startswith("s3://") else text
    bucket, _, folder = path.partition("/")
    if not _BUCKET.fullmatch(bucket):
        raise BadInputError(f"command line: {flag}: {text!r} must be BUCKET[/FOLDER] with a valid bucket name "
                            "(3-63 lowercase letters, digits, dots or hyphens)")
    folder = "/".join(part for part in folder.split("/") if part)
    return S3Location(bucket, folder)


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    last_modified: datetime
    etag: str | None = None


class S3:
    def __init__(self, client: Any) -> None:
        self.client = client

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.client.head_bucket(Bucket=bucket)
            return True
        except ClientError as err:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 or error_code(err) in ("404", "NoSuchBucket", "NotFound"):
                return False
            if status == 403:
                raise AwsError(f"bucket {bucket!r} exists but this account may not use it (403 Forbidden)") from None
            raise

    def create_bucket(self, bucket: str, region: str) -> None:
        """Create a private bucket in `region` (us-east-1 takes no LocationConstraint)."""
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**kwargs)
        except ClientError as err:
            if error_code(err) != "BucketAlreadyOwnedByYou":
                raise

    def ensure_bucket(self, bucket: str, region: str) -> bool:
        """Create the bucket if it is missing; True when it was created."""
        if self.bucket_exists(bucket):
            return False
        self.create_bucket(bucket, region)
        return True

    def list_objects(self, location: S3Location) -> Iterator[S3Object]:
        """Every object in the folder (and its subfolders), skipping zero-byte folder markers."""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=location.bucket, Prefix=location.key_prefix):
                for item in page.get("Contents", ()):
                    if not item["Key"].endswith("/"):
                        yield S3Object(item["Key"], item["Size"], item["LastModified"], item.get("ETag"))
        except ClientError as err:
            if error_code(err) == "NoSuchBucket":
                raise AwsError(f"bucket {location.bucket!r} does not exist") from None
            raise

    def _head(self, bucket: str, key: str) -> dict[str, Any] | None:
        """HeadObject, or None when there is no such object (or bucket)."""
        try:
            return self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if error_code(err) in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
                return None
            raise

    def object_metadata(self, bucket: str, key: str) -> dict[str, str] | None:
        """The user metadata of an object, or None when there is no such object."""
        head = self._head(bucket, key)
        return None if head is None else head.get("Metadata", {})

    def delete_object(self, bucket: str, key: str) -> bool:
        """Delete one object; False when it (or its bucket) was already gone."""
        if self._head(bucket, key) is None:
            return False
        self.client.delete_object(Bucket=bucket, Key=key)
        return True

    def head_object(self, bucket: str, key: str) -> S3Object | None:
        head = self._head(bucket, key)
        if head is None:
            return None
        return S3Object(key, head["ContentLength"], head["LastModified"], head.get("ETag"))
