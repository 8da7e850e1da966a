"""What an event asks for: a file from storage, an HTTP request, a direct payload, or a plain run."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

STORAGE_SOURCES = {"aws:s3": "s3", "minio:s3": "minio"}
_ENV_NAME = re.compile(r"[^A-Za-z0-9_]")
_CREDENTIAL_HEADERS = {"authorization", "x-amz-security-token"}


class EventError(Exception):
    """The event cannot be understood (for example a script that is not base64)."""


@dataclass(frozen=True)
class StorageObject:
    provider: str  # "s3" or "minio"
    bucket: str
    key: str  # URL-decoded
    event_time: str | None
    record: dict[str, Any]


@dataclass(frozen=True)
class Invocation:
    """One run of the user's code."""

    kind: str  # "storage", "http", "direct" or "plain"
    raw: Any
    storage: StorageObject | None = None
    body: bytes | None = None  # an HTTP request's body: becomes the input file
    script: bytes | None = None
    cmd_args: list[str] | None = None
    variables: dict[str, str] = field(default_factory=dict)  # extra container variables (query parameters)
    local_file: Path | None = None  # a local run's input file


def parse_event(event: Any) -> list[Invocation]:
    """The runs an event asks for: one per storage record, otherwise one."""
    if isinstance(event, (str, bytes)):
        try:
            event = json.loads(event) if event.strip() else {}
        except ValueError:
            return [Invocation("plain", event)]
    if not isinstance(event, dict):
        return [Invocation("plain", event)]
    if "httpMethod" in event or ("requestContext" in event and "body" in event):
        return [_http(event)]
    records = event.get("Records")
    if isinstance(records, list) and records and all(isinstance(r, dict) for r in records):
        storage = [r for r in records if r.get("eventSource") in STORAGE_SOURCES]
        if storage:
            return [Invocation("storage", event, storage=_storage_object(r)) for r in storage]
    script, cmd_args = _direct(event)
    if script is not None or cmd_args is not None:
        return [Invocation("direct", event, script=script, cmd_args=cmd_args)]
    return [Invocation("plain", event)]


def _storage_object(record: dict[str, Any]) -> StorageObject:
    s3 = record.get("s3") or {}
    bucket = (s3.get("bucket") or {}).get("name") or ""
    key = unquote_plus(str((s3.get("object") or {}).get("key") or ""))
    return StorageObject(STORAGE_SOURCES[record["eventSource"]], bucket, key, record.get("eventTime"), record)


def _http(event: dict[str, Any]) -> Invocation:
    body = event.get("body")
    data: bytes | None
    if body is None or body == "":
        data = None
    elif event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise EventError("the request body is marked base64 but is not valid base64") from None
    else:
        data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
    query = event.get("queryStringParameters") or {}
    # a NUL byte (`%00`) cannot be in an environment variable: every process start would fail
    variables = {f"CONT_VAR_{_ENV_NAME.sub('_', str(k))}": str(v).replace("\x00", "") for k, v in query.items()
                 if v is not None}
    return Invocation("http", _without_credentials(event), body=data, variables=variables)


def _without_credentials(event: dict[str, Any]) -> dict[str, Any]:
    """The request without the caller's signature and session token (a SigV4-signed call to an API with
    auth iam carries both), so the container's EVENT never holds them."""
    cleaned = dict(event)
    for key in ("headers", "multiValueHeaders"):
        headers = event.get(key)
        if isinstance(headers, dict):
            cleaned[key] = {name: value for name, value in headers.items()
                            if str(name).lower() not in _CREDENTIAL_HEADERS}
    return cleaned


def _direct(event: dict[str, Any]) -> tuple[bytes | None, list[str] | None]:
    script = event.get("script")
    if script is not None:
        try:
            script = base64.b64decode(script, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise EventError("'script' must be the base64 text of a shell script") from None
    cmd_args = event.get("cmd_args")
    if isinstance(cmd_args, str):  # the original client's form: a JSON-encoded list
        try:
            cmd_args = json.loads(cmd_args)
        except ValueError:
            raise EventError("'cmd_args' must be a list of strings (or its JSON text)") from None
    if cmd_args is not None and not (isinstance(cmd_args, list) and all(isinstance(a, (str, int, float))
                                                                        for a in cmd_args)):
        raise EventError("'cmd_args' must be a list of strings")
    return script, [str(a) for a in cmd_args] if cmd_args is not None else None
