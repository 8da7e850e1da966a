"""The udocker runner's command lines and the container environment udocker's own code computes from them
(with a stand-in udocker that records each call; test_udocker_real.py runs the real one), and the Lambda
Runtime API loop against a local HTTP server speaking that API."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from scar.supervisor.config import FunctionConfig
from scar.supervisor.runners import RunnerError, RunSpec, UdockerRunner

FAKE_UDOCKER = '''
import json, os, sys
os.makedirs(os.environ["UDOCKER_DIR"], exist_ok=True)
with open(os.path.join(os.environ["UDOCKER_DIR"], "calls.log"), "a") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "environ": dict(os.environ)}) + "\\n")
if "run" in sys.argv[1:]:
    # the container's environment as udocker itself builds it from this command line, any --env-file and its
    # own environment: its option parser and execution engine, from the real package
    from udocker.cli import UdockerCLI
    from udocker.cmdparser import CmdParser
    from udocker.engine.base import ExecutionEngineCommon
    parser = CmdParser()
    parser.parse(sys.argv)
    engine = ExecutionEngineCommon(None, None)
    UdockerCLI._get_run_options(None, parser, engine)
    engine._run_env_cmdoptions()
    print("container env:", json.dumps(engine.opt["env"].dict()))
'''

#: The stand-in replaces only udocker.maincmd: every other module comes from the real udocker package.
FAKE_PACKAGE = '''
import importlib.machinery, os, sys
_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_real = importlib.machinery.PathFinder.find_spec("udocker", [p for p in sys.path if os.path.abspath(p) != _here])
__path__.extend(_real.submodule_search_locations)
with open(_real.origin) as _init:
    exec(_init.read())  # its __version__ and the like
'''


@pytest.fixture
def fake_udocker(tmp_path, monkeypatch):
    package = tmp_path / "fake" / "udocker"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE_PACKAGE)
    (package / "maincmd.py").write_text(FAKE_UDOCKER)
    monkeypatch.syspath_prepend(str(tmp_path / "fake"))  # the runner passes sys.path on as PYTHONPATH
    return tmp_path / "udocker" / "calls.log"


def container_env(lines: list[str]) -> dict[str, str]:
    """The container's variables in the last run, as udocker's own code computed them in the stand-in."""
    *_, line = [line for line in lines if line.startswith("container env: ")]
    return json.loads(line[len("container env: "):])


def calls(log: Path, what: str = "argv") -> list:
    return [json.loads(line)[what] for line in log.read_text().splitlines()]


def test_udocker_prepares_once_and_runs_without_secrets_on_the_command_line(fake_udocker, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "role-secret")  # the supervisor's own: udocker must not get it
    config = FunctionConfig.from_dict({"name": "fn", "container": {"image": "busybox:1.36"}}, tmp_path)
    runner = UdockerRunner(config, None, tmp_path / "udocker")
    work = tmp_path / "work"
    for name in ("input", "output", "scripts"):
        (work / name).mkdir(parents=True)
    (work / "scripts" / "script.sh").write_text("echo hi\n")
    lines: list[str] = []
    spec = RunSpec("req-1", work, "script.sh", None, {"SECRET_TOKEN": "s3cr3t", "GREETING": "hi"}, 30, lines.append)
    result = runner.run(spec)
    runner.run(spec)
    argvs = calls(fake_udocker)
    verbs = [next(a for a in argv if not a.startswith("-")) for argv in argvs]
    assert verbs == ["pull", "create", "setup", "run", "run"]  # the image is prepared once per sandbox
    assert argvs[2][-2:] == ["--execmode=F1", "scar-fn"]
    run = argvs[3]
    assert "--nosysdirs" in run and "-v" in run and str(work) in run
    assert f"--entrypoint=/bin/sh {work}/scripts/script.sh" in run
    assert not any("s3cr3t" in arg for argv in argvs for arg in argv)
    assert not any("role-secret" in value for environ in calls(fake_udocker, "environ") for value in environ.values())
    assert result.process.exit_code == 0
    assert {"SECRET_TOKEN": "s3cr3t", "GREETING": "hi"}.items() <= container_env(lines).items()  # they arrive


class _RuntimeAPI(BaseHTTPRequestHandler):
    events: ClassVar[list[tuple[str, dict]]] = []
    answers: ClassVar[dict[str, dict]] = {}
    done = threading.Event()

    def do_GET(self):
        if not self.events:  # no more invocations: 410, as scar's local Runtime API ends the loop
            self.done.wait(5)
            self.send_response(410)
            self.end_headers()
            return
        request_id, event = self.events.pop(0)
        body = json.dumps(event).encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        request_id = self.path.split("/")[-2]
        length = int(self.headers["Content-Length"])
        self.answers[request_id] = json.loads(self.rfile.read(length))
        self.send_response(202)
        self.end_headers()
        if not self.events:
            self.done.set()

    def log_message(self, *args):
        return None


def test_runtime_api_loop_answers_each_event(tmp_path, monkeypatch):
    (tmp_path / "function_config.yaml").write_text(json.dumps({"name": "img-fn", "runner": "direct"}))
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    _RuntimeAPI.events = [("req-a", {"cmd_args": ["/bin/sh", "-c", "echo from image"]}),
                          ("req-b", {"cmd_args": ["/bin/sh", "-c", "exit 4"]})]
    server = HTTPServer(("127.0.0.1", 0), _RuntimeAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from scar.supervisor import runtime_api

    ended: list[int] = []
    loop = threading.Thread(target=lambda: ended.append(runtime_api.serve(f"127.0.0.1:{server.server_port}")),
                            daemon=True)
    loop.start()
    assert _RuntimeAPI.done.wait(20)
    loop.join(20)
    server.shutdown()
    server.server_close()
    assert ended == [0]  # the loop ended when the API had no more invocations
    answers = _RuntimeAPI.answers
    assert base64.b64decode(answers["req-a"]["body"]) == b"from image\n"
    assert answers["req-a"]["headers"]["amz-lambda-request-id"] == "req-a"
    assert answers["req-b"]["statusCode"] == 500


@pytest.mark.skipif(os.geteuid() != 0, reason="planting a folder owned by another user needs root")
def test_a_planted_udocker_folder_is_refused_not_run(fake_udocker, tmp_path):
    """Another local user's udocker folder, with a container marked ready, is never used."""
    planted = tmp_path / "udocker"
    (planted / "scar").mkdir(parents=True)
    (planted / "scar" / "scar-fn.F1.ready").touch()
    for path in (planted, planted / "scar", planted / "scar" / "scar-fn.F1.ready"):
        os.chown(path, 65534, 65534)
    config = FunctionConfig.from_dict({"name": "fn", "container": {"image": "busybox"}}, tmp_path)
    spec = RunSpec("r", tmp_path, None, ["true"], {}, None, lambda line: None)
    with pytest.raises(RunnerError, match="cannot use udocker's folder"):
        UdockerRunner(config, None, planted).run(spec)
    assert not fake_udocker.exists()  # udocker never ran


def test_the_udocker_folder_is_created_private(fake_udocker, tmp_path):
    config = FunctionConfig.from_dict({"name": "fn", "container": {"image": "busybox"}}, tmp_path)
    work = tmp_path / "work"
    for name in ("input", "output", "scripts"):
        (work / name).mkdir(parents=True)
    UdockerRunner(config, None, tmp_path / "udocker").run(RunSpec("r", work, None, ["true"], {}, None, print))
    assert stat.S_IMODE((tmp_path / "udocker").stat().st_mode) == 0o700
