"""Faults under load: moto behind microburst, which throttles (429 TooManyRequestsException, SlowDown,
ThrottlingException) or fails with a 5xx about one call in ten. `init` of five functions, `rm`, `put` and
`get` of 500 files and a launch of 2,000 events must each either succeed with every resource, object and
event exactly once, or fail with a clear message and nothing half-created (checked on the emulator).

microburst draws its faults from its own unseeded random generator, so each "seed" below is one more
independent run with a different fault pattern (the count of fired faults is checked, so a run without faults
cannot pass for one with them). Every run has one seed of each at full size; the `load` marker adds 4 more
of each (CI runs them too: `make test` selects every marker), put/get with 50 files and the launch with 200
events: the whole suite must stay under 15 minutes on 2 cores, and 20 seeds of each took four minutes alone.
`LOAD_SEEDS=20 make test` runs the issue's twenty. Also here: the endpoint
killed in the middle of `init` (the next `init` converges, `rm` cleans everything) and two `init` of the same
function at once.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from devtools.microburst import Microburst, MicroburstUnavailable, find_microburst
from tests.integration.conftest import write_fdl
from tests.integration.test_launcher import EchoRecorder, put_objects
from tests.integration.test_rollback import snapshot

REGION = "us-east-1"
FAST_SEEDS = 1  # per scenario, at the full size, in every run
# in all per scenario with the `load` marker; the extra seeds of put/get and launch are smaller
LOAD_SEEDS = int(os.environ.get("LOAD_SEEDS", "5"))
FILES, LOAD_FILES = 500, 50  # put/get: the first seed's files, the other seeds'
EVENTS, LOAD_EVENTS = 2000, 200  # launch: the same for events
THROTTLED_AS = {"s3": ("SlowDown", 503), "lambda": ("TooManyRequestsException", 429),
                "ec2": ("RequestLimitExceeded", 503), **{service: ("ThrottlingException", 400) for service in (
                    "sts", "logs", "iam", "ssm", "resourcegroupstaggingapi", "apigateway", "batch")}}
#: each service throttles the way it does (a HEAD answer has no body: S3 throttles with SlowDown 503, never
#: with a 400), then any call may fail with a 500: about 10 % of the calls in all
FAULTS = [*({"service": service, "probability": 0.05, "error": {"code": code, "status": status,
                                                                 "message": "Rate exceeded"}}
            for service, (code, status) in THROTTLED_AS.items()),
          {"probability": 0.053, "error": {"code": "InternalError", "status": 500,
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


def seeds(scenario: str, full: int = 0, load: int = 0) -> list:
    """LOAD_SEEDS runs: the first FAST_SEEDS of size `full`, the others of size `load` with the marker."""
    return [pytest.param(seed, full if seed < FAST_SEEDS else load, id=f"{scenario}-{seed}",
                         marks=() if seed < FAST_SEEDS else pytest.mark.load) for seed in range(LOAD_SEEDS)]


@pytest.fixture(scope="module")
def microburst(moto_server) -> Iterator[Microburst]:
    try:
        executable = find_microburst()
    except MicroburstUnavailable as missing:
        pytest.skip(str(missing))
    with Microburst(moto_server.endpoint, executable=executable,
                    warm_up=("sts", "lambda", "logs", "s3", "resourcegroupstaggingapi", "iam")) as proxy:
        yield proxy


@pytest.fixture
def faulty(microburst: Microburst, deploy_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Microburst]:
    """scar goes through microburst (no faults until a test arms them); the test's own clients go to moto."""
    microburst.set_rules([])
    microburst.clear_fired()
    monkeypatch.setenv("AWS_ENDPOINT_URL", microburst.endpoint)
    yield microburst
    microburst.set_rules([])


def fired(proxy: Microburst) -> int:
    return len(proxy.fired())


def one_clear_error(stderr: str) -> None:
    errors = [line for line in stderr.splitlines() if line.startswith("scar: error: ")]
    assert errors and "Traceback" not in stderr, stderr


_REFERENCES: dict[str, tuple[dict, dict]] = {}


def reference_states(scar, moto_server, fdl: Path) -> tuple[dict, dict]:
    """The emulator after a fault-free `init`, and after the `rm` that follows (what `rm` keeps by design);
    measured once per FDL (moto starts empty in every test, so they hold for every seed)."""
    if fdl.read_text() not in _REFERENCES:
        assert scar("init", "-f", fdl).code == 0
        deployed = comparable(snapshot(moto_server.endpoint))
        assert scar("rm", "-f", fdl, "-y").code == 0
        _REFERENCES[fdl.read_text()] = deployed, comparable(snapshot(moto_server.endpoint))
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


@pytest.mark.parametrize(("seed", "size"), seeds("init-rm"))
def test_init_and_rm_of_five_functions(scar, faulty, moto_server, tmp_path, seed, size):
    (tmp_path / "script.sh").write_text("echo hi\n")
    fdl = write_fdl(tmp_path, FIVE)
    deployed, removed = reference_states(scar, moto_server, fdl)
    before = snapshot(moto_server.endpoint)
    faulty.set_rules(FAULTS)
    result = scar("init", "-f", fdl)
    if result.code == 0:
        assert differences(comparable(snapshot(moto_server.endpoint)), deployed) == []
    else:
        one_clear_error(result.stderr)
        assert "left behind" not in result.stderr
        assert differences(snapshot(moto_server.endpoint), before) == [], result.stderr
        faulty.set_rules([])
        assert scar("init", "-f", fdl).code == 0
        faulty.set_rules(FAULTS)
    gone = scar("rm", "-f", fdl, "-y")
    assert fired(faulty) > 0
    faulty.set_rules([])
    if gone.code != 0:
        one_clear_error(gone.stderr)
        assert scar("rm", "-f", fdl, "-y").code == 0, "a second rm finishes the job"
    assert differences(comparable(snapshot(moto_server.endpoint)), removed) == []


def _tree(root: Path, count: int) -> dict[str, bytes]:
    """`count` small files over 10 folders, each with its own content."""
    files = {f"d{n % 10}/file-{n:04d}.txt": f"content of {n}\n".encode() * (1 + n % 7) for n in range(count)}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def _bucket(endpoint: str, bucket: str, prefix: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    found: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def _failed_names(result) -> set[str]:
    """The files a transfer names as failed, from its -j document."""
    return {entry["Name"] for entry in json.loads(result.stdout).get("Failed", [])}


@pytest.mark.parametrize(("seed", "count"), seeds("put-get", FILES, LOAD_FILES))
def test_put_and_get_of_500_files(scar, faulty, moto_server, tmp_path, seed, count):
    source, dest = tmp_path / "src", tmp_path / "dest"
    files = _tree(source, count)
    boto3.client("s3", endpoint_url=moto_server.endpoint, region_name=REGION).create_bucket(Bucket="load-files")
    faulty.set_rules(FAULTS)
    put = scar("-j", "put", "-b", "load-files/run", "-p", source)
    stored = _bucket(moto_server.endpoint, "load-files", "run/")
    failed = _failed_names(put)
    if put.code != 0:
        one_clear_error(put.stderr)
        assert failed, put.stdout
    assert stored == {f"run/{name}": data for name, data in files.items() if str(source / name) not in failed}

    get = scar("-j", "get", "-b", "load-files/run", "-p", dest)
    assert fired(faulty) > 0
    got = {str(path.relative_to(dest)): path.read_bytes() for path in dest.rglob("*") if path.is_file()}
    missing = _failed_names(get)
    if get.code != 0:
        one_clear_error(get.stderr)
        assert missing, get.stdout
    assert {name for name in got} == {key.removeprefix("run/") for key in stored} - {
        name for name in got if name in missing}
    assert all(got[name] == stored[f"run/{name}"] for name in got)  # no partial file is left


LAUNCH = """
functions:
  aws:
  - lambda:
      name: load-launch
      container: {image: busybox}
      input: [{storage_provider: s3, path: launch-bucket/in}]
"""


@pytest.mark.parametrize(("seed", "count"), seeds("launch", EVENTS, LOAD_EVENTS))
def test_a_launch_of_2000_events(scar, faulty, moto_server, tmp_path, monkeypatch, seed, count):
    fdl = write_fdl(tmp_path, LAUNCH)
    faulty.set_rules([])
    assert scar("init", "-f", fdl).code == 0
    keys = [f"in/event-{n:04d}" for n in range(count)]
    put_objects(moto_server.endpoint, keys)
    recorder = EchoRecorder(monkeypatch)
    faulty.set_rules(FAULTS)
    result = scar("-j", "run", "-f", fdl, "-y", "--concurrency", "16")
    assert fired(faulty) > 0
    document = json.loads(result.stdout)
    failed = {entry["Key"] for entry in document["Failed"]}
    if result.code != 0:
        one_clear_error(result.stderr)
        assert failed and document["Sent"] == count - len(failed), result.stderr
    else:
        assert (document["Events"], document["Sent"], failed) == (count, count, set())
    received = recorder.keys()
    assert len(received) == len(set(received)), "an event was delivered twice"
    assert set(received) == set(keys) - failed


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
    deployed, removed = reference_states(scar, moto_server, fdl)
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
    deployed, removed = reference_states(scar, moto_server, fdl)
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
