"""`scar run` through the CLI entry point against moto server.

moto's docker-less Lambda never runs code: a synchronous invoke echoes the request payload (so the tests
see exactly what scar sent), or returns the next canned result queued at /moto-api/static/lambda-simple/response.
A second moto server in docker mode, without a Docker daemon, answers every invoke with FunctionError "Handled".
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from devtools.emulators import MotoServer, post
from tests.conftest import REGION

ASSUME_LAMBDA = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def create_function(endpoint: str, name: str, timeout: int = 3) -> None:
    """A minimal zip function (moto requires its role to exist)."""
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION)
    try:
        role = iam.get_role(RoleName="scar-test")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="scar-test", AssumeRolePolicyDocument=ASSUME_LAMBDA)["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda", endpoint_url=endpoint, region_name=REGION).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler",
        Code={"ZipFile": code.getvalue()}, Timeout=timeout)


def queue_response(endpoint: str, document: dict) -> None:
    """The next invoke returns `document` (moto's canned-result queue)."""
    body = json.dumps({"results": [json.dumps(document)], "region": REGION}).encode()
    post(f"{endpoint}/moto-api/static/lambda-simple/response", body)


def supervisor_document(body: bytes, status: int = 200) -> dict:
    return {"statusCode": status,
            "headers": {"amz-lambda-request-id": "req-42", "amz-log-group-name": "/aws/lambda/fn",
                        "amz-log-stream-name": "2026/11/25/[$LATEST]abc"},
            "body": base64.b64encode(body).decode(), "isBase64Encoded": True}


@pytest.fixture
def fn(cloud: str) -> str:
    create_function(cloud, "fn")
    return "fn"


def test_run_sends_empty_event_and_prints_the_answer(scar, fn):
    result = scar("run", "-n", fn)
    assert result.code == 0, result.stderr
    assert result.stdout == "{}\n"  # moto echoes the payload
    assert "scar: Request Id: " in result.stderr


def test_run_sends_container_arguments_as_a_list(scar, fn):
    result = scar("run", "-n", fn, "ls", "-la", "/tmp")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {"cmd_args": ["ls", "-la", "/tmp"]}


def test_run_drops_the_separator_before_arguments(scar, fn):
    result = scar("run", "-n", fn, "--", "-x")
    assert json.loads(result.stdout) == {"cmd_args": ["-x"]}


def test_run_sends_script_base64_and_arguments(scar, fn, tmp_path):
    script = tmp_path / "job.sh"
    script.write_bytes(b"#!/bin/sh\necho \xc3\xa9t\xc3\xa9 $@\n")
    assert json.loads(scar("run", "-n", fn, "-s", script).stdout) == {
        "script": base64.b64encode(script.read_bytes()).decode()}
    result = scar("run", "-n", fn, "-s", script, "a", "b")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {"cmd_args": ["a", "b"]}  # arguments override any script
    assert "scar: -s/--run-script is not sent: the command arguments override it" in result.stderr


def test_run_missing_script_is_bad_input(scar, fn, tmp_path):
    result = scar("run", "-n", fn, "-s", tmp_path / "nope.sh")
    assert result.code == 2
    assert "-s/--run-script" in result.stderr and "is not a file" in result.stderr


def test_run_decodes_the_supervisor_document(scar, fn, cloud):
    queue_response(cloud, supervisor_document("héllo\nworld\n".encode()))
    result = scar("run", "-n", fn)
    assert result.code == 0, result.stderr
    assert result.stdout == "héllo\nworld\n"
    assert result.stderr.splitlines()[-3:] == ["scar: Request Id: req-42", "scar: Log Group Name: /aws/lambda/fn",
                                          "scar: Log Stream Name: 2026/11/25/[$LATEST]abc"]


def test_run_output_file_gets_the_exact_bytes(scar, fn, cloud, tmp_path):
    data = bytes(range(256)) * 4
    queue_response(cloud, supervisor_document(data))
    target = tmp_path / "out.bin"
    result = scar("run", "-n", fn, "-o", target)
    assert result.code == 0, result.stderr
    assert target.read_bytes() == data
    assert result.stdout == ""
    assert f"scar: output written to {target} (1,024 bytes)" in result.stderr


def test_run_output_file_in_a_missing_folder_is_bad_input(scar, fn, tmp_path):
    result = scar("run", "-n", fn, "-o", tmp_path / "nope" / "out.bin")
    assert result.code == 2
    assert "-o/--output-file" in result.stderr


def test_run_json_text_output(scar, fn, cloud):
    queue_response(cloud, supervisor_document(b"done\n"))
    result = scar("run", "-n", fn, "-j")
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["LambdaOutput"]  # the original SCAR's shape, and its keys first
    assert list(document["LambdaOutput"])[:5] == ["StatusCode", "Payload", "LogGroupName", "LogStreamName",
                                                  "RequestId"]
    assert document["LambdaOutput"] == {
        "StatusCode": 200, "Payload": "done\n", "LogGroupName": "/aws/lambda/fn",
        "LogStreamName": "2026/11/25/[$LATEST]abc", "RequestId": "req-42", "Name": "fn", "PayloadEncoding": "utf-8"}


def test_run_json_binary_output_is_base64(scar, fn, cloud):
    queue_response(cloud, supervisor_document(b"\xff\xfe\x00"))
    document = json.loads(scar("-j", "run", "-n", fn).stdout)["LambdaOutput"]
    assert document["PayloadEncoding"] == "base64"
    assert base64.b64decode(document["Payload"]) == b"\xff\xfe\x00"


def test_run_json_echo_shown_as_is(scar, fn):
    document = json.loads(scar("run", "-n", fn, "-j", "x").stdout)["LambdaOutput"]
    assert document["Payload"] == '{"cmd_args": ["x"]}'
    assert document["LogGroupName"] is None and document["RequestId"]


def test_run_supervisor_error_document_fails(scar, fn, cloud):
    queue_response(cloud, supervisor_document(json.dumps({"exception": "Traceback: boom"}).encode(), status=500))
    result = scar("run", "-n", fn)
    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.count("Traceback: boom") == 1
    assert "scar: error: function 'fn' failed: Traceback: boom" in result.stderr


def test_run_lambda_timeout_fails_with_a_hint(scar, fn, cloud):
    queue_response(cloud, {"errorMessage": "2026-11-25T12:00:00Z abc Task timed out after 3.00 seconds"})
    result = scar("run", "-n", fn)
    assert result.code == 1
    assert "Task timed out after 3.00 seconds (raise the function's timeout" in result.stderr


def test_run_asynchronous(scar, fn):
    result = scar("run", "-n", fn, "-a")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("Function 'fn' launched (request id ")


def test_run_asynchronous_json(scar, fn):
    document = json.loads(scar("run", "-n", fn, "-a", "-j").stdout)["LambdaOutput"]
    assert set(document) == {"Name", "RequestId", "StatusCode"}
    assert document["Name"] == "fn" and document["StatusCode"] == 202


def test_run_asynchronous_with_output_file_is_bad_input(scar, fn, tmp_path):
    assert scar("run", "-n", fn, "-a", "-o", tmp_path / "x").code == 2


def test_run_payload_over_the_sync_limit_is_refused_before_any_call(scar, cloud, tmp_path):
    # the function does not exist: a call would have ended in "does not exist" (exit 1)
    script = tmp_path / "big.sh"
    script.write_bytes(b"#" * (7 * 1024 * 1024))
    result = scar("run", "-n", "ghost", "-s", script)
    assert result.code == 2
    assert "6 MB (6,291,456 bytes)" in result.stderr
    assert "9,786," in result.stderr  # the base64 size


def test_run_payload_over_the_async_limit(scar, cloud, tmp_path):
    script = tmp_path / "mid.sh"
    script.write_bytes(b"#" * (900 * 1024))
    result = scar("run", "-n", "ghost", "-a", "-s", script)
    assert result.code == 2
    assert "1 MB (1,048,576 bytes)" in result.stderr


def test_run_missing_function(scar, cloud):
    result = scar("run", "-n", "ghost")
    assert result.code == 1
    assert result.stderr.splitlines()[-1] == ("scar: error: function 'ghost' does not exist in us-east-1 "
                                              "(deploy it with scar init)")


FDL = """\
functions:
  aws:
  - lambda:
      name: fn-a
      container: {image: alpine}
      run_script: job.sh
      c_args: [one, two]
  - lambda:
      name: fn-b
      container: {image: alpine}
"""


@pytest.fixture
def fdl(cloud: str, tmp_path: Path) -> Path:
    (tmp_path / "job.sh").write_text("echo hi\n")
    path = tmp_path / "fdl.yaml"
    path.write_text(FDL)
    create_function(cloud, "fn-a")
    create_function(cloud, "fn-b")
    return path


def test_run_fdl_needs_one_function(scar, fdl):
    result = scar("run", "-f", fdl)
    assert result.code == 2
    assert "choose one with -n NAME" in result.stderr


def test_run_fdl_c_args_override_its_run_script(scar, fdl):
    result = scar("run", "-f", fdl, "-n", "fn-a")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {"cmd_args": ["one", "two"]}


def test_trailing_arguments_override_the_fdl_run_script(scar, fdl):
    fdl.write_text(fdl.read_text().replace("      c_args: [one, two]\n", ""))
    assert json.loads(scar("run", "-f", fdl, "-n", "fn-a").stdout) == {
        "script": base64.b64encode(b"echo hi\n").decode()}
    result = scar("run", "-f", fdl, "-n", "fn-a", "--", "cmd", "--flag")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {"cmd_args": ["cmd", "--flag"]}
    assert "is not sent" not in result.stderr  # no -s was given: nothing to warn about


def test_run_flags_beat_the_fdl(scar, fdl, tmp_path):
    (tmp_path / "other.sh").write_text("echo other\n")
    result = scar("run", "-f", fdl, "-n", "fn-b", "-s", tmp_path / "other.sh")
    assert json.loads(result.stdout) == {"script": base64.b64encode(b"echo other\n").decode()}
    result = scar("run", "-f", fdl, "-n", "fn-a", "three")
    assert json.loads(result.stdout) == {"cmd_args": ["three"]}
    result = scar("run", "-f", fdl, "-n", "fn-a", "-s", tmp_path / "other.sh")  # fn-a has c_args
    assert json.loads(result.stdout) == {"cmd_args": ["one", "two"]}
    assert "scar: -s/--run-script is not sent: the command arguments override it" in result.stderr


@pytest.fixture(scope="module")
def docker_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto in docker mode with no Docker daemon: every invoke ends in FunctionError "Handled"."""
    with MotoServer(tmp_path_factory.mktemp("moto-docker") / "moto.log", docker=True) as server:
        yield server


def test_run_function_error(scar, cloud, docker_moto, monkeypatch):
    docker_moto.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", docker_moto.endpoint)
    create_function(docker_moto.endpoint, "broken")
    result = scar("run", "-n", "broken")
    assert result.code == 1
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("scar: error:")]
    assert len(errors) == 1
    assert errors[0].startswith("scar: error: function 'broken' failed: error running docker")


def test_run_function_error_json(scar, cloud, docker_moto, monkeypatch):
    docker_moto.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", docker_moto.endpoint)
    create_function(docker_moto.endpoint, "broken")
    result = scar("run", "-n", "broken", "-j")
    assert result.code == 1
    document = json.loads(result.stdout)["LambdaOutput"]  # exactly one document
    assert document["FunctionError"].startswith("error running docker")
    assert "Payload" not in document


def test_run_verbose_shows_the_log_tail(scar, fn, cloud, monkeypatch):
    # Mock: moto never returns LogResult, so the response gets the tail AWS sends with LogType=Tail
    import scar.aws.lambda_ as lambda_module

    real_invoke = lambda_module.Lambda.invoke

    def invoke(self, name, payload, asynchronous, tail_log=True):
        answer = real_invoke(self, name, payload, asynchronous, tail_log)
        if tail_log:
            answer["LogResult"] = base64.b64encode(b"START RequestId: x\nREPORT RequestId: x\n").decode()
        return answer

    monkeypatch.setattr(lambda_module.Lambda, "invoke", invoke)
    assert "scar: log: REPORT RequestId: x" in scar("run", "-n", fn, "-v").stderr
    assert "scar: log:" not in scar("run", "-n", fn).stderr
