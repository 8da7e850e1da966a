"""Calling a function through its REST API: finding the endpoint, checking the payload limits before
anything is sent, signing with SigV4 when the API requires IAM, and reading the answer (decoding a base64
body when API Gateway passed it through as text)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from scar.aws.apigateway import LAUNCH_PATH, ApiGateway, invoke_url
from scar.aws.kinds.rest_api import scar_api
from scar.errors import BadInputError, ScarError
from scar.supervisor.text import shown

API_GATEWAY_LIMIT = 10 * 1024 * 1024  # API Gateway's payload limit
SYNC_LIMIT = 6 * 1024 * 1024  # Lambda's synchronous invocation payload
ASYNC_LIMIT = 256 * 1024  # Lambda's asynchronous invocation payload
API_GATEWAY_TIMEOUT = 29  # seconds API Gateway waits for a synchronous integration
ACCEPT = "application/octet-stream"  # matches the binary media types */*: API Gateway returns raw bytes
ASYNC_HEADER = "X-Amz-Invocation-Type"
_AWS_HOSTS = (".amazonaws.com", ".amazonaws.com.cn")


@dataclass(frozen=True)
class Endpoint:
    url: str
    api_id: str
    stage: str
    binary: bool  # the API has binary media types matching ACCEPT: its answers are raw bytes
    iam: bool  # its methods require SigV4 (api_gateway.auth: iam)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # decoded when API Gateway passed base64 text through
    headers: dict[str, str] = field(default_factory=dict)


def find_endpoint(gateway: ApiGateway, name: str, region: str, stage: str | None,
                  original_id: Callable[[], str | None]) -> Endpoint:
    """The function's endpoint: scar's API (found by its tags), or else the original's (`original_id()`
    reads `API_GATEWAY_ID` from the function's environment). On an emulator (an endpoint other than AWS's),
    the stage URL form `/restapis/<id>/<stage>/_user_request_/launch` that ministack and LocalStack share."""
    api = scar_api(gateway.rest_apis(), name)
    if api is None and (api_id := original_id()):
        api = gateway.client.get_rest_api(restApiId=api_id)
    if api is None:
        raise ScarError(f"function {name!r} has no HTTP endpoint: deploy it with api_gateway.name in the FDL "
                        "(or scar init -api NAME)")
    stages = gateway.stages(api["id"])
    if not stages:
        raise ScarError(f"the REST API of {name!r} ({api['id']}) has no stage: run scar init again")
    chosen = stage if stage in stages else sorted(stages)[0]
    binary = any(kind in ("*/*", ACCEPT, "application/*") for kind in api.get("binaryMediaTypes") or ())
    service = gateway.client.meta.endpoint_url
    host = urlsplit(service).hostname or ""
    if host.endswith(_AWS_HOSTS):
        url = invoke_url(api["id"], region, chosen)
    else:
        url = f"{service.rstrip('/')}/restapis/{api['id']}/{chosen}/_user_request_/{LAUNCH_PATH}"
    root = gateway.resources(api["id"]).get("/")
    method = gateway.method(api["id"], root["id"], "ANY") if root else None
    return Endpoint(url, api["id"], chosen, binary, (method or {}).get("authorizationType") == "AWS_IAM")


def check_limits(body: bytes | None, asynchronous: bool) -> None:
    """Refuse, before sending, a body that API Gateway or Lambda would refuse. API Gateway hands the body to
    Lambda base64-encoded (binary media types */*), so Lambda's limit applies to that size."""
    size = len(body or b"")
    if size > API_GATEWAY_LIMIT:
        raise BadInputError(f"the request body is {size:,} bytes: API Gateway accepts at most 10 MB")
    encoded = 4 * ((size + 2) // 3)
    limit, kind = (ASYNC_LIMIT, "256 KB for asynchronous") if asynchronous else (SYNC_LIMIT, "6 MB for synchronous")
    if encoded > limit:
        raise BadInputError(f"the request body is {size:,} bytes ({encoded:,} once base64-encoded for Lambda): "
                            f"Lambda accepts at most {kind} invocations")


def build_request(endpoint: Endpoint, body: bytes | None, content_type: str | None, query: dict[str, str],
                  asynchronous: bool) -> HttpRequest:
    """GET without a body, POST with one; the query string is part of the URL (so that it is signed)."""
    headers = {"Accept": ACCEPT}
    if content_type:
        headers["Content-Type"] = content_type
    if asynchronous:
        headers[ASYNC_HEADER] = "Event"
    url = endpoint.url + (f"?{urlencode(query)}" if query else "")
    return HttpRequest("POST" if body is not None else "GET", url, headers, body)


def signed(request: HttpRequest, credentials: Any, region: str) -> HttpRequest:
    """The request with SigV4 headers for `execute-api` (an API whose methods require AWS_IAM)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    aws_request = AWSRequest(method=request.method, url=request.url, data=request.body or b"",
                             headers=dict(request.headers))
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(aws_request)
    return HttpRequest(request.method, request.url, dict(aws_request.headers.items()), request.body)


def send(request: HttpRequest, endpoint: Endpoint) -> Answer:
    """One request, no retry; a timeout says API Gateway's limit and what to do."""
    import requests

    try:
        response = requests.request(request.method, request.url, headers=request.headers, data=request.body,
                                    timeout=(10, API_GATEWAY_TIMEOUT + 1))
    except requests.exceptions.Timeout:
        raise timeout_error() from None
    except requests.exceptions.RequestException as err:
        raise ScarError(f"cannot reach {endpoint.url}: {err}") from None
    body = response.content
    if not endpoint.binary:
        body = _maybe_base64(body)
    return Answer(response.status_code, body, dict(response.headers))


def timeout_error() -> ScarError:
    return ScarError(f"no answer within API Gateway's {API_GATEWAY_TIMEOUT} s limit for synchronous calls; the "
                     "function may still be running: use -a to launch it asynchronously")


def _maybe_base64(body: bytes) -> bytes:
    """An API without binary media types passes the function's base64 body through as text."""
    try:
        return base64.b64decode(body, validate=True) if body.strip() else body
    except (binascii.Error, ValueError):
        return body


def error_message(answer: Answer) -> str:
    """The function's message in a non-2xx answer: the supervisor's `error` (with the output's tail), API
    Gateway's `message`, Lambda's `errorMessage`, or else the body's text."""
    try:
        document = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict):
        message = document.get("error") or document.get("message") or document.get("errorMessage")
        if message:
            tail = document.get("output_tail")
            return _lines(str(message) + (f"\n{tail}" if tail else ""))
    return _lines(answer.body.decode("utf-8", errors="replace").strip()) or f"HTTP {answer.status}"


def _lines(text: str) -> str:
    """Text from the function, every line with its control characters escaped (none can steer a terminal)."""
    return "\n".join(shown(line) for line in text.splitlines())
