"""`scar invoke` against moto (the API is deployed there by `scar init`) and a recording HTTP server in
front of it: moto has no API Gateway data plane, so the server answers the stage URL itself and passes
every control-plane request on to moto. What invoke sends is checked byte for byte."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.integration.conftest import write_fdl
from tests.integration.test_api_gateway import FDL

USER_REQUEST = "/_user_request_/"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class StageServer:
    """Answers requests to a stage URL with `status`/`body` (after `delay` seconds) and records them."""

    upstream: tuple[str, int]
    status: int = 200
    body: bytes = b"hello from the function\n"
    headers: dict[str, str] = field(default_factory=lambda: {"amz-lambda-request-id": "req-42"})
    delay: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    endpoint: str = ""


@pytest.fixture
def stage(deploy_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[StageServer]:
    parsed = urllib.parse.urlsplit(deploy_env)
    server_state = StageServer((parsed.hostname or "127.0.0.1", parsed.port or 80))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if USER_REQUEST not in self.path:
                self._forward(body)
                return
            url = urllib.parse.urlsplit(self.path)
            server_state.requests.append(Recorded(self.command, url.path, urllib.parse.parse_qs(url.query),
                                                  dict(self.headers.items()), body))
            time.sleep(server_state.delay)
            self.send_response(server_state.status)
            for key, value in server_state.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(server_state.body)))
            self.end_headers()
            self.wfile.write(server_state.body)

        def _forward(self, body: bytes) -> None:
            connection = http.client.HTTPConnection(*server_state.upstream, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            connection.request(self.command, self.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            self.send_response(answer.status, answer.reason)
            for key, value in answer.getheaders():
                if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            connection.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server_state.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_API_GATEWAY", server_state.endpoint)
    yield server_state
    server.shutdown()
    server.server_close()


@pytest.fixture
def deployed(scar, aws, stage, tmp_path) -> dict[str, Any]:
    """web-fn deployed with its API; the API made to hold binary media types */* as AWS keeps them (moto
    drops those given at creation)."""
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho hello\n")
    result = scar("init", "-f", write_fdl(tmp_path, FDL))
    assert result.code == 0, result.stderr
    [api] = aws("apigateway").get_rest_apis()["items"]
    aws("apigateway").update_rest_api(restApiId=api["id"], patchOperations=[
        {"op": "replace", "path": "/binaryMediaTypes/*~1*", "value": "*/*"}])
    return api


def test_get_reaches_the_stage_url_and_prints_the_output(scar, stage, deployed):
    result = scar("invoke", "-n", "web-fn", "-p", '{"name": "scar", "n": 3}')
    assert result.code == 0, result.stderr
    assert result.stdout == "hello from the function\n"
    assert "Request Id: req-42" in result.stderr
    [request] = stage.requests
    assert request.method == "GET" and request.body == b""
    assert request.path == f"/restapis/{deployed['id']}/scar/_user_request_/launch"
    assert request.query == {"name": ["scar"], "n": ["3"]}
    assert request.headers["Accept"] == "application/octet-stream"  # one of the API's binary media types
    assert "X-Amz-Invocation-Type" not in request.headers
    assert "Authorization" not in request.headers  # auth none: nothing signed


def test_asynchronous_sends_the_event_header(scar, stage, deployed):
    stage.status, stage.body = 502, b'{"message": "Internal server error"}'  # API Gateway's answer to -a
    result = scar("invoke", "-n", "web-fn", "-a")
    assert result.code == 0, result.stderr
    assert "Function 'web-fn' launched" in result.stdout
    [request] = stage.requests
    assert request.headers["X-Amz-Invocation-Type"] == "Event"


def test_binary_post_sends_the_file_bytes_and_writes_the_answer(scar, stage, deployed, tmp_path):
    data = bytes(range(256)) * 8
    (tmp_path / "in.bin").write_bytes(data)
    stage.body = data[::-1]
    result = scar("invoke", "-n", "web-fn", "-db", tmp_path / "in.bin", "-o", tmp_path / "out.bin")
    assert result.code == 0, result.stderr
    [request] = stage.requests
    assert request.method == "POST" and request.body == data
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert (tmp_path / "out.bin").read_bytes() == data[::-1]


def test_json_data_is_sent_as_json_not_form_encoded(scar, stage, deployed):
    result = scar("invoke", "-n", "web-fn", "-jd", '{"a": [1, 2], "b": "c d"}', "-j")
    assert result.code == 0, result.stderr
    [request] = stage.requests
    assert request.body == b'{"a": [1, 2], "b": "c d"}'
    assert request.headers["Content-Type"] == "application/json"
    document = json.loads(result.stdout)
    assert document["APIGateway"]["Payload"] == "hello from the function\n"
    assert document["APIGateway"]["StatusCode"] == 200


def test_base64_text_from_an_api_without_binary_media_types_is_decoded(scar, aws, stage, deployed):
    aws("apigateway").update_rest_api(restApiId=deployed["id"], patchOperations=[
        {"op": "remove", "path": "/binaryMediaTypes/*~1*", "value": "*/*"}])  # moto reads the value
    stage.body = base64.b64encode(b"\x00decoded\xff")
    result = scar("invoke", "-n", "web-fn", "-j")
    assert result.code == 0, result.stderr
    payload = json.loads(result.stdout)["APIGateway"]
    assert base64.b64decode(payload["Payload"]) == b"\x00decoded\xff" and payload["PayloadEncoding"] == "base64"


def test_iam_auth_signs_the_request_with_sigv4(scar, aws, stage, tmp_path):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho hello\n")
    fdl = write_fdl(tmp_path, FDL.replace("{name: web-api}", "{name: web-api, auth: iam}"))
    assert scar("init", "-f", fdl).code == 0
    result = scar("invoke", "-f", fdl, "-p", '{"q": "1"}')
    assert result.code == 0, result.stderr
    [request] = stage.requests
    authorization = request.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=")
    assert "/us-east-1/execute-api/aws4_request" in authorization
    assert "SignedHeaders=" in authorization and "host" in authorization
    assert request.headers["X-Amz-Date"]


def test_a_failing_function_exits_1_with_its_message(scar, stage, deployed):
    stage.status = 500
    stage.body = json.dumps({"error": "the container exited with code 3", "exit_code": 3,
                             "output_tail": "about to fail\x1b[2J"}).encode()
    result = scar("invoke", "-n", "web-fn")
    assert result.code == 1
    assert "the container exited with code 3" in result.stderr and "about to fail" in result.stderr
    assert "\x1b" not in result.stderr  # the function's text cannot steer the terminal
    assert "Traceback" not in result.stderr
    assert len(stage.requests) == 1  # no retry


def test_api_gateway_timeout_suggests_asynchronous(scar, stage, deployed):
    stage.status, stage.body = 504, b'{"message": "Endpoint request timed out"}'
    result = scar("invoke", "-n", "web-fn")
    assert result.code == 1
    assert "29 s" in result.stderr and "-a" in result.stderr


def test_no_answer_in_time_says_so(scar, stage, deployed, monkeypatch):
    from scar.aws import http_endpoint

    monkeypatch.setattr(http_endpoint, "API_GATEWAY_TIMEOUT", 0.5)  # instead of waiting 29 s
    stage.delay = 3
    result = scar("invoke", "-n", "web-fn")
    assert result.code == 1
    assert "limit for synchronous calls" in result.stderr and "use -a" in result.stderr


@pytest.mark.parametrize(("size", "flags", "limit"), [
    (5 * 1024 * 1024, (), "6 MB for synchronous"),  # 5 MiB is about 6.7 MiB once base64-encoded
    (200 * 1024, ("-a",), "256 KB for asynchronous"),
    (11 * 1024 * 1024, (), "API Gateway accepts at most 10 MB"),
])
def test_payload_limits_are_checked_before_sending(scar, stage, deployed, tmp_path, size, flags, limit):
    (tmp_path / "big.bin").write_bytes(b"x" * size)
    result = scar("invoke", "-n", "web-fn", "-db", tmp_path / "big.bin", *flags)
    assert result.code == 2
    assert limit in result.stderr
    assert stage.requests == []


def test_a_function_without_an_api_is_told_how_to_get_one(scar, aws, stage, tmp_path):
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho hello\n")
    assert scar("init", "-f", write_fdl(tmp_path, FDL.replace("    api_gateway: {name: web-api}\n", ""))).code == 0
    result = scar("invoke", "-n", "web-fn")
    assert result.code == 1
    assert "has no HTTP endpoint" in result.stderr and "api_gateway.name" in result.stderr


@pytest.mark.parametrize(("flags", "message"), [
    (("-jd", "{not json"), "-jd/--json-data is not JSON"),
    (("-p", "[1, 2]"), "-p/--parameters must be a JSON object"),
    (("-db", "/nonexistent/file"), "cannot read /nonexistent/file"),
    (("-a", "-o", "out.bin"), "-o/--output-file needs a synchronous call"),
])
def test_bad_flags_are_one_line_errors(scar, deploy_env, flags, message):
    result = scar("invoke", "-n", "web-fn", *flags)
    assert result.code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
