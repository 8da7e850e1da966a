"""The pure parts of the API Gateway kinds and of `scar invoke`: which REST API is a function's, the
integration URI and URL in each partition, the stage's revision, payload limits, error messages."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from scar.aws.apigateway import invoke_url
from scar.aws.http_endpoint import Answer, Endpoint, build_request, check_limits, error_message, send
from scar.aws.kinds.api_routes import ROUTES, integration_uri
from scar.aws.kinds.api_stage import revision
from scar.aws.kinds.rest_api import api_tags, scar_api
from scar.errors import BadInputError


def api(api_id: str, created: str, **tags: str) -> dict[str, object]:
    return {"id": api_id, "createdDate": created, "tags": tags}


def test_a_functions_api_is_found_by_its_tags_only() -> None:
    apis = [api("other", "1", createdby="scar", **{"scar:function": "fn-2"}),
            api("foreign", "1", **{"scar:function": "fn"}),  # not created by scar
            api("newer", "3", createdby="scar", **{"scar:function": "fn"}),
            api("older", "2", createdby="scar", **{"scar:function": "fn"})]
    found = scar_api(apis, "fn")
    assert found is not None and found["id"] == "older"
    assert scar_api(apis, "fn-3") is None


def test_api_tags_name_the_function_and_keep_who_made_it() -> None:
    tags = api_tags({"createdby": "scar", "owner": "alice", "scar:image": "busybox"}, "fn")
    assert tags == {"createdby": "scar", "owner": "alice", "scar:function": "fn"}


@pytest.mark.parametrize(("region", "partition", "suffix"), [
    ("us-east-1", "aws", "amazonaws.com"), ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
    ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
])
def test_uri_and_url_follow_the_partition(region: str, partition: str, suffix: str) -> None:
    provider = SimpleNamespace(partition=partition, region=region)
    arn = f"arn:{partition}:lambda:{region}:123456789012:function:fn"
    assert integration_uri(provider, arn) == \
        f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    assert invoke_url("abc123", region, "scar") == f"https://abc123.execute-api.{region}.{suffix}/scar/launch"


def test_the_revision_changes_with_the_routes_only() -> None:
    none = {"AuthorizationType": "NONE", "Routes": ROUTES}
    assert revision("fn", none) == revision("fn", dict(none))
    assert revision("fn", none) != revision("fn", {**none, "AuthorizationType": "AWS_IAM"})
    assert revision("fn", none) != revision("fn-2", none)
    assert revision("fn", none).startswith("scar routes ")


@pytest.mark.parametrize(("size", "asynchronous", "allowed"), [
    (4_718_592, False, True),  # 4.5 MiB: exactly 6 MiB once base64-encoded
    (4_718_593, False, False),
    (196_608, True, True),  # exactly 256 KiB once encoded
    (196_609, True, False),
])
def test_lambda_limits_apply_to_the_base64_size(size: int, asynchronous: bool, allowed: bool) -> None:
    body = b"x" * size
    if allowed:
        check_limits(body, asynchronous)
    else:
        with pytest.raises(BadInputError, match="Lambda accepts at most"):
            check_limits(body, asynchronous)


def test_request_shapes() -> None:
    endpoint = Endpoint("https://x.execute-api.us-east-1.amazonaws.com/scar/launch", "x", "scar", True, False)
    get = build_request(endpoint, None, None, {"a": "1 2"}, asynchronous=False)
    assert (get.method, get.url, get.body) == ("GET", endpoint.url + "?a=1+2", None)
    post = build_request(endpoint, b"\x00", "application/octet-stream", {}, asynchronous=True)
    assert post.method == "POST" and post.headers == {
        "Accept": "application/octet-stream", "Content-Type": "application/octet-stream",
        "X-Amz-Invocation-Type": "Event"}


@pytest.mark.parametrize(("body", "message"), [
    (json.dumps({"error": "the container exited with code 3", "output_tail": "a\r\nb\x07"}),
     "the container exited with code 3\na\nb\\x07"),
    ('{"message": "Missing Authentication Token"}', "Missing Authentication Token"),
    ('{"errorMessage": "boom", "errorType": "Exception"}', "boom"),
    ("plain \x1b[31mtext", "plain \\x1b[31mtext"),
    ("", "HTTP 500"),
])
def test_error_messages_come_from_the_function(body: str, message: str) -> None:
    assert error_message(Answer(500, body.encode())) == message


def test_a_base64_body_is_decoded_only_from_an_api_without_binary_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """`requests.request` replaced: this checks how an answer's body is read, not the network."""
    import requests

    encoded = base64.b64encode(b"\x00raw\xff")
    monkeypatch.setattr(requests, "request", lambda *a, **k: SimpleNamespace(
        status_code=200, content=encoded, headers={}))
    request = build_request(Endpoint("http://h/launch", "x", "scar", False, False), None, None, {}, False)
    assert send(request, Endpoint("http://h/launch", "x", "scar", False, False)).body == b"\x00raw\xff"
    assert send(request, Endpoint("http://h/launch", "x", "scar", True, False)).body == encoded
