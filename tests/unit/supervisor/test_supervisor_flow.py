"""The Supervisor end to end on this machine: the DirectRunner runs /bin/sh scripts from a task root holding
function_config.yaml and an init script; storage is either unused or a fake S3 client (the integration test
tests/integration/test_supervisor_storage.py covers real S3 through moto)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from scar.supervisor import entry
from scar.supervisor.config import load_config
from scar.supervisor.response import RequestInfo
from scar.supervisor.runners import DirectRunner
from scar.supervisor.storage import Storage
from scar.supervisor.supervisor import Supervisor, log

REPO = Path(__file__).resolve().parents[3]
REQUEST = RequestInfo("req-1", "/aws/lambda/my-function", "2024/05/01/[$LATEST]0123abcd")
HEADERS = {"amz-lambda-request-id": "req-1", "amz-log-group-name": "/aws/lambda/my-function",
           "amz-log-stream-name": "2024/05/01/[$LATEST]0123abcd"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def body(document: dict[str, Any]) -> bytes:
    assert document["isBase64Encoded"] is True
    return base64.b64decode(document["body"])


def error(document: dict[str, Any]) -> dict[str, Any]:
    assert document["headers"]["Content-Type"] == "application/json"
    text = body(document).decode()
    assert "Traceback" not in text
    return json.loads(text)


def env_of(output: bytes) -> dict[str, str]:
    """`env`'s output as a dict (every value of ours is on one line)."""
    return dict(line.split("=", 1) for line in output.decode().splitlines() if "=" in line)


def s3_event(key: str, bucket: str = "in-bucket") -> dict[str, Any]:
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                         "eventTime": "2024-05-01T12:34:56.789Z", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                                "object": {"key": key, "size": 10}}}]}


def http_event(method: str, body_text: str | None, query: dict[str, str] | None = None,
               is_base64: bool = False) -> dict[str, Any]:
    return {"resource": "/launch", "path": "/launch", "httpMethod": method, "headers": {},
            "queryStringParameters": query, "requestContext": {"httpMethod": method, "stage": "scar"},
            "body": body_text, "isBase64Encoded": is_base64}


INIT = 'echo "hello from init"\n'


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the per-request folders go, to check they are removed."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def task(tmp_path: Path) -> Path:
    root = tmp_path / "task"
    root.mkdir()
    return root


@pytest.fixture
def make(task: Path, temp_root: Path) -> Callable[..., Supervisor]:
    """`make(init_script_text, **config)`: a Supervisor on a task root with that init script and config."""

    def build(init: str | None = INIT, storage: Callable[[Any], Storage] = Storage, **config: Any) -> Supervisor:
        data: dict[str, Any] = {"name": "my-function", "container": {"image": "alpine:3.19", "timeout_threshold": 1,
                                                                     "environment": {"GREETING": "hi there"}},
                                "log_level": "debug", "runner": "direct", **config}
        if init is not None:
            (task / "init.sh").write_text(init)
            data.setdefault("init_script", "init.sh")
        (task / "function_config.yaml").write_text(json.dumps(data))
        loaded = load_config(task / "function_config.yaml")
        return Supervisor(loaded, DirectRunner(), storage(loaded))

    return build


def test_success(make: Callable[..., Supervisor], temp_root: Path) -> None:
    document = make().handle({}, REQUEST, None)
    assert document == {"statusCode": 200, "headers": HEADERS, "body": b64("hello from init\n"),
                        "isBase64Encoded": True}
    assert list(temp_root.iterdir()) == []  # the request's folder is gone


def test_environment_of_the_script(make: Callable[..., Supervisor], temp_root: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAR_HOST_SECRET", "must not leak")
    event = http_event("GET", None, {"name": "world", "my-var": "x y"})
    document = make("env\n").handle(event, REQUEST, time.monotonic() + 60)
    assert document["statusCode"] == 200
    env = env_of(body(document))
    workdir = Path(env["TMP_INPUT_DIR"]).parent
    assert workdir.parent == temp_root and workdir.name.startswith("scar-req-1-")
    assert env["TMP_INPUT_DIR"] == f"{workdir}/input"
    assert env["TMP_OUTPUT_DIR"] == f"{workdir}/output"
    assert env["REQUEST_ID"] == "req-1"
    assert env["GREETING"] == "hi there"  # container.environment
    assert env["CONT_VAR_name"] == "world"
    assert env["CONT_VAR_my_var"] == "x y"
    assert json.loads(env["EVENT"]) == event
    assert "INPUT_FILE_PATH" not in env  # a GET without a body has no input file
    assert "STORAGE_OBJECT_KEY" not in env and "EVENT_TIME" not in env
    assert "SCAR_HOST_SECRET" not in env
    assert not workdir.exists()


def test_http_body_becomes_the_input_file(make: Callable[..., Supervisor]) -> None:
    script = 'printf "%s|" "$(basename "$INPUT_FILE_PATH")" "$(dirname "$INPUT_FILE_PATH")" "$TMP_INPUT_DIR"; ' \
             'cat "$INPUT_FILE_PATH"\n'
    document = make(script).handle(http_event("POST", '{"x": 1}'), REQUEST, None)
    name, folder, input_dir, content = body(document).decode().split("|")
    assert (name, content) == ("request-body", '{"x": 1}')
    assert folder == input_dir


def test_base64_http_body_is_decoded_into_the_input_file(make: Callable[..., Supervisor]) -> None:
    data = b"\x00\x01\xff binary"
    event = http_event("POST", base64.b64encode(data).decode(), is_base64=True)
    document = make('cat "$INPUT_FILE_PATH"\n').handle(event, REQUEST, None)
    assert body(document) == data


def test_invalid_base64_body_is_a_400(make: Callable[..., Supervisor]) -> None:
    document = make().handle(http_event("POST", "not base64!!", is_base64=True), REQUEST, None)
    assert document["statusCode"] == 400
    assert error(document) == {"error": "the request body is marked base64 but is not valid base64"}


def test_script_payload_overrides_the_init_script(make: Callable[..., Supervisor]) -> None:
    document = make().handle({"script": b64('echo "from payload: $*"\n'), "cmd_args": ["a", "b c"]}, REQUEST, None)
    assert body(document) == b"from payload: a b c\n"


def test_cmd_args_alone_run_without_the_init_script(make: Callable[..., Supervisor]) -> None:
    event = {"cmd_args": json.dumps(["sh", "-c", 'echo "args only $REQUEST_ID"'])}
    assert body(make().handle(event, REQUEST, None)) == b"args only req-1\n"


def test_unknown_command_is_a_500_not_a_crash(make: Callable[..., Supervisor]) -> None:
    document = make().handle({"cmd_args": ["/nonexistent/command"]}, REQUEST, None)
    assert document["statusCode"] == 500
    assert "/nonexistent/command" in error(document)["error"]


def test_nothing_to_run(make: Callable[..., Supervisor]) -> None:
    document = make(None).handle({}, REQUEST, None)
    assert document["statusCode"] == 500
    assert error(document)["error"].startswith("nothing to run")


def test_missing_init_script_is_a_500_not_a_crash(make: Callable[..., Supervisor], task: Path) -> None:
    supervisor = make()
    (task / "init.sh").unlink()
    document = supervisor.handle({}, REQUEST, None)
    assert document["statusCode"] == 500
    assert "init.sh" in error(document)["error"]


def test_plain_text_event_with_a_nul_byte(make: Callable[..., Supervisor]) -> None:
    """EVENT cannot hold a NUL byte: the run goes on without it instead of failing to start."""
    document = make('echo "event: ${EVENT-unset}"\n').handle("not json\x00", REQUEST, None)
    assert body(document) == b"event: unset\n"


def test_nonzero_exit_is_a_500_with_the_output_tail(make: Callable[..., Supervisor], temp_root: Path) -> None:
    script = "i=0; while [ $i -lt 30 ]; do echo line $i; i=$((i+1)); done; echo broken >&2; exit 3\n"
    document = make(script).handle({}, REQUEST, None)
    assert document["statusCode"] == 500
    assert document["headers"] == {**HEADERS, "Content-Type": "application/json"}
    tail = "\n".join([*(f"line {i}" for i in range(11, 30)), "broken"])
    assert error(document) == {"error": "the container exited with code 3", "exit_code": 3, "output_tail": tail}
    assert list(temp_root.iterdir()) == []


def test_timeout_is_a_500_with_the_partial_output(make: Callable[..., Supervisor], temp_root: Path) -> None:
    """The run gets the time left minus `timeout_threshold` (3 s here): stopped after about 0.6 s, long before
    the deadline."""
    supervisor = make('echo "partial"; sleep 30\n', container={"timeout_threshold": 3})
    started = time.monotonic()
    document = supervisor.handle({}, REQUEST, started + 3.6)
    assert 0.3 < time.monotonic() - started < 2.5
    assert document["statusCode"] == 500
    assert error(document) == {"error": "the container timed out", "timed_out": True, "output_tail": "partial"}
    assert list(temp_root.iterdir()) == []


def test_no_time_left(make: Callable[..., Supervisor]) -> None:
    document = make().handle({}, REQUEST, time.monotonic() + 0.5)  # less than the 1 s threshold
    assert document["statusCode"] == 500
    assert error(document)["error"].startswith("no time left to run the container")


class FakeS3:
    """Stands in for S3 in this unit test (tests/integration/test_supervisor_storage.py covers real S3): every
    object holds a shell script that would print PWNED if it ever ran."""

    def __init__(self) -> None:
        self.downloads: list[tuple[str, str, str]] = []

    def download_file(self, bucket: str, key: str, filename: str) -> None:
        self.downloads.append((bucket, key, filename))
        Path(filename).write_text("echo PWNED\nexit 0\n")


@pytest.mark.parametrize("key", ["init_script.sh", "uploads/init_script.sh", "script.sh",
                                 "..%2Fscripts%2Finit_script.sh"])
def test_an_input_named_like_the_script_cannot_replace_it(make: Callable[..., Supervisor], key: str) -> None:
    """The original wrote the script and the input into the same folder: an uploaded `init_script.sh` replaced
    the user's script. Here scripts live in their own folder."""
    fake = FakeS3()

    class FakeStorage(Storage):
        def client(self, reference: str) -> Any:
            assert reference == "s3"
            return fake

    script = 'echo "real script ran on $(basename "$INPUT_FILE_PATH") ($STORAGE_OBJECT_KEY)"\n'
    document = make(script, storage=FakeStorage).handle(s3_event(key), REQUEST, None)
    output = body(document)
    assert document["statusCode"] == 200
    name = key.replace("%2F", "/").rsplit("/", 1)[-1]
    assert output == f"real script ran on {name} ({key.replace('%2F', '/')})\n".encode()
    assert b"PWNED" not in output
    [(bucket, _, filename)] = fake.downloads
    assert bucket == "in-bucket"
    assert Path(filename).parent.name == "input"


def test_event_time_and_object_key(make: Callable[..., Supervisor]) -> None:
    class FakeStorage(Storage):
        def client(self, reference: str) -> Any:
            return FakeS3()

    document = make('echo "$STORAGE_OBJECT_KEY|$EVENT_TIME"\n', storage=FakeStorage).handle(
        s3_event("in+put/my+file.txt"), REQUEST, None)
    assert body(document) == b"in put/my file.txt|2024-05-01T12:34:56.789Z\n"


@pytest.fixture
def quiet_logger() -> Any:
    """The handler configures the supervisor's logger: put it back afterwards."""
    saved = log.handlers[:], log.propagate, log.level
    yield
    log.handlers[:], log.propagate = saved[0], saved[1]
    log.setLevel(saved[2])


def test_lambda_handler(make: Callable[..., Supervisor], task: Path, monkeypatch: pytest.MonkeyPatch,
                        quiet_logger: None) -> None:
    make('echo "handled $REQUEST_ID"\n')
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(task))
    monkeypatch.setattr(entry, "_warm", None)
    context = SimpleNamespace(aws_request_id="req-9", log_group_name="g", log_stream_name="s",
                              get_remaining_time_in_millis=lambda: 30_000)
    document = entry.lambda_handler({}, context)
    assert document["statusCode"] == 200
    assert document["headers"] == {"amz-lambda-request-id": "req-9", "amz-log-group-name": "g",
                                   "amz-log-stream-name": "s"}
    assert body(document) == b"handled req-9\n"


def test_lambda_handler_without_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path / "empty"))
    monkeypatch.setattr(entry, "_warm", None)
    document = entry.lambda_handler({}, SimpleNamespace(aws_request_id="req-0"))
    assert document["statusCode"] == 500
    assert error(document)["error"].startswith("no function configuration at ")


def run_main(task: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FUNCTION_CONFIG", "LAMBDA_TASK_ROOT")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "scar.supervisor", "--config", str(task / "function_config.yaml"),
                           "--runner", "direct", "--request-id", "req-7", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=30)


def test_python_dash_m_success(make: Callable[..., Supervisor], task: Path) -> None:
    make('echo "main: $EVENT"\n')
    done = run_main(task, '{"greeting": "hi"}', "--timeout", "20")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["statusCode"] == 200
    assert document["headers"]["amz-lambda-request-id"] == "req-7"
    assert body(document) == b'main: {"greeting": "hi"}\n'


def test_python_dash_m_failure(make: Callable[..., Supervisor], task: Path) -> None:
    make("echo failing; exit 4\n")
    done = run_main(task, "plain text, not JSON")
    assert done.returncode == 1
    assert error(json.loads(done.stdout)) == {"error": "the container exited with code 4", "exit_code": 4,
                                              "output_tail": "failing"}


def test_python_dash_m_without_configuration(tmp_path: Path) -> None:
    done = run_main(tmp_path, "{}")
    assert done.returncode == 1
    assert error(json.loads(done.stdout))["error"].startswith("no function configuration at ")


@pytest.mark.parametrize("content", ["[1, 2]", '"text"', "not json"])
def test_lambda_handler_with_an_unusable_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       content: str) -> None:
    (tmp_path / "function_config.yaml").write_text(content)
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    monkeypatch.setattr(entry, "_warm", None)
    document = entry.lambda_handler({}, SimpleNamespace(aws_request_id="req-0"))
    assert document["statusCode"] == 500
    assert "function configuration" in error(document)["error"]


def test_every_log_line_names_the_request_even_the_scripts_output(tmp_path, capsys):
    import logging

    from scar.supervisor import response as response_module
    from scar.supervisor.config import FunctionConfig
    from scar.supervisor.events import Invocation
    from scar.supervisor.runners import DirectRunner
    from scar.supervisor.storage import Storage
    from scar.supervisor.supervisor import Supervisor, configure_logging, log

    config = FunctionConfig.from_dict({"name": "fn", "container": {"timeout_threshold": 0}}, tmp_path)
    previous = (log.handlers[:], log.level, log.propagate)
    try:
        configure_logging("INFO")
        supervisor = Supervisor(config, DirectRunner(), Storage(config))
        invocation = Invocation("direct", {}, cmd_args=["/bin/sh", "-c", "echo from the script"])
        answer = supervisor.handle_invocations([invocation], response_module.RequestInfo("req-42"), None)
    finally:
        log.handlers[:], log.level, log.propagate = previous[0], previous[1], previous[2]
    assert answer["statusCode"] == 200
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines and all(" req-42 " in line for line in lines)
    assert "INFO req-42 | from the script" in lines
    assert logging.getLogger("scar.supervisor") is log
