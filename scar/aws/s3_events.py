"""S3 event notifications shaped as AWS sends them: one independent document per object."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote_plus

from scar.aws.arns import arn
from scar.config.regions import partition_of


def s3_event(bucket: str, key: str, size: int, region: str, when: datetime | None = None) -> dict[str, Any]:
    """The `ObjectCreated:Put` notification for one object (the key URL-encoded, as S3 does)."""
    moment = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "scar-run",
            "bucket": {"name": bucket, "arn": arn(partition_of(region), "s3", "", "", bucket)},
            "object": {"key": quote_plus(key, safe="/"), "size": size},
        },
    }]}
