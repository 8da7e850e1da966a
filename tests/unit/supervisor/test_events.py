"""parse_event on real-shaped events: S3 and MinIO notifications, API Gateway proxy requests (REST and HTTP
APIs), direct payloads and anything else, each with the exact Invocation(s) it must give."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from scar.supervisor.events import EventError, Invocation, StorageObject, parse_event


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode("ascii")


def s3_record(bucket: str, key: str, event_time: str | None = "2024-05-01T12:34:56.789Z") -> dict[str, Any]:
    """One record of an AWS S3 `ObjectCreated:Put` notification, as Lambda receives it."""
    record: dict[str, Any] = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": event_time,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810",
                             "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "scar-my-function",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                       "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                       "sequencer": "0055AED6DCD90281E5"},
        },
    }
    if event_time is None:
        del record["eventTime"]  # `scar run`'s synthetic events have none: the original crashed on them
    return record


def minio_event(bucket: str, key: str) -> dict[str, Any]:
    """A MinIO bucket notification (webhook shape): keys are URL-encoded, `/` included."""
    return {
        "EventName": "s3:ObjectCreated:Put",
        "Key": f"{bucket}/{key}",
        "Records": [{
            "eventVersion": "2.0",
            "eventSource": "minio:s3",
            "awsRegion": "",
            "eventTime": "2024-05-02T08:00:00.000Z",
            "eventName": "s3:ObjectCreated:Put",
            "userIdentity": {"principalId": "minio"},
            "requestParameters": {"principalId": "minio", "region": "", "sourceIPAddress": "10.0.0.7"},
            "responseElements": {"x-amz-request-id": "17B2D1F6A3C1E2F0", "x-minio-origin-endpoint": "http://minio:9000"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "Config",
                "bucket": {"name": bucket, "ownerIdentity": {"principalId": "minio"}, "arn": f"arn:aws:s3:::{bucket}"},
                "object": {"key": key.replace("/", "%2F"), "size": 77, "eTag": "0d4c7a7d0b1b3b5d",
                           "contentType": "image/png", "userMetadata": {"content-type": "image/png"},
                           "sequencer": "17B2D1F6A40C8F5A"},
            },
            "source": {"host": "10.0.0.7", "port": "", "userAgent": "MinIO (linux; amd64) minio-go/v7.0.63"},
        }],
    }


def rest_request(method: str, body: str | None = None, query: dict[str, str] | None = None,
                 is_base64: bool = False) -> dict[str, Any]:
    """An API Gateway REST API (proxy integration, payload 1.0) request."""
    return {
        "resource": "/launch",
        "path": "/launch",
        "httpMethod": method,
        "headers": {"Accept": "*/*", "Content-Type": "application/octet-stream" if is_base64 else "application/json",
                    "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com", "User-Agent": "python-requests/2.31"},
        "multiValueHeaders": {"Accept": ["*/*"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/launch", "httpMethod": method, "stage": "scar",
                           "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "path": "/scar/launch",
                           "identity": {"sourceIp": "203.0.113.9"}, "apiId": "abcdef1234"},
        "body": body,
        "isBase64Encoded": is_base64,
    }


def http_api_request(body: str, query: dict[str, str]) -> dict[str, Any]:
    """An API Gateway HTTP API request (payload 2.0): no `httpMethod` at the top level."""
    return {
        "version": "2.0",
        "routeKey": "POST /launch",
        "rawPath": "/launch",
        "rawQueryString": "&".join(f"{k}={v}" for k, v in query.items()),
        "headers": {"content-type": "text/plain"},
        "queryStringParameters": query,
        "requestContext": {"http": {"method": "POST", "path": "/launch"}, "requestId": "JKJaXmPLvHcESHA="},
        "body": body,
        "isBase64Encoded": False,
    }


def storage(provider: str, bucket: str, key: str, event_time: str | None, record: dict[str, Any]) -> StorageObject:
    return StorageObject(provider, bucket, key, event_time, record)


S3_PUT = {"Records": [s3_record("in-bucket", "input/photo.jpg")]}
S3_NO_TIME = {"Records": [s3_record("in-bucket", "input/photo.jpg", event_time=None)]}
S3_ENCODED = {"Records": [s3_record("in-bucket", "in+put/my+file%2B%281%29%2Fpart.txt")]}
MINIO = minio_event("images", "input/cat 1.png".replace(" ", "+"))
TWO = {"Records": [s3_record("in-bucket", "a/one.txt"), s3_record("in-bucket", "b/two.txt", None)]}
GET = rest_request("GET", query={"name": "world", "my-var": "x y", "a=b": "c"})
POST_JSON = rest_request("POST", body='{"message": "hi", "n": 1}')
POST_B64 = rest_request("POST", body=b64(b"\x00\x01binary\xff"), is_base64=True)
HTTP_API = http_api_request("plain text", {"lang": "en"})
SCRIPT = {"script": b64("#!/bin/sh\necho hello\n")}
SCRIPT_ARGS = {"script": b64("echo $1\n"), "cmd_args": ["first"]}
ARGS_LIST = {"cmd_args": ["-c", "echo hi", 3]}
ARGS_JSON = {"cmd_args": '["-c", "echo hi"]'}
SQS = {"Records": [{"messageId": "059f36b4", "eventSource": "aws:sqs", "body": "hello"}]}

CASES: list[tuple[str, Any, list[Invocation]]] = [
    ("s3 put", S3_PUT, [Invocation("storage", S3_PUT, storage=storage(
        "s3", "in-bucket", "input/photo.jpg", "2024-05-01T12:34:56.789Z", S3_PUT["Records"][0]))]),
    ("s3 put without eventTime", S3_NO_TIME, [Invocation("storage", S3_NO_TIME, storage=storage(
        "s3", "in-bucket", "input/photo.jpg", None, S3_NO_TIME["Records"][0]))]),
    ("s3 key url-decoded", S3_ENCODED, [Invocation("storage", S3_ENCODED, storage=storage(
        "s3", "in-bucket", "in put/my file+(1)/part.txt", "2024-05-01T12:34:56.789Z", S3_ENCODED["Records"][0]))]),
    ("minio", MINIO, [Invocation("storage", MINIO, storage=storage(
        "minio", "images", "input/cat 1.png", "2024-05-02T08:00:00.000Z", MINIO["Records"][0]))]),
    ("two records, two runs", TWO, [
        Invocation("storage", TWO, storage=storage("s3", "in-bucket", "a/one.txt", "2024-05-01T12:34:56.789Z",
                                                   TWO["Records"][0])),
        Invocation("storage", TWO, storage=storage("s3", "in-bucket", "b/two.txt", None, TWO["Records"][1])),
    ]),
    ("api gateway GET with query", GET, [Invocation("http", GET, body=None, variables={
        "CONT_VAR_name": "world", "CONT_VAR_my_var": "x y", "CONT_VAR_a_b": "c"})]),
    ("api gateway POST json", POST_JSON, [Invocation("http", POST_JSON, body=b'{"message": "hi", "n": 1}')]),
    ("api gateway POST base64", POST_B64, [Invocation("http", POST_B64, body=b"\x00\x01binary\xff")]),
    ("http api (payload 2.0)", HTTP_API, [Invocation("http", HTTP_API, body=b"plain text",
                                                     variables={"CONT_VAR_lang": "en"})]),
    ("direct script", SCRIPT, [Invocation("direct", SCRIPT, script=b"#!/bin/sh\necho hello\n")]),
    ("direct script with args", SCRIPT_ARGS, [Invocation("direct", SCRIPT_ARGS, script=b"echo $1\n",
                                                         cmd_args=["first"])]),
    ("cmd_args list", ARGS_LIST, [Invocation("direct", ARGS_LIST, cmd_args=["-c", "echo hi", "3"])]),
    ("cmd_args json string", ARGS_JSON, [Invocation("direct", ARGS_JSON, cmd_args=["-c", "echo hi"])]),
    ("json text of a number", "1234", [Invocation("plain", 1234)]),
    ("a number", 1234, [Invocation("plain", 1234)]),
    ("a list", [1, 2], [Invocation("plain", [1, 2])]),
    ("plain string", "hello world", [Invocation("plain", "hello world")]),
    ("json text of an object", '{"greeting": "hi"}', [Invocation("plain", {"greeting": "hi"})]),
    ("bytes", b'{"cmd_args": ["x"]}', [Invocation("direct", {"cmd_args": ["x"]}, cmd_args=["x"])]),
    ("empty text", "  ", [Invocation("plain", {})]),
    ("empty object", {}, [Invocation("plain", {})]),
    ("non-storage records", SQS, [Invocation("plain", SQS)]),
]


@pytest.mark.parametrize(("event", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parse_event(event: Any, expected: list[Invocation]) -> None:
    assert parse_event(event) == expected


def test_storage_record_fields_come_from_the_record_itself() -> None:
    """The two invocations of a two-record event carry their own record (not the first one twice)."""
    first, second = parse_event(TWO)
    assert first.storage is not None and second.storage is not None
    assert first.storage.record is TWO["Records"][0]
    assert second.storage.record is TWO["Records"][1]


def test_api_gateway_body_with_a_script_key_is_only_data() -> None:
    """`script` inside an HTTP body is the request's data, never code to run."""
    event = rest_request("POST", body=json.dumps({"script": b64("echo pwned")}))
    [invocation] = parse_event(event)
    assert (invocation.kind, invocation.script, invocation.cmd_args) == ("http", None, None)


BAD = [
    ("base64 body that is not base64", rest_request("POST", body="not base64!!", is_base64=True),
     "the request body is marked base64 but is not valid base64"),
    ("base64 body that is not text", {**rest_request("POST", is_base64=True), "body": 1234},
     "the request body is marked base64 but is not valid base64"),
    ("script not base64", {"script": "echo hi"}, "'script' must be the base64 text of a shell script"),
    ("script not text", {"script": ["echo hi"]}, "'script' must be the base64 text of a shell script"),
    ("cmd_args bad json", {"cmd_args": "[-c"}, "'cmd_args' must be a list of strings (or its JSON text)"),
    ("cmd_args json of a string", {"cmd_args": '"echo hi"'}, "'cmd_args' must be a list of strings"),
    ("cmd_args object", {"cmd_args": {"a": 1}}, "'cmd_args' must be a list of strings"),
    ("cmd_args nested list", {"cmd_args": [["-c"], "x"]}, "'cmd_args' must be a list of strings"),
    ("cmd_args number", {"cmd_args": 5}, "'cmd_args' must be a list of strings"),
]


@pytest.mark.parametrize(("event", "message"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_events(event: Any, message: str) -> None:
    with pytest.raises(EventError) as caught:
        parse_event(event)
    assert str(caught.value) == message


def test_query_values_cannot_carry_a_nul_byte() -> None:
    """A `%00` in a query string would make every process start fail: the NUL is dropped."""
    [invocation] = parse_event(rest_request("GET", query={"q": "a\x00b"}))
    assert invocation.variables == {"CONT_VAR_q": "ab"}
