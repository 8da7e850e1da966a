"""The udocker runner with REAL udocker 1.3.17 (not a stand-in): the image loaded from its file once and kept
for warm invocations, the container created once in the configured execution mode, the programming model's
variables, exit codes, timeouts that kill the whole process tree, and no credential on any command line.

udocker's engine is Debian's proot, patchelf and libfakechroot (tests/unit/supervisor/conftest.py). PRoot mode
(P1) runs the busybox image with the request's folder bound as a volume, as in Lambda. Fakechroot mode (F1) runs
a dynamically linked image, with the image's command only: Debian's libfakechroot binds no directory volume
(only udocker's own build does, in Lambda), and LD_PRELOAD cannot confine a static busybox."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.images import build_busybox_image, fake_udocker_engine
from scar.package.layer import build_supervisor_layer
from scar.supervisor.config import FunctionConfig
from scar.supervisor.response import RequestInfo
from scar.supervisor.runners import RunnerError, RunSpec, UdockerRunner, engine_tarball
from scar.supervisor.supervisor import Supervisor
from tests.unit.supervisor.conftest import UdockerKit
from tests.unit.supervisor.test_security_environment import FakeStorage

ROLE_SECRET = "role-secret-9f3a"  # the supervisor's own credentials: udocker and the container never get them
TOKEN = "container-token-41c7"  # a container variable: never on a command line in P1


def config(name: str, mode: str, image: str | None = None) -> FunctionConfig:
    """The runner is given the image file itself; `image` is the image's name in the function's settings."""
    data = {"name": name, "udocker_execmode": mode, "container": {"timeout_threshold": 0, "image": image}}
    return FunctionConfig.from_dict(data, Path("/"))


def workdir(base: Path, script: str | None = None) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    for name in ("input", "output", "scripts"):
        (base / name).mkdir(exist_ok=True)
    if script is not None:
        (base / "scripts" / "script.sh").write_text(script)
    return base


def run(runner: UdockerRunner, work: Path, args: list[str] | None = None, env: dict[str, str] | None = None,
        timeout: float | None = 60) -> tuple[int, str, bool]:
    lines: list[str] = []
    script = "script.sh" if (work / "scripts" / "script.sh").exists() else None
    result = runner.run(RunSpec("req", work, script, args, env or {}, timeout, lines.append)).process
    return result.exit_code, result.output.decode(), result.timed_out


def udocker_ps(udocker_dir: Path) -> list[tuple[str, str, str]]:
    """(mode, names, image) of each container, as `udocker ps -m` lists them."""
    env = {"PATH": os.environ["PATH"], "HOME": str(udocker_dir / "home"), "UDOCKER_DIR": str(udocker_dir),
           "UDOCKER_TARBALL": ""}
    listing = subprocess.run([sys.executable, "-m", "udocker.maincmd", "--allow-root", "ps", "-m"], env=env,
                             capture_output=True, text=True, check=True).stdout.splitlines()[1:]
    return [(fields[3], fields[4], fields[5]) for fields in (line.split() for line in listing)]


def container_dir(udocker_dir: Path, name: str) -> Path:
    return (udocker_dir / "containers" / f"scar-{name}").resolve()


def processes_with(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if marker in line:
            found.append(f"{entry.name}: {line}")
    return found


class CommandLines:
    """Every process's command line, sampled every millisecond while it runs (a secret on one would be seen by
    any user of the machine in `ps`)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for entry in Path("/proc").iterdir():
                try:
                    self.seen.add((entry / "cmdline").read_bytes().decode("utf-8", "replace"))
                except OSError:
                    pass
            time.sleep(0.001)

    def __enter__(self) -> CommandLines:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def holding(self, *secrets: str) -> list[str]:
        return [line for line in self.seen if any(secret in line for secret in secrets)]


# --- PRoot mode (P1): the busybox image, the request's folder as a volume ----------------------------------------

@pytest.fixture(scope="module")
def p1_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """udocker's folder shared by this module's P1 tests: the image is loaded and the container created once."""
    return tmp_path_factory.mktemp("udocker-p1") / "udocker"


@pytest.fixture
def p1(real_udocker: UdockerKit, p1_dir: Path) -> UdockerRunner:
    return UdockerRunner(config("p1fn", "P1"), lambda: real_udocker.busybox_image, p1_dir)


def test_image_loaded_once_container_created_once_in_the_mode_set(real_udocker: UdockerKit, tmp_path: Path):
    # tagged v2 in the tarball, named otherwise in the function: udocker keeps the tarball's tag
    image = build_busybox_image(tmp_path / "image.tar", type_changes=False, repo_tag="scar-test/tool:v2")
    reads = []

    def image_path() -> Path:
        reads.append(1)
        return image

    udocker_dir = tmp_path / "udocker"
    named = config("Cold_Fn", "P1", "registry.example.org/team/tool:1.0")
    runner = UdockerRunner(named, image_path, udocker_dir)
    work = workdir(tmp_path / "work", "echo run >> /tmp/runs; wc -l < /tmp/runs; cat /etc/hostname\n")
    assert run(runner, work)[:2] == (0, "1\nbusybox\n")
    image.unlink()  # a warm invocation neither reads the file again nor loads the image again
    warm = UdockerRunner(named, image_path, udocker_dir)
    assert run(warm, work)[:2] == (0, "2\nbusybox\n")
    assert reads == [1]
    # one container (its /tmp kept the first run's line) of the image the runner named, in PRoot mode
    assert udocker_ps(udocker_dir) == [("P1", "['scar-Cold_Fn']", "scar-image/cold_fn:v2")]


def test_p1_inputs_and_outputs_through_volumes_with_the_programming_model(p1: UdockerRunner, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "init.sh").write_text(
        'echo "$GREETING from $(cat /etc/hostname): $STORAGE_OBJECT_KEY $REQUEST_ID"\n'
        'tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH").upper"\n'
        'echo "AWS: $(env | grep -c ^AWS_)"\n')
    fn = FunctionConfig.from_dict({"name": "p1fn", "init_script": "init.sh", "udocker_execmode": "P1",
                                   "container": {"timeout_threshold": 0, "environment": {"GREETING": "hello"}}},
                                  tmp_path)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ROLE_SECRET)
    results = tmp_path / "results"
    event = {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "in/a.txt"}}}]}
    answer = Supervisor(fn, p1, FakeStorage(fn), results).handle(event, RequestInfo("req-7"), None)
    assert answer["statusCode"] == 200, base64.b64decode(answer["body"])
    assert base64.b64decode(answer["body"]).decode() == "hello from busybox: in/a.txt req-7\nAWS: 0\n"
    assert (results / "a.txt.upper").read_text() == "DATA\n"  # FakeStorage's input, through both volumes


def test_p1_exit_codes_pass_through(p1: UdockerRunner, tmp_path: Path):
    assert run(p1, workdir(tmp_path, "echo failing; exit 7\n"))[:2] == (7, "failing\n")
    assert run(p1, workdir(tmp_path / "args"), ["/bin/sh", "-c", "exit 3"])[0] == 3


def test_p1_timeout_kills_the_whole_process_tree(p1: UdockerRunner, tmp_path: Path):
    run(p1, workdir(tmp_path / "warm"), ["true"])  # the container exists: the timeout only covers the run
    work = workdir(tmp_path / "slow", "sleep 3011 &\nsleep 3012\n")
    started = time.monotonic()
    *_, timed_out = run(p1, work, timeout=1)
    assert timed_out and time.monotonic() - started < 10
    assert processes_with("sleep 301") == []  # the background sleep, the script, proot and udocker: all gone


def test_p1_no_credential_on_any_command_line(p1: UdockerRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ROLE_SECRET)
    work = workdir(tmp_path, 'echo "token=$SECRET_TOKEN"; env | grep -c ^AWS_; sleep 0.3\n')
    with CommandLines() as lines:
        code, output, _ = run(p1, work, env={"SECRET_TOKEN": TOKEN})
    assert (code, output) == (0, f"token={TOKEN}\n0\n")  # it arrives; the role's credentials do not
    assert any("proot" in line for line in lines.seen)  # the sampler saw the run
    assert lines.holding(ROLE_SECRET, TOKEN) == []


# --- Fakechroot mode (F1): a dynamically linked image, its own command -----------------------------------------

@pytest.fixture(scope="module")
def f1_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("udocker-f1") / "udocker"


@pytest.fixture
def f1(real_udocker: UdockerKit, f1_dir: Path) -> UdockerRunner:
    return UdockerRunner(config("f1fn", "F1"), lambda: real_udocker.dynamic_image, f1_dir)


def test_f1_runs_the_programs_through_the_containers_own_loader(f1: UdockerRunner, f1_dir: Path, tmp_path: Path):
    code, output, _ = run(f1, workdir(tmp_path), ["/bin/cat", "/proc/self/maps"])
    assert code == 0, output
    container = container_dir(f1_dir, "f1fn")
    assert udocker_ps(f1_dir) == [("F1", "['scar-f1fn']", "scar-image/f1fn:latest")]
    # Debian's patchelf has no -q: without the loader the supervisor records, udocker would run the programs
    # with the host's loader (and only their libraries from the image)
    assert (container / "ld.so.path").read_text().strip() == "/lib64/ld-linux-x86-64.so.2"
    assert f"{container}/ROOT/lib64/ld-linux-x86-64.so.2" in output
    assert f"{container}/ROOT/lib/x86_64-linux-gnu/libc.so.6" in output
    assert "LD_PRELOAD" not in output and "libfakechroot.so" in output  # Fakechroot is in the process


def test_f1_environment_and_exit_codes(f1: UdockerRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ROLE_SECRET)
    script = 'echo "$GREETING $SECRET_TOKEN"; env | grep -c ^AWS_; exit 5'
    with CommandLines() as lines:
        code, output, _ = run(f1, workdir(tmp_path), ["/bin/sh", "-c", script],
                              env={"GREETING": "hello", "SECRET_TOKEN": TOKEN})
    assert (code, output) == (5, f"hello {TOKEN}\n0\n")
    assert lines.holding(ROLE_SECRET) == []  # (F1 hands container variables to `env -i` for an instant)


def test_f1_timeout_kills_the_whole_process_tree(f1: UdockerRunner, tmp_path: Path):
    run(f1, workdir(tmp_path / "warm"), ["/bin/sh", "-c", "true"])
    *_, timed_out = run(f1, workdir(tmp_path / "slow"), ["/bin/sh", "-c", "sleep 3021 & sleep 3022"], timeout=1)
    assert timed_out
    assert processes_with("sleep 302") == []


# --- settings ------------------------------------------------------------------------------------------------

def test_an_unknown_execution_mode_is_refused(tmp_path: Path):
    runner = UdockerRunner(config("fn", "R1"), None, tmp_path / "udocker")
    with pytest.raises(RunnerError, match="unknown udocker execution mode 'R1' \\(F1 or P1\\)"):
        runner.run(RunSpec("r", workdir(tmp_path / "w"), None, ["true"], {}, None, print))


def test_the_engine_in_the_supervisor_layer_is_found_wherever_the_layer_is(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    engine = tmp_path / "engine.tar.gz"
    engine.write_bytes(fake_udocker_engine())
    layer = tmp_path / "layer"  # not /opt: emulators such as ministack extract layers elsewhere
    with zipfile.ZipFile(io.BytesIO(build_supervisor_layer(engine).zip_bytes)) as archive:
        archive.extractall(layer)
    probe = "from scar.supervisor.runners import engine_tarball; print(engine_tarball())"
    env = {k: v for k, v in os.environ.items() if k != "SCAR_UDOCKER_TARBALL"}
    done = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(layer / 'python')!r}); {probe}"],
                          env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(layer / "udocker" / "udocker-englib.tar.gz")
    monkeypatch.setenv("SCAR_UDOCKER_TARBALL", str(engine))  # what a user sets wins
    assert engine_tarball() == engine


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    # only this file's own sleeps (3011, 3012, 3021, 3022): other tests, or other sessions on the machine, sleep too
    assert processes_with("sleep 301") + processes_with("sleep 302") == []
