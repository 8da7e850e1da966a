"""Invocation payloads and responses: what `scar run` sends to a function and how its answer is read.

Pure logic, no AWS calls: the payload (`{}`, a run script, container arguments), Lambda's payload limits,
and the decoding of a synchronous response, whether it is the supervisor's response document
(`{statusCode, headers, body, isBase64Encoded}`), Lambda's error document or anything else.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from scar.errors import BadInputError

#: Lambda's request payload limits (bytes) for synchronous and asynchronous invocations.
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
#: Seconds the client waits for an answer beyond the function's own timeout (cold start, network).
READ_TIMEOUT_MARGIN = 30

_TIMED_OUT = "Task timed out"


@dataclass(frozen=True)
class Invocation:
    """A decoded synchronous response: the function's output bytes, or why it failed."""

    request_id: str | None
    status_code: int
    log_group: str | None
    log_stream: str | None
    output: bytes
    error: str | None = None
    log_tail: str = ""


def build_payload(script: bytes | None = None, c_args: list[str] | None = None) -> bytes:
    """The event for one run: `{}`, plus `script` (base64 of the script) and/or `cmd_args` (a list)."""
    event: dict[str, Any] = {}
    if script is not None:
        event["script"] = base64.b64encode(script).decode("ascii")
    if c_args:
        event["cmd_args"] = list(c_args)
    return json.dumps(event).encode("utf-8")


def check_payload_size(payload: bytes, asynchronous: bool) -> None:
    """Refuse a payload Lambda would reject, before anything is sent."""
    limit, kind, label = ((ASYNC_PAYLOAD_LIMIT, "asynchronous", "1 MB") if asynchronous
                          else (SYNC_PAYLOAD_LIMIT, "synchronous", "6 MB"))
    if len(payload) > limit:
        raise BadInputError(f"command line: the invocation payload is {len(payload):,} bytes, over the {label} "
                            f"({limit:,} bytes) limit of {kind} invocations (the run script travels base64-encoded)")


def read_timeout(function_timeout: int) -> int:
    """How long to wait for a synchronous answer from a function that may run `function_timeout` seconds."""
    return function_timeout + READ_TIMEOUT_MARGIN


def decode_response(response: dict[str, Any]) -> Invocation:
    """Read a synchronous `Invoke` response (its Payload already read into bytes)."""
    raw: bytes = response.get("Payload", b"")
    document = _json(raw)
    request_id = response.get("ResponseMetadata", {}).get("RequestId")
    status_code = int(response.get("StatusCode", 0))
    log_tail = _log_tail(response.get("LogResult"))
    if _is_supervisor_document(document):
        headers = document.get("headers") or {}
        output = _body(document)
        failed = bool(response.get("FunctionError")) or int(document["statusCode"]) >= 400
        return Invocation(headers.get("amz-lambda-request-id") or request_id, status_code,
                          headers.get("amz-log-group-name"), headers.get("amz-log-stream-name"),
                          output, _error_detail(_json(output), output) if failed else None, log_tail)
    failed = bool(response.get("FunctionError")) or _timed_out(document)
    return Invocation(request_id, status_code, None, None, raw,
                      _error_detail(document, raw) if failed else None, log_tail)


def output_for_json(output: bytes) -> tuple[str, str]:
    """(`Output`, `OutputEncoding`) for a JSON document: the text when it is UTF-8, otherwise base64."""
    try:
        return output.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(output).decode("ascii"), "base64"


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _is_supervisor_document(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("statusCode"), int) and "body" in document


def _body(document: dict[str, Any]) -> bytes:
    body = document.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        return json.dumps(body).encode("utf-8")
    if document.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            pass  # not base64 after all: show it as it came
    return body.encode("utf-8")


def _timed_out(document: Any) -> bool:
    return isinstance(document, dict) and _TIMED_OUT in str(document.get("errorMessage", ""))


def _error_detail(document: Any, raw: bytes) -> str:
    """The one message worth showing for a failed invocation."""
    if isinstance(document, dict) and "errorMessage" in document:
        message = str(document["errorMessage"])
        detail = f"{document['errorType']}: {message}" if document.get("errorType") else message
        if _TIMED_OUT in message:
            detail += " (raise the function's timeout: lambda.timeout or -t, then deploy again)"
        return detail
    if isinstance(document, dict) and "error" in document:  # scar's supervisor's error body
        tail = str(document.get("output_tail") or "").strip()
        return str(document["error"]) + (f"; last output:\n{tail}" if tail else "")
    if isinstance(document, dict) and "exception" in document:  # the original supervisor's error body
        return str(document["exception"]).strip()
    return raw.decode("utf-8", errors="replace").strip() or "no details in the response"


def _log_tail(encoded: str | None) -> str:
    if not encoded:
        return ""
    try:
        return base64.b64decode(encoded).decode("utf-8", errors="replace")
    except binascii.Error:
        return ""
