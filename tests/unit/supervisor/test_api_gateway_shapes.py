"""The supervisor on every request shape API Gateway's proxy integration sends (REST API, payload 1.0): the
DirectRunner runs a /bin/sh script; the answer must be what API Gateway turns into the HTTP response."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from scar.supervisor.config import load_config
from scar.supervisor.response import RequestInfo
from scar.supervisor.runners import DirectRunner
from scar.supervisor.storage import Storage
from scar.supervisor.supervisor import Supervisor

REQUEST = RequestInfo("req-7", "/aws/lambda/web-fn", "2024/05/01/[$LATEST]abcd")
# the input file's bytes with every byte value inverted, then what the script saw
SCRIPT = r"""
if [ -n "$INPUT_FILE_PATH" ]; then
  od -An -v -tu1 "$INPUT_FILE_PATH" | tr -s ' ' '\n' | grep . | while read -r byte; do
    printf "\\$(printf %o $((255 - byte)))"
  done
fi
printf '|%s|%s|' "${CONT_VAR_name-unset}" "${INPUT_FILE_PATH:+has-input}"
"""


def request(method: str, body: str | None = None, *, is_base64: bool = False, query: dict[str, str] | None = None,
            content_type: str | None = None, headers: bool = True) -> dict[str, Any]:
    single = {"Accept": "application/octet-stream", "Host": "abc123.execute-api.us-east-1.amazonaws.com",
              **({"Content-Type": content_type} if content_type else {})}
    return {"resource": "/{proxy+}", "path": "/launch", "httpMethod": method,
            "headers": single if headers else None,
            "multiValueHeaders": {k: [v] for k, v in single.items()} if headers else None,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": {"proxy": "launch"}, "stageVariables": None,
            "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": method, "stage": "scar",
                               "apiId": "abc123", "identity": {"sourceIp": "203.0.113.9"}},
            "body": body, "isBase64Encoded": is_base64}


@pytest.fixture
def supervisor(tmp_path: Path) -> Supervisor:
    (tmp_path / "script.sh").write_text(SCRIPT)
    (tmp_path / "function_config.yaml").write_text(json.dumps({
        "name": "web-fn", "init_script": "script.sh", "container": {"image": "busybox", "timeout_threshold": 1},
        "log_level": "info", "runner": "direct"}))
    config = load_config(tmp_path / "function_config.yaml")
    return Supervisor(config, DirectRunner(), Storage(config))


def answer(document: dict[str, Any]) -> tuple[bytes, str, str]:
    """(the bytes the HTTP response will carry, what the script saw of the query and input)"""
    assert document["statusCode"] == 200 and document["isBase64Encoded"] is True
    assert all(isinstance(value, str) for value in document["headers"].values())
    raw = base64.b64decode(document["body"])
    data, name, has_input, _ = raw.rsplit(b"|", 3)
    return data, name.decode(), has_input.decode()


def test_get_with_a_query_string(supervisor: Supervisor) -> None:
    document = supervisor.handle(request("GET", query={"name": "ada"}), REQUEST, None)
    assert answer(document) == (b"", "ada", "")


def test_get_from_the_test_console_has_null_headers_and_query(supervisor: Supervisor) -> None:
    document = supervisor.handle(request("GET", headers=False), REQUEST, None)
    assert answer(document) == (b"", "unset", "")


def test_binary_post_arrives_base64_and_the_script_gets_the_bytes(supervisor: Supervisor) -> None:
    data = bytes(range(256))
    event = request("POST", base64.b64encode(data).decode(), is_base64=True, content_type="application/octet-stream")
    document = supervisor.handle(event, REQUEST, None)
    assert answer(document) == (bytes(255 - b for b in data), "unset", "has-input")


def test_json_post_with_binary_media_types_arrives_base64_too(supervisor: Supervisor) -> None:
    """With binary media types */*, every body is handed over base64-encoded, JSON included."""
    text = b'{"greeting": "hi"}'
    event = request("POST", base64.b64encode(text).decode(), is_base64=True, content_type="application/json")
    assert answer(supervisor.handle(event, REQUEST, None))[0] == bytes(255 - b for b in text)


def test_json_post_without_binary_media_types_arrives_as_text(supervisor: Supervisor) -> None:
    event = request("POST", '{"greeting": "hi"}', content_type="application/json")
    assert answer(supervisor.handle(event, REQUEST, None))[0] == bytes(255 - b for b in b'{"greeting": "hi"}')


def test_an_asynchronous_call_is_the_same_request(supervisor: Supervisor) -> None:
    """X-Amz-Invocation-Type: Event changes how Lambda is invoked, not the event: it runs the same way (its
    answer is dropped by Lambda)."""
    event = request("GET", query={"name": "later"})
    event["headers"]["X-Amz-Invocation-Type"] = "Event"
    assert answer(supervisor.handle(event, REQUEST, None)) == (b"", "later", "")


def test_the_callers_signature_never_reaches_the_container(tmp_path: Path) -> None:
    (tmp_path / "script.sh").write_text('printf "%s" "$EVENT"\n')
    (tmp_path / "function_config.yaml").write_text(json.dumps({
        "name": "web-fn", "init_script": "script.sh", "container": {"image": "busybox"}, "runner": "direct"}))
    config = load_config(tmp_path / "function_config.yaml")
    event = request("GET")
    secrets = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/..., Signature=abcdef",
               "X-Amz-Security-Token": "FwoGZXIvYXdzEXAMPLETOKEN"}
    event["headers"].update(secrets)
    event["multiValueHeaders"].update({k: [v] for k, v in secrets.items()})
    document = Supervisor(config, DirectRunner(), Storage(config)).handle(event, REQUEST, None)
    seen = json.loads(base64.b64decode(document["body"]))
    assert "Signature=abcdef" not in json.dumps(seen) and "EXAMPLETOKEN" not in json.dumps(seen)
    assert seen["headers"]["Host"] == "abc123.execute-api.us-east-1.amazonaws.com"  # the rest stays


def test_a_failing_script_answers_500_with_its_message(tmp_path: Path) -> None:
    (tmp_path / "script.sh").write_text("echo about to fail\nexit 3\n")
    (tmp_path / "function_config.yaml").write_text(json.dumps({
        "name": "web-fn", "init_script": "script.sh", "container": {"image": "busybox"}, "runner": "direct"}))
    config = load_config(tmp_path / "function_config.yaml")
    document = Supervisor(config, DirectRunner(), Storage(config)).handle(request("GET"), REQUEST, None)
    assert document["statusCode"] == 500 and document["isBase64Encoded"] is True
    failure = json.loads(base64.b64decode(document["body"]))
    assert failure["error"] == "the container exited with code 3" and "about to fail" in failure["output_tail"]
