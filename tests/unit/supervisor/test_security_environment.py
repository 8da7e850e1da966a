"""No value an uploader or caller controls can become a second container variable, with any runner: an object
key or a query value holding `\\r` (which udocker's --env-file reading ends a line at) stays one variable,
exactly as sent. Names are plain identifiers; the staged input file's name holds no control character."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from devtools.images import build_busybox_image, static_busybox
from scar.supervisor.config import FunctionConfig
from scar.supervisor.response import RequestInfo
from scar.supervisor.runners import (
    DirectRunner,
    Runner,
    RunnerError,
    RunSpec,
    SandboxRunner,
    UdockerRunner,
    checked_environment,
)
from scar.supervisor.sandbox import available_sandboxes
from scar.supervisor.storage import Storage, safe_name
from scar.supervisor.supervisor import Supervisor
from tests.unit.supervisor.test_udocker_and_runtime_api import container_env, fake_udocker  # noqa: F401 - the fixture

#: What an S3 event carries for the key `input/x\rINJECTED=yes\rLD_PRELOAD=/lib/evil.so` (URL-encoded).
EVIL_KEY = "input/x\rINJECTED=yes\rLD_PRELOAD=/lib/evil.so"
EVIL_EVENT_KEY = "input/x%0DINJECTED%3Dyes%0DLD_PRELOAD%3D%2Flib%2Fevil.so"
#: A key whose base name itself holds the line breaks.
EVIL_NAME_KEY = "input/x\rINJECTED=yes\u2028MORE=1"
REQUEST = RequestInfo("req-1")


def s3_event(key: str) -> dict[str, Any]:
    return {"Records": [{"eventSource": "aws:s3", "eventTime": "2024-05-01T12:34:56.789Z",
                         "s3": {"bucket": {"name": "in-bucket"}, "object": {"key": key}}}]}


def http_event(query: dict[str, str]) -> dict[str, Any]:
    return {"httpMethod": "GET", "path": "/launch", "queryStringParameters": query, "body": None}


class FakeS3:
    """Stands in for S3 (tests/integration/test_supervisor_storage.py covers real S3 through moto)."""

    def download_file(self, bucket: str, key: str, filename: str) -> None:
        Path(filename).write_text("data\n")


class FakeStorage(Storage):
    def client(self, reference: str) -> Any:
        return FakeS3()


def supervisor(tmp_path: Path, runner: Runner, **container: Any) -> Supervisor:
    """A function whose init script prints its environment, NUL-separated."""
    (tmp_path / "init.sh").write_text("env -0\n")
    config = FunctionConfig.from_dict({"name": "fn", "init_script": "init.sh",
                                       "container": {"timeout_threshold": 0, **container}}, tmp_path)
    return Supervisor(config, runner, FakeStorage(config))


def output(answer: dict[str, Any]) -> bytes:
    assert answer["statusCode"] == 200, base64.b64decode(answer["body"])
    return base64.b64decode(answer["body"])


def nul_separated(data: bytes) -> dict[str, str]:
    """`env -0`'s output: a value may hold any line break, so only NUL separates variables."""
    return dict(item.split("=", 1) for item in data.decode().split("\0") if "=" in item)


# --- udocker: the command line and environment read back by udocker's own code ------------------------------------


def udocker_supervisor(tmp_path: Path, **container: Any) -> Supervisor:
    config = FunctionConfig.from_dict({"name": "fn", "container": {"image": "busybox"}}, tmp_path)
    return supervisor(tmp_path, UdockerRunner(config, None, tmp_path / "udocker"), **container)


def udocker_env(answer: dict[str, Any]) -> dict[str, str]:
    return container_env(output(answer).decode().split("\n"))


def test_udocker_object_key_with_carriage_returns_stays_one_variable(fake_udocker, tmp_path: Path) -> None:  # noqa: F811
    env = udocker_env(udocker_supervisor(tmp_path).handle(s3_event(EVIL_EVENT_KEY), REQUEST, None))
    assert "INJECTED" not in env
    assert "LD_PRELOAD" not in env  # udocker's Fakechroot mode sets its own; the stand-in stops before that
    assert env["STORAGE_OBJECT_KEY"] == EVIL_KEY  # the script gets the real key
    assert env["INPUT_FILE_PATH"].endswith("/input/evil.so")


def test_udocker_file_name_with_line_breaks_is_percent_encoded(fake_udocker, tmp_path: Path) -> None:  # noqa: F811
    env = udocker_env(udocker_supervisor(tmp_path).handle(s3_event(EVIL_NAME_KEY), REQUEST, None))
    assert "INJECTED" not in env and "MORE" not in env
    assert env["STORAGE_OBJECT_KEY"] == EVIL_NAME_KEY
    assert env["INPUT_FILE_PATH"].endswith("/input/x%0DINJECTED=yes%E2%80%A8MORE=1")


def test_udocker_query_value_with_a_carriage_return_stays_one_variable(fake_udocker, tmp_path: Path) -> None:  # noqa: F811
    answer = udocker_supervisor(tmp_path).handle(http_event({"q": "v\rINJECTED_HTTP=1", "n": " spaced "}),
                                                 REQUEST, None)
    env = udocker_env(answer)
    assert "INJECTED_HTTP" not in env
    assert env["CONT_VAR_q"] == "v\rINJECTED_HTTP=1"
    assert env["CONT_VAR_n"] == " spaced "  # exactly as sent: udocker trims values in an --env-file


def test_udocker_never_gets_a_value_on_its_command_line(fake_udocker, tmp_path: Path) -> None:  # noqa: F811
    from tests.unit.supervisor.test_udocker_and_runtime_api import calls

    answer = udocker_supervisor(tmp_path, environment={"TOKEN": "s3cr3t"}).handle(s3_event(EVIL_EVENT_KEY),
                                                                                  REQUEST, None)
    assert udocker_env(answer)["TOKEN"] == "s3cr3t"
    run = calls(fake_udocker)[-1]
    assert "--env=TOKEN" in run and "--env=STORAGE_OBJECT_KEY" in run
    assert not any("s3cr3t" in arg or "INJECTED" in arg for arg in run)


def test_udocker_own_variables_go_by_value_and_reach_the_container(fake_udocker, tmp_path: Path) -> None:  # noqa: F811
    """PATH, LD_*, PYTHON*, LANG... steer udocker itself: they travel on its command line instead."""
    answer = udocker_supervisor(tmp_path, environment={"LD_LIBRARY_PATH": "/opt/lib", "PYTHONPATH": "/app"}).handle(
        {}, REQUEST, None)
    env = udocker_env(answer)
    assert (env["LD_LIBRARY_PATH"], env["PYTHONPATH"]) == ("/opt/lib", "/app")


def test_udocker_refuses_an_own_variable_it_would_trim(fake_udocker, tmp_path: Path) -> None:  # noqa: F811
    config = FunctionConfig.from_dict({"name": "fn", "container": {"image": "busybox"}}, tmp_path)
    spec = RunSpec("r", tmp_path, None, ["true"], {"LANG": " C.UTF-8"}, None, lambda line: None)
    with pytest.raises(RunnerError, match="cannot pass LANG"):
        UdockerRunner(config, None, tmp_path / "udocker").run(spec)


# --- every runner: names and NUL bytes --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["A B", "1ABC", "A=B", "A\rB", "", "É"])
def test_invalid_variable_names_are_refused(name: str) -> None:
    with pytest.raises(RunnerError, match="invalid container variable name"):
        checked_environment({name: "x"})


def test_a_nul_byte_in_a_value_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    answer = supervisor(tmp_path, DirectRunner()).handle(s3_event("input/a%00b/file"), REQUEST, None)
    assert answer["statusCode"] == 500
    assert b"NUL byte" in base64.b64decode(answer["body"])


def test_an_invalid_configured_name_fails_the_run_with_its_name(tmp_path: Path) -> None:
    answer = supervisor(tmp_path, DirectRunner(), environment={"MY VAR": "1"}).handle({}, REQUEST, None)
    assert answer["statusCode"] == 500
    assert b"MY VAR" in base64.b64decode(answer["body"])


def test_safe_name_encodes_control_characters() -> None:
    assert safe_name("in/x\rINJECTED=yes\n\x1b[31m\u2028\ttab%") == "x%0DINJECTED=yes%0A%1B[31m%E2%80%A8\ttab%"
    assert safe_name("in/plain name.txt") == "plain name.txt"


# --- the direct runner: a plain process -----------------------------------------------------------------------


def test_direct_object_key_and_query_value_stay_one_variable(tmp_path: Path) -> None:
    run = supervisor(tmp_path, DirectRunner()).handle
    env = nul_separated(output(run(s3_event(EVIL_EVENT_KEY), REQUEST, None)))
    assert "INJECTED" not in env and env.get("LD_PRELOAD") != "/lib/evil.so"
    assert env["STORAGE_OBJECT_KEY"] == EVIL_KEY
    env = nul_separated(output(run(http_event({"q": "v\rINJECTED_HTTP=1"}), REQUEST, None)))
    assert "INJECTED_HTTP" not in env and env["CONT_VAR_q"] == "v\rINJECTED_HTTP=1"


# --- the sandbox runner: busybox really runs under bubblewrap -------------------------------------------------


@pytest.fixture(scope="module")
def busybox_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if static_busybox() is None:
        pytest.skip("no static busybox here: apt-get install busybox-static (scripts/install-system-deps.sh)")
    if "bubblewrap" not in available_sandboxes():
        pytest.skip("bwrap is not installed or does not work here (apt-get install bubblewrap)")
    return build_busybox_image(tmp_path_factory.mktemp("busybox") / "busybox.tar")


def test_sandbox_object_key_and_query_value_stay_one_variable(busybox_image: Path, tmp_path: Path) -> None:
    config = FunctionConfig.from_dict({"name": "fn", "container": {"image_file": {"path": str(busybox_image)}}},
                                      tmp_path)
    runner = SandboxRunner(config, lambda: busybox_image, tmp_path / "cache", prefer="bubblewrap")
    run = supervisor(tmp_path, runner).handle
    env = nul_separated(output(run(s3_event(EVIL_EVENT_KEY), REQUEST, None)))
    assert "INJECTED" not in env and "LD_PRELOAD" not in env
    assert env["STORAGE_OBJECT_KEY"] == EVIL_KEY
    assert env["INPUT_FILE_PATH"] == "/tmp/scar/req-1/input/evil.so"
    env = nul_separated(output(run(s3_event(EVIL_NAME_KEY), REQUEST, None)))
    assert "INJECTED" not in env and "MORE" not in env
    assert env["INPUT_FILE_PATH"] == "/tmp/scar/req-1/input/x%0DINJECTED=yes%E2%80%A8MORE=1"
    env = nul_separated(output(run(http_event({"q": "v\rINJECTED_HTTP=1"}), REQUEST, None)))
    assert "INJECTED_HTTP" not in env and env["CONT_VAR_q"] == "v\rINJECTED_HTTP=1"
