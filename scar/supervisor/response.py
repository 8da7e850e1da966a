"""The answer document, compatible with the original supervisor: API Gateway's proxy integration and
`scar run` both read it."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestInfo:
    request_id: str
    log_group: str = ""
    log_stream: str = ""


def _headers(request: RequestInfo, extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"amz-lambda-request-id": request.request_id, "amz-log-group-name": request.log_group,
               "amz-log-stream-name": request.log_stream}
    return {**headers, **(extra or {})}


def success(request: RequestInfo, output: bytes) -> dict[str, Any]:
    return {"statusCode": 200, "headers": _headers(request), "body": base64.b64encode(output).decode("ascii"),
            "isBase64Encoded": True}


def failure(request: RequestInfo, message: str, status: int = 500, **details: Any) -> dict[str, Any]:
    """An error document: a short message (and details such as the exit code and output tail), never a
    traceback."""
    body = json.dumps({"error": message, **details}).encode("utf-8")
    return {"statusCode": status, "headers": _headers(request, {"Content-Type": "application/json"}),
            "body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}
