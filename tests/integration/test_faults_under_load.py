"""Faults under load: moto behind microburst, which throttles (429 TooManyRequestsException, SlowDown,
ThrottlingException) or fails with a 5xx about one call in ten. `init` of five functions, `rm`, `put` and
`get` of 500 files and a launch of 2,000 events must each either succeed with every resource, object and
event exactly once, or fail with a clear message and nothing half-created (checked on the emulator).

Each scenario runs LOAD_SEEDS seeds (20 unless set), all at the issue's sizes; the first without a marker,
the others under the `load` marker (`make test` selects every marker). A seed seeds microburst's draws
(`Microburst(seed=N)`: calls made one after the other meet the same faults on every run, concurrent calls
take the same draws in their order of arrival), is the test id's number and is printed; the faults that
fired are counted against the calls made (about one in ten, so a run without faults cannot pass).

To fit in the suite's time, a seed pays only for its own calls: what a scenario sets up stays in moto from
one seed to the next unless a seed fails (the launch's function and 2,000 objects, put on moto directly;
the fault-free reference states of init/rm; the bucket of put/get, each seed in a folder of its own); the
checks read moto with list calls; scar runs in-process (`main(argv)`). The init/rm and put/get seeds run in
two processes of their own, each with its own moto and microburst, while the launch seeds run here: init and
rm spend most of their time in botocore's back-off, and the launch keeps the CPU busy meanwhile.
Under pytest-xdist, `make test` keeps the module on one worker (`--dist loadfile`): spread over workers, its
tests would have each worker's two processes run every seed.
Also here: the endpoint killed in the middle of `init` (the next `init` converges, `rm` cleans everything)
and two `init` of the same function at once.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import multiprocessing
import os
import queue
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest

from devtools.emulators import MotoServer
from devtools.microburst import Microburst, MicroburstUnavailable, find_microburst
from scar.cli.main import main
from tests.conftest import Result
from tests.integration.conftest import write_fdl
from tests.integration.lifecycle_support import create_role, make_engine, write_scar_cfg
from tests.integration.test_launcher import EchoRecorder, put_objects
from tests.integration.test_rollback import snapshot
from tests.secret_sweep import check_output

REGION = "us-east-1"
SEEDS = int(os.environ.get("LOAD_SEEDS", "20"))  # per scenario
FILES, EVENTS = 500, 2000
THROTTLED_AS = {"s3": ("SlowDown", 503), "lambda": ("TooManyRequestsException", 429),
                "ec2": ("RequestLimitExceeded", 503), **{service: ("ThrottlingException", 400) for service in (
                    "sts", "logs", "iam", "ssm", "resourcegroupstaggingapi", "apigateway", "batch")}}
#: each service throttles the way it does (a HEAD answer has no body: S3 throttles with SlowDown 503, never
#: with a 400), then any call may fail with a 500: about 10 % of the calls in all
THROTTLE, SERVER_ERROR = 0.05, 0.053
FAULTS = [*({"service": service, "probability": THROTTLE, "error": {"code": code, "status": status,
                                                                     "message": "Rate exceeded"}}
            for service, (code, status) in THROTTLED_AS.items()),
          {"probability": SERVER_ERROR, "error": {"code": "InternalError", "status": 500,
                                                  "message": "We encountered an internal error."}}]
FIVE = """
functions:
  aws:
""" + "".join(f"""
  - lambda:
      name: load-{n}
      init_script: script.sh
      container: {{image: busybox, environment: {{Variables: {{INDEX: "{n}"}}}}}}
      input: [{{storage_provider: s3, path: load-in-{n}/in}}]
      output: [{{storage_provider: s3, path: load-out/out-{n}}}]
""" for n in range(5))
T = TypeVar("T")


def seeds(scenario: str) -> list:
    """SEEDS seeds, 0 to SEEDS - 1: the first in every run, the others under the `load` marker."""
    return [pytest.param(seed, id=f"{scenario}-{seed}", marks=() if seed == 0 else pytest.mark.load)
            for seed in range(SEEDS)]


@pytest.fixture(scope="module")
def microburst(moto_server: MotoServer) -> Iterator[Microburst]:
    try:
        executable = find_microburst()
    except MicroburstUnavailable as missing:
        pytest.skip(str(missing))
    with Microburst(moto_server.endpoint, executable=executable, seed=0,
                    warm_up=("sts", "lambda", "logs", "s3", "resourcegroupstaggingapi", "iam")) as proxy:
        yield proxy


class Stage:
    """What one scenario keeps in moto from one seed to the next, so that a seed pays only for its own calls.

    `enter` builds it afresh (on an emptied moto, with the test role) unless the last seed to enter was of
    the same scenario and called `clean`: after another scenario, a test resetting moto, or a failed seed."""

    def __init__(self, moto_server: MotoServer) -> None:
        self._moto = moto_server
        self._entered: str | None = None
        self._clean: str | None = None
        self.value: Any = None

    def enter(self, scenario: str, build: Callable[[], T]) -> T:
        if self._clean != scenario:
            self._moto.reset()
            create_role(self._moto.endpoint)
            self.value = build()
        self._entered, self._clean = scenario, None
        return self.value

    def clean(self) -> None:
        """This seed left moto as the next seed of its scenario expects it."""
        self._clean = self._entered

    def forget(self) -> None:
        self._clean = None


@pytest.fixture(scope="module")
def stage(moto_server: MotoServer) -> Stage:
    return Stage(moto_server)


def _use(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    for name, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def through(microburst: Microburst, isolated_env: Path, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Microburst]:
    """For a seed: scar reaches moto through microburst (no faults until `Faults.on`), with a deploy-ready
    scar.cfg (the role is the stage's); the test's own clients go to moto."""
    microburst.set_rules([])
    _use(monkeypatch, microburst.endpoint)
    write_scar_cfg(isolated_env, make_engine(tmp_path / "englib.tar.gz"))
    yield microburst
    microburst.set_rules([])


class Faults:
    """FAULTS, drawn from one seed, switched on around the calls under test; `check` then compares the faults
    that fired with the calls made meanwhile: about one in ten (0.053 to 0.1 of them, give or take 4σ)."""

    def __init__(self, proxy: Microburst, seed: int) -> None:
        proxy.reseed(seed)
        proxy.clear_fired()
        self.proxy, self.seed, self.calls, self.fired, self._since = proxy, seed, 0, 0, 0

    def on(self) -> None:
        self._since = self.proxy.health()["requests_seen"]
        self.proxy.set_rules(FAULTS)

    def off(self) -> None:
        self.proxy.set_rules([])
        self.calls += self.proxy.health()["requests_seen"] - self._since

    def check(self) -> None:
        fired = len(self.proxy.fired(limit=100_000))
        spread = 4 * math.sqrt(self.calls * 0.1 * 0.9)
        low, high = max(1.0, SERVER_ERROR * self.calls - spread), 0.1 * self.calls + spread
        assert low <= fired <= high, f"seed {self.seed}: {fired} faults fired on {self.calls} calls"
        self.fired = fired


def one_clear_error(stderr: str) -> None:
    errors = [line for line in stderr.splitlines() if line.startswith("scar: error: ")]
    assert errors and "Traceback" not in stderr, stderr


_REFERENCES: dict[str, tuple[dict, dict]] = {}


def reference_states(scar: Callable[..., Result], moto_endpoint: str, fdl: Path) -> tuple[dict, dict]:
    """The emulator after a fault-free `init`, and after the `rm` that follows (what `rm` keeps by design);
    measured once per FDL (they hold on any moto that starts with only the test role)."""
    if fdl.read_text() not in _REFERENCES:
        assert (done := scar("init", "-f", fdl)).code == 0, done.stderr
        deployed = comparable(snapshot(moto_endpoint))
        assert (done := scar("rm", "-f", fdl, "-y")).code == 0, done.stderr
        _REFERENCES[fdl.read_text()] = deployed, comparable(snapshot(moto_endpoint))
    return _REFERENCES[fdl.read_text()]


def differences(one: object, other: object, where: str = "") -> list[str]:
    """Where two states differ, key by key (a readable failure instead of two huge dictionaries)."""
    if isinstance(one, dict) and isinstance(other, dict):
        return [d for key in sorted(set(one) | set(other), key=str)
                for d in differences(one.get(key, "<missing>"), other.get(key, "<missing>"), f"{where}.{key}")]
    return [] if one == other else [f"{where}: {one!r} != {other!r}"[:600]]


def comparable(state: dict) -> dict:
    """What must match between two deployments of the same FDL (code hashes and ARNs match; layer version
    numbers grow with every publish, so only their count is compared)."""
    layers = {name: len(versions) for name, versions in state["layers"].items()}
    functions = {name: {**function, "configuration": {
        **function["configuration"],
        "Layers": [re.sub(r":\d+$", "", arn) for arn in function["configuration"].get("Layers") or ()]}}
        for name, function in state["functions"].items()}
    return {**state, "layers": layers, "functions": functions}


def init_and_rm_under_faults(scar: Callable[..., Result], moto_endpoint: str, fdl: Path, faults: Faults,
                             state: InitRm) -> None:
    """One seed of `init` then `rm` of five functions under FAULTS: each succeeds with exactly the fault-free
    deployment (or removal), or fails with one clear message: a failed `init` leaves the emulator exactly as it
    was, a failed `rm` is finished by the next."""
    faults.on()
    result = scar("init", "-f", fdl)
    faults.off()
    if result.code == 0:
        assert not (found := differences(comparable(snapshot(moto_endpoint)), state.deployed)), found
    else:
        one_clear_error(result.stderr)
        assert "left behind" not in result.stderr, result.stderr
        assert not (found := differences(snapshot(moto_endpoint), state.before)), (found, result.stderr)
        again = scar("init", "-f", fdl)
        assert again.code == 0, again.stderr
    faults.on()
    gone = scar("rm", "-f", fdl, "-y")
    faults.off()
    faults.check()
    if gone.code != 0:
        one_clear_error(gone.stderr)
        again = scar("rm", "-f", fdl, "-y")
        assert again.code == 0, f"a second rm finishes the job: {again.stderr}"
    state.before = snapshot(moto_endpoint)
    assert not (found := differences(comparable(state.before), state.removed)), found


class InitRm:
    """The fault-free reference states of `init` and `rm`, and the emulator as the last seed left it."""

    def __init__(self, scar: Callable[..., Result], moto_endpoint: str, fdl: Path) -> None:
        self.deployed, self.removed = reference_states(scar, moto_endpoint, fdl)
        self.before = snapshot(moto_endpoint)


def tree(root: Path) -> dict[str, bytes]:
    """FILES small files over 10 folders under `root`, each with its own content: name → content."""
    files = {f"d{n % 10}/file-{n:04d}.txt": f"content of {n}\n".encode() * (1 + n % 7) for n in range(FILES)}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def _stored(endpoint: str, bucket: str, prefix: str) -> dict[str, str]:
    """Key → ETag (the MD5 of the whole content for a single-part upload) of every object under `prefix`."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    return {item["Key"]: item["ETag"].strip('"')
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", ())}


def _failed_names(result: Result) -> set[str]:
    """What a transfer names as failed (the local path for put, the key for get), from its -j document."""
    return {entry["Name"] for entry in json.loads(result.stdout).get("Failed", [])}


def put_and_get_under_faults(scar: Callable[..., Result], moto_endpoint: str, source: Path, files: dict[str, bytes],
                             dest: Path, prefix: str, faults: Faults) -> None:
    """One seed of `put` of the FILES files under `prefix` of the load-files bucket, then `get` of them into
    `dest`, under FAULTS: every file stored (or fetched) exactly once and whole, or named as failed in a run
    that fails with one clear message, and then absent (from the bucket, or from `dest`)."""
    faults.on()
    put = scar("-j", "put", "-b", f"load-files/{prefix}", "-p", source)
    faults.off()
    failed = _failed_names(put)
    if put.code != 0:
        one_clear_error(put.stderr)
        assert failed, put.stdout
    else:
        assert not failed, put.stdout
    sent = {name: data for name, data in files.items() if str(source / name) not in failed}
    stored = _stored(moto_endpoint, "load-files", prefix)
    expected = {prefix + name: hashlib.md5(data).hexdigest() for name, data in sent.items()}  # S3's ETag
    assert stored == expected, differences(stored, expected)

    faults.on()
    get = scar("-j", "get", "-b", f"load-files/{prefix}", "-p", dest)
    faults.off()
    faults.check()
    got = {str(path.relative_to(dest)): path.read_bytes() for path in dest.rglob("*") if path.is_file()}
    missing = {key.removeprefix(prefix) for key in _failed_names(get)}
    if get.code != 0:
        one_clear_error(get.stderr)
        assert missing, get.stdout
    assert not set(got) & missing, f"files that failed were left in the folder: {set(got) & missing}"
    assert set(got) | missing == set(sent), sorted(set(sent) ^ (set(got) | missing))
    assert not (partial := [name for name in got if got[name] != sent[name]]), f"partial files: {partial}"


def _scar_here(*argv: object) -> Result:
    """`scar ARGV` in this process (a scenario's process has no pytest fixtures)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        code = main([str(arg) for arg in argv])
    check_output(f"scar {' '.join(map(str, argv))}", stdout.getvalue(), stderr.getvalue())
    return Result(code, stdout.getvalue(), stderr.getvalue())


def run_seeds(scenario: str, seeds: list[int], folder: str, results: Any, stop: Any) -> None:
    """A scenario's process: its own environment (a HOME with a deploy-ready scar.cfg, fake credentials), moto
    and seeded microburst, scar in-process; puts (seed, faults fired, failure or "") on `results` for each
    seed, until `stop` is set. What a seed leaves in moto is kept for the next, unless the seed failed."""
    root = Path(folder)
    home, work = root / "home", root / "work"
    work.mkdir(parents=True)
    for name in [name for name in os.environ if name.startswith(("AWS_", "SCAR_"))]:
        del os.environ[name]
    os.environ.update(HOME=str(home), AWS_CONFIG_FILE=str(home / "aws-config"),
                      AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"), AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    write_scar_cfg(home, make_engine(root / "englib.tar.gz"))
    os.chdir(work)
    with MotoServer(root / "moto.log") as moto, Microburst(
            moto.endpoint, seed=0, log_file=root / "microburst.log",
            warm_up=("sts", "lambda", "logs", "s3", "resourcegroupstaggingapi", "iam")) as proxy:
        os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint
        if scenario == "init-rm":
            (root / "script.sh").write_text("echo hi\n")
            fdl = write_fdl(root, FIVE)

            def build() -> Any:
                return InitRm(_scar_here, moto.endpoint, fdl)

            def one_seed(state: Any, faults: Faults) -> None:
                init_and_rm_under_faults(_scar_here, moto.endpoint, fdl, faults, state)
        else:
            files = tree(root / "files")

            def build() -> Any:
                return boto3.client("s3", endpoint_url=moto.endpoint, region_name=REGION).create_bucket(
                    Bucket="load-files")

            def one_seed(state: Any, faults: Faults) -> None:  # each seed its own folder of the bucket
                put_and_get_under_faults(_scar_here, moto.endpoint, root / "files", files,
                                         root / f"dest-{faults.seed}", f"seed-{faults.seed}/", faults)
        state: Any = None
        for seed in seeds:
            if stop.is_set():
                return
            try:
                if state is None:  # the first seed, or the one after a failed seed: from an emptied moto
                    moto.reset()
                    create_role(moto.endpoint)
                    state = build()
                current, state = state, None
                faults = Faults(proxy, seed)
                one_seed(current, faults)
                state = current
                results.put((seed, faults.fired, ""))
            except Exception:  # noqa: BLE001 - reported as this seed's failure; the next seed starts afresh
                results.put((seed, 0, traceback.format_exc()))


class Background:
    """A scenario's seeds, one after the other in a process of their own while other scenarios' seeds run:
    `init` and `rm` mostly wait (botocore backs off after each fault), put/get and the launch mostly compute.
    A process (spawned), not a thread: this process's environment changes with every test. `outcome(seed)`
    waits for a seed's report and fails as it failed, so each seed is still a test."""

    def __init__(self, scenario: str, seeds: list[int], folder: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self._results, self._stop = context.Queue(), context.Event()
        self._process = context.Process(target=run_seeds, name=f"{scenario} seeds", daemon=True,
                                        args=(scenario, seeds, str(folder), self._results, self._stop))
        self._process.start()
        self._reported: dict[int, tuple[int, str]] = {}

    def outcome(self, seed: int, timeout: float = 900) -> int:
        """The faults that fired on `seed`, once it passed."""
        deadline = time.monotonic() + timeout
        while seed not in self._reported:
            try:
                done, fired, failure = self._results.get(timeout=1)
                self._reported[done] = fired, failure
            except queue.Empty:
                if not self._process.is_alive() or time.monotonic() > deadline:
                    pytest.fail(f"the {self._process.name} process did not report seed {seed} "
                                f"(exit code {self._process.exitcode})", pytrace=False)
        fired, failure = self._reported[seed]
        if failure:
            pytest.fail(f"seed {seed}:\n{failure}", pytrace=False)
        return fired

    def close(self) -> None:
        self._stop.set()  # the seed under way finishes (its servers stop with the process)
        self._process.join(timeout=120)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


IN_BACKGROUND = {"init-rm": "test_init_and_rm_of_five_functions", "put-get": "test_put_and_get_of_500_files"}


@pytest.fixture(scope="module", autouse=True)
def background(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               microburst: Microburst) -> Iterator[dict[str, Background]]:
    """Starts the selected seeds of init/rm and of put/get, each scenario in its own process, with the module's
    first test (their tests come after the launch's, which run meanwhile)."""
    started = {}
    for scenario, test in IN_BACKGROUND.items():
        if selected := [item.callspec.params["seed"] for item in request.session.items
                        if item.module is request.module and item.originalname == test]:
            started[scenario] = Background(scenario, selected, tmp_path_factory.mktemp(scenario))
    yield started
    for scenario in started.values():
        scenario.close()


LAUNCH = """
functions:
  aws:
  - lambda:
      name: load-launch
      container: {image: busybox}
      input: [{storage_provider: s3, path: launch-bucket/in}]
"""


def _launch_stage(scar, endpoint: str, fdl: Path) -> list[str]:
    """The function deployed and its EVENTS input objects (put on moto directly): their keys."""
    assert scar("init", "-f", fdl).code == 0
    keys = [f"in/event-{n:04d}" for n in range(EVENTS)]
    put_objects(endpoint, keys)
    return keys


@pytest.mark.parametrize("seed", seeds("launch"))
def test_a_launch_of_2000_events(scar, through, stage, moto_server, tmp_path, monkeypatch, seed):
    fdl = write_fdl(tmp_path, LAUNCH)
    keys = stage.enter("launch", lambda: _launch_stage(scar, moto_server.endpoint, fdl))
    recorder = EchoRecorder(monkeypatch)
    print(f"microburst seed {seed}")
    faults = Faults(through, seed)
    faults.on()
    result = scar("-j", "run", "-f", fdl, "-y", "--concurrency", "16")
    faults.off()
    faults.check()
    document = json.loads(result.stdout)
    failed = {entry["Key"] for entry in document["Failed"]}
    if result.code != 0:
        one_clear_error(result.stderr)
        assert failed and document["Sent"] == EVENTS - len(failed), result.stderr
    else:
        assert (document["Events"], document["Sent"], failed) == (EVENTS, EVENTS, set())
    received = recorder.keys()
    assert len(received) == len(set(received)), "an event was delivered twice"
    assert set(received) == set(keys) - failed
    stage.clean()


@pytest.mark.parametrize("seed", seeds("put-get"))
def test_put_and_get_of_500_files(background: dict[str, Background], seed: int) -> None:
    """Run in the put/get process (Background, put_and_get_under_faults); this reports the seed's outcome."""
    print(f"microburst seed {seed}")
    assert background["put-get"].outcome(seed) > 0


@pytest.mark.parametrize("seed", seeds("init-rm"))
def test_init_and_rm_of_five_functions(background: dict[str, Background], seed: int) -> None:
    """Run in the init/rm process (Background, init_and_rm_under_faults); this reports the seed's outcome."""
    print(f"microburst seed {seed}")
    assert background["init-rm"].outcome(seed) > 0


@pytest.fixture
def faulty(microburst: Microburst, deploy_env: str, stage: Stage,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Microburst]:
    """For the tests below, on a moto of their own (reset): scar goes through microburst, without faults
    until the test sets rules; the test's own clients go to moto."""
    stage.forget()
    microburst.set_rules([])
    monkeypatch.setenv("AWS_ENDPOINT_URL", microburst.endpoint)
    yield microburst
    microburst.set_rules([])


def _scar_process(*argv: str) -> subprocess.Popen[str]:
    """`python -m scar ARGV` with this test's environment (AWS_ENDPOINT_URL is microburst)."""
    return subprocess.Popen([sys.executable, "-m", "scar", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ))


def _outcome(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=180)
    return process.returncode, stdout, stderr


def test_the_endpoint_killed_in_the_middle_of_init(scar, faulty, moto_server, tmp_path):
    """microburst (the only way to the emulator) dies while `init` creates five functions: scar fails with a
    message naming what it could not undo; once the endpoint is back, `init` converges on exactly the
    fault-free deployment and `rm` leaves exactly what a fault-free `rm` leaves."""
    (tmp_path / "script.sh").write_text("echo hi\n")
    fdl = write_fdl(tmp_path, FIVE)
    deployed, removed = reference_states(scar, moto_server.endpoint, fdl)
    lam = boto3.client("lambda", endpoint_url=moto_server.endpoint, region_name=REGION)
    faulty.set_rules([{"latency": 60}])
    process = _scar_process("init", "-f", str(fdl))
    deadline = time.monotonic() + 60
    while not lam.list_functions()["Functions"] and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    faulty.stop()
    try:
        _, stderr = process.communicate(timeout=180)
    finally:
        faulty.start()
    assert process.returncode == 1, stderr
    one_clear_error(stderr)
    assert 0 < len(lam.list_functions()["Functions"]), "killed after the first function was created"
    again = scar("init", "-f", fdl)
    assert again.code == 0, again.stderr
    assert differences(comparable(snapshot(moto_server.endpoint)), deployed) == []
    assert scar("rm", "-f", fdl, "-y").code == 0
    assert differences(comparable(snapshot(moto_server.endpoint)), removed) == []


ONE = """
functions:
  aws:
  - lambda:
      name: raced
      init_script: script.sh
      container: {image: busybox}
      input: [{storage_provider: s3, path: raced-in/in}]
"""


def test_two_inits_of_the_same_function_at_once(scar, faulty, moto_server, tmp_path):
    """Both start together behind 40 ms of latency: each either deploys or fails with one clear message, and
    the emulator ends with exactly one deployment (no second function, log group or layer version)."""
    (tmp_path / "script.sh").write_text("echo hi\n")
    fdl = write_fdl(tmp_path, ONE)
    deployed, removed = reference_states(scar, moto_server.endpoint, fdl)
    faulty.set_rules([{"latency": 40}])
    processes = [_scar_process("init", "-f", str(fdl)) for _ in range(2)]
    outcomes = [_outcome(process) for process in processes]
    faulty.set_rules([])
    assert 0 in [code for code, _, _ in outcomes], outcomes
    for code, _, stderr in outcomes:
        if code != 0:
            one_clear_error(stderr)
    assert differences(comparable(snapshot(moto_server.endpoint)), deployed) == [], outcomes
    assert scar("rm", "-f", fdl, "-y").code == 0
    assert differences(comparable(snapshot(moto_server.endpoint)), removed) == []
