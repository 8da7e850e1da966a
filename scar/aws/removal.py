"""Removing scar functions: best effort and idempotent, in reverse dependency order (the function before
its log group, so that no invocation in flight recreates the group), then the supervisor layer versions
that no function uses any more."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from scar.aws.function_deploy import log_group_name
from scar.aws.lambda_ import Lambda
from scar.aws.logs import Logs
from scar.aws.s3 import S3
from scar.aws.s3_triggers import remove_triggers
from scar.aws.secrets import remove_function_secrets
from scar.aws.tags import TAG_CREATED_BY, TAG_CREDENTIALS, TAG_DEPLOYMENT, TAG_INPUTS, TAG_LAYER
from scar.errors import ScarError

REMOVED, ABSENT, WOULD_REMOVE = "removed", "already absent", "would be removed"


@dataclass
class Removal:
    name: str
    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (resource, what happened)
    layer: str | None = None
    error: str | None = None


def remove_function(lam: Lambda, logs: Logs, s3: Callable[[], S3], ssm: Callable[[], Any], name: str,
                    deployment: str | None, layer: str, input_buckets: list[str], has_secrets: bool,
                    dry_run: bool) -> Removal:
    """Remove one function and what scar created for it. `deployment` (`bucket/key` of its package) and
    `input_buckets` come from the FDL when there is one; the function's tags say them too."""
    removal = Removal(name, layer=layer)
    remote = lam.get_function(name)
    tags = (remote or {}).get("Tags") or {}
    if remote is not None and tags.get(TAG_CREATED_BY) != "scar":
        raise ScarError(f"{name}: this Lambda function was not created by scar; scar leaves it alone")
    removal.layer = tags.get(TAG_LAYER, layer)
    deployment = tags.get(TAG_DEPLOYMENT, deployment)
    buckets = list(dict.fromkeys([*input_buckets, *tags.get(TAG_INPUTS, "").split()]))
    group = log_group_name(name)
    if dry_run:
        removal.outcomes.extend((f"notification s3://{b} → {name}", WOULD_REMOVE) for b in buckets)
        removal.outcomes.append((f"function {name}", WOULD_REMOVE if remote else ABSENT))
        removal.outcomes.append((f"log group {group}", WOULD_REMOVE if logs.get_group(group) else ABSENT))
        if deployment:
            removal.outcomes.append((f"deployment package s3://{deployment}", WOULD_REMOVE))
        if tags.get(TAG_CREDENTIALS) or has_secrets:
            removal.outcomes.append((f"credentials /scar/{name}/storage/*", WOULD_REMOVE))
        return removal
    if buckets:  # first, so that S3 never points at a function that is gone
        arn = (remote or {}).get("Configuration", {}).get("FunctionArn", "")
        removal.outcomes.extend(remove_triggers(s3(), name, arn, buckets))
    removal.outcomes.append((f"function {name}", REMOVED if lam.delete_function(name) else ABSENT))
    removal.outcomes.append((f"log group {group}", REMOVED if logs.delete_group(group) else ABSENT))
    if tags.get(TAG_CREDENTIALS) or has_secrets:
        removal.outcomes.extend(remove_function_secrets(ssm(), name))
    if deployment:
        bucket, _, key = deployment.partition("/")
        removed = s3().delete_object(bucket, key)
        removal.outcomes.append((f"deployment package s3://{deployment}", REMOVED if removed else ABSENT))
    return removal


def unused_layer_versions(lam: Lambda, layer: str) -> list[dict[str, Any]]:
    """Versions of `layer` that no function in the region uses."""
    with ThreadPoolExecutor(2) as pool:  # two independent listings
        listed = pool.submit(lam.layer_versions, layer)
        functions = pool.submit(lambda: [f for page in lam.client.get_paginator("list_functions").paginate()
                                         for f in page.get("Functions", ())])
        versions, every_function = listed.result(), functions.result()
    if not versions:
        return []
    used = {entry["Arn"] for function in every_function for entry in function.get("Layers") or ()}
    return [version for version in versions if version["LayerVersionArn"] not in used]
