"""A thin wrapper over CloudWatch Logs: log groups and streamed, server-side filtered events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import error_code


class Logs:
    def __init__(self, client: Any) -> None:
        self.client = client

    def get_group(self, name: str) -> dict[str, Any] | None:
        paginator = self.client.get_paginator("describe_log_groups")
        for page in paginator.paginate(logGroupNamePrefix=name):
            for group in page.get("logGroups", ()):
                if group["logGroupName"] == name:
                    return group
        return None

    def create_group(self, name: str, tags: dict[str, str]) -> None:
        self.client.create_log_group(logGroupName=name, tags=tags)

    def set_retention(self, name: str, days: int) -> None:
        self.client.put_retention_policy(logGroupName=name, retentionInDays=days)

    def delete_group(self, name: str) -> bool:
        """Delete; False when it was already gone."""
        try:
            self.client.delete_log_group(logGroupName=name)
            return True
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return False
            raise

    def events(self, group: str, *, streams: list[str] | None = None, pattern: str | None = None,
               start_ms: int | None = None) -> Iterator[dict[str, Any]]:
        """Matching events, page by page (memory stays flat however large the group is)."""
        # Events of all streams in timestamp order: AWS always interleaves (the flag is deprecated and ignored
        # there), emulators such as moto only when asked.
        kwargs: dict[str, Any] = {"logGroupName": group, "interleaved": True}
        if streams:
            kwargs["logStreamNames"] = streams
        if pattern:
            kwargs["filterPattern"] = pattern
        if start_ms is not None:
            kwargs["startTime"] = start_ms
        for page in self.client.get_paginator("filter_log_events").paginate(**kwargs):
            yield from page.get("events", ())
