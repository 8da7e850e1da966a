#!/usr/bin/env python3
"""Benchmark `scar ls` and `scar init` + `scar rm` against the same AWS calls made one by one.

Run on demand (`make bench-lifecycle`), not a test: it prints a table with PASS/FAIL against the targets and
exits 0 whatever the numbers are; it exits 2 only when it cannot run (no microburst, an emulator does not start).

It starts its own moto server and, in front of it, microburst adding a fixed latency to every request (25 ms
by default, about one real AWS round trip). All timed traffic, scar's and the baseline's, goes through
microburst via AWS_ENDPOINT_URL; the untimed set-up and checks talk to moto directly. microburst lives in a
virtualenv of its own: --microburst, else $MICROBURST, else .venv-microburst/bin/microburst (see
devtools/microburst.py and bench/README.md).

Modes: `inprocess` runs `scar.cli.main.main([...])` and the baseline function in this interpreter, each with a
fresh boto3 session and clients per run (client creation is timed for both, imports are not). `subprocess`
runs `python -m scar ...` and this file's baseline as separate processes, so both pay interpreter start-up
and imports, as a user typing the command does; the targets are judged in process only.

The baselines make the very calls scar makes, one at a time, so the ratio measures scar's concurrency: for ls,
GetCallerIdentity, the tagging GetResources pages and GetFunctionConfiguration per function; for init and rm, a
replay of a recorded in-process `scar init` / `scar rm` (same operations and parameters, in scar's order).
Every run's calls are counted on microburst and the report shows whether both sides made the same ones.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import Measure, record  # noqa: E402
from devtools.emulators import client_environment  # noqa: E402

REGION = "us-east-1"
LS_TARGET = 6.0  # sequential time / scar time, at least (issue 14)
INIT_RM_TARGET = 5.0
LAYER_NAME = "faas-supervisor"  # scar's default supervisor layer
MODES = ("inprocess", "subprocess")


class BenchError(Exception):
    """The benchmark cannot go on (a command failed or did not do what it should)."""


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ sequential baselines
# These only need boto3: in subprocess mode this file runs as its own process with `--baseline KIND`.


def _clients(*services: str) -> list[Any]:
    """Fresh clients (new session), configured like scar's: standard retries, endpoint from the environment."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(region_name=os.environ.get("AWS_DEFAULT_REGION", REGION))
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    return [session.client(service, config=config) for service in services]


def _absent(call: Callable[..., Any], **kwargs: Any) -> Any:
    """The answer, or None for ResourceNotFoundException (scar reads absent resources the same way) and for
    ResourceAlreadyExistsException: a create botocore retries (it did once, on a machine at load average 5)
    finds what its first attempt made; the replay goes on."""
    from botocore.exceptions import ClientError

    try:
        return call(**kwargs)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("ResourceNotFoundException", "ResourceAlreadyExistsException"):
            return None
        raise


def baseline_ls() -> int:
    """What `scar ls` asks, one call at a time: who am I, the tagged functions, each one's configuration."""
    sts, tagging, lam = _clients("sts", "resourcegroupstaggingapi", "lambda")
    owner = sts.get_caller_identity()["Arn"].rsplit("/", 1)[-1]
    filters = [{"Key": "createdby", "Values": ["scar"]}, {"Key": "owner", "Values": [owner]}]
    arns = [item["ResourceARN"]
            for page in tagging.get_paginator("get_resources").paginate(
                TagFilters=filters, ResourceTypeFilters=["lambda:function"])
            for item in page.get("ResourceTagMappingList", ())]
    described = [_absent(lam.get_function_configuration, FunctionName=arn.split(":function:", 1)[1])
                 for arn in arns]
    return len([c for c in described if c is not None])


Call = tuple[str, str, dict[str, Any]]  # service, operation, parameters


def replay(calls: list[Call]) -> None:
    """scar's recorded calls (one `scar init` or `scar rm`), one at a time, in the order scar started them.

    The same operations with the same parameters (zips, tags, configuration; the waiter's polls are its
    GetFunction calls), except for the supervisor layer version, which is the one this replay published (init)
    or finds (rm). ResourceNotFoundException is an answer, as it is for scar (reads of what does not exist yet).
    """
    from botocore import xform_name

    clients: dict[str, Any] = {}
    published: dict[str, str] = {}  # layer name -> ARN of the version published here
    newest: dict[str, int] = {}  # layer name -> newest version listed here
    for service, operation, recorded in calls:
        if service not in clients:
            clients[service] = _clients(service)[0]
        params = copy.deepcopy(recorded)
        if "Layers" in params:
            params["Layers"] = [published.get(_layer_name(arn), arn) for arn in params["Layers"]]
        if operation == "DeleteLayerVersion" and params["LayerName"] in newest:
            params["VersionNumber"] = newest[params["LayerName"]]
        answer = _absent(getattr(clients[service], xform_name(operation)), **params)
        if operation == "PublishLayerVersion":
            published[params["LayerName"]] = answer["LayerVersionArn"]
        elif operation == "ListLayerVersions" and answer and answer.get("LayerVersions"):
            newest[params["LayerName"]] = max(v["Version"] for v in answer["LayerVersions"])


def _layer_name(arn: str) -> str:
    """`arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION` -> NAME."""
    parts = arn.split(":")
    return parts[6] if len(parts) == 8 and parts[5] == "layer" else arn


def run_baseline(kind: str, payloads: Path | None) -> None:
    """`--baseline KIND`: one baseline run in this process (subprocess mode)."""
    if kind == "ls":
        baseline_ls()
        return
    assert payloads is not None, "--payloads is required"
    replay(pickle.loads(payloads.read_bytes())[kind])


# ----------------------------------------------------------------------------------------------- results


@dataclass
class Row:
    """One line of the report: scar against the sequential baseline, medians of several runs."""

    name: str
    mode: str
    target: float
    scar: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    calls: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)  # side -> command -> operation counts
    error: str = ""

    @property
    def speedup(self) -> float | None:
        if self.error or not self.scar or not self.baseline:
            return None
        return statistics.median(self.baseline) / statistics.median(self.scar)

    @property
    def verdict(self) -> str:
        """PASS/FAIL in process; a subprocess row is for information (both sides' start-up dilutes the ratio)."""
        if self.speedup is None:
            return "ERROR"
        if self.mode != "inprocess":
            return "(info)"
        return "PASS" if self.speedup >= self.target else "FAIL"


def report(rows: list[Row]) -> str:
    headers = ("measurement", "mode", "runs", "scar (s)", "sequential (s)", "speed-up", "target", "result")
    lines = [(row.name, row.mode, str(max(len(row.scar), len(row.baseline))), _median(row.scar),
              _median(row.baseline), "-" if row.speedup is None else f"{row.speedup:.2f}x", f">= {row.target:.1f}x",
              row.verdict) for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *lines, strict=True)]
    numeric = {2, 3, 4, 5}

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.rjust(width) if i in numeric else cell.ljust(width)
                         for i, (cell, width) in enumerate(zip(cells, widths, strict=True))).rstrip()

    out = [fmt(headers), "  ".join("-" * width for width in widths), *(fmt(line) for line in lines), "", "runs (s):"]
    for row in rows:
        detail = row.error or f"scar {_samples(row.scar)} | sequential {_samples(row.baseline)}"
        out.append(f"  {row.name} ({row.mode}): {detail}")
    return "\n".join(out)


def _median(samples: list[float]) -> str:
    return f"{statistics.median(samples):.3f}" if samples else "-"


def _samples(samples: list[float]) -> str:
    return " ".join(f"{s:.3f}" for s in samples)


# -------------------------------------------------------------------------------------------- the runner


def bench_env(endpoint: str, work: Path) -> dict[str, str]:
    """The shared emulator environment, pointed at microburst, with scar importable from this tree."""
    env = client_environment(endpoint, work / "home", REGION)
    env["XDG_CACHE_HOME"] = str(work / "cache")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class Recording:
    """What scar's in-process clients did: each call's operation and parameters, and when it was in flight."""

    calls: list[Call] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)  # perf_counter start, end of every call

    def profile(self, start: float, end: float) -> str:
        """How long 0, 1 and 2+ calls were in flight during [start, end]: time with one call in flight is
        spent waiting on the network one round trip after another; time with none is client-side work."""
        edges = sorted([(s, 1) for s, _ in self.spans] + [(e, -1) for _, e in self.spans])
        spent = Counter[int]()
        level, peak, last = 0, 0, start
        for moment, step in edges:
            spent[min(level, 2)] += moment - last
            level += step
            peak = max(peak, level)
            last = moment
        spent[0] += end - last
        return (f"{end - start:.3f} s, {len(self.spans)} calls: no call in flight {spent[0]:.3f} s, one call "
                f"{spent[1]:.3f} s, 2+ calls {spent[2]:.3f} s (at most {peak} at once)")


@contextlib.contextmanager
def recording() -> Iterator[Recording]:
    """Records the calls scar's in-process clients make while inside."""
    from scar.aws.session import AwsSession

    recorded = Recording()
    original = AwsSession.client

    def parameters(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        recorded.calls.append((model.service_model.service_name, model.name, copy.deepcopy(params)))

    def sent(context: dict[str, Any], **kwargs: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def answered(context: dict[str, Any], **kwargs: Any) -> None:
        recorded.spans.append((context.get("bench_started", time.perf_counter()), time.perf_counter()))

    def client(session: AwsSession, service: str) -> Any:
        built = original(session, service)
        if not getattr(built, "_bench_recorded", False):
            built.meta.events.register("before-parameter-build", parameters)
            built.meta.events.register("before-call", sent)
            built.meta.events.register("after-call", answered)
            built.meta.events.register("after-call-error", answered)
            built._bench_recorded = True
        return built

    AwsSession.client = client  # type: ignore[method-assign]
    try:
        yield recorded
    finally:
        AwsSession.client = original  # type: ignore[method-assign]


class Runner:
    """Runs scar and the baselines in one mode; every run is timed and its AWS calls counted on microburst."""

    def __init__(self, mode: str, proxy: Any, env: dict[str, str], payloads: Path) -> None:
        self.mode = mode
        self.proxy = proxy
        self.env = env
        self.payloads = payloads
        self.last_calls: Counter[str] = Counter()

    def scar(self, *argv: str) -> float:
        def call() -> None:
            if self.mode == "subprocess":
                _run([sys.executable, "-m", "scar", "--no-progress", *argv], self.env)
                return
            from scar.cli.main import main

            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["--no-progress", *argv])
            if code != 0:
                said = (err.getvalue() or out.getvalue())[-800:]
                raise BenchError(f"scar {' '.join(argv)} exited with {code}: {said}")

        return self._timed(call)

    def baseline(self, kind: str, recorded: dict[str, list[Call]] | None = None) -> float:
        def call() -> None:
            if self.mode == "subprocess":
                _run([sys.executable, str(Path(__file__).resolve()), "--baseline", kind, "--payloads",
                      str(self.payloads)], self.env)
            elif kind == "ls":
                baseline_ls()
            else:
                assert recorded is not None
                replay(recorded[kind])

        return self._timed(call)

    def _timed(self, call: Callable[[], None]) -> float:
        before = self.proxy.operation_counts()
        started = time.perf_counter()
        call()
        elapsed = time.perf_counter() - started
        after = self.proxy.operation_counts()
        self.last_calls = Counter({op: n for (_, op), n in (after - before).items()})
        return elapsed


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-10:]
        raise BenchError(f"`{' '.join(cmd)}` exited with {done.returncode}:\n    " + "\n    ".join(tail))


def call_summary(rows: list[Row]) -> list[str]:
    """Per command, the calls of one run: one line when scar and the baseline made the same ones in every mode,
    else a table per mode."""
    by_command: dict[str, dict[tuple[str, str], Counter[str]]] = {}
    for row in rows:
        for side, commands in row.calls.items():
            for command, calls in commands.items():
                by_command.setdefault(command, {})[(row.mode, side)] = calls
    lines = []
    for command, runs in by_command.items():
        first = next(iter(runs.values()))
        if all(calls == first for calls in runs.values()):
            listing = ", ".join(f"{op} {n}" for op, n in sorted(first.items()))
            lines += textwrap.wrap(f"{command}: {sum(first.values())} calls, the same on both sides: {listing}",
                                   118, initial_indent="  ", subsequent_indent="      ")
            continue
        for mode in dict.fromkeys(mode for mode, _ in runs):
            scar, baseline = runs.get((mode, "scar"), Counter()), runs.get((mode, "baseline"), Counter())
            lines.append(f"  {command} ({mode}): {sum(scar.values())} calls by scar, {sum(baseline.values())} by "
                         "the sequential baseline" + ("" if scar == baseline else "  ** NOT THE SAME SET **"))
            for op in sorted(set(scar) | set(baseline)):
                mark = "" if scar[op] == baseline[op] else "  <- differs"
                lines.append(f"      {op:<28} scar {scar[op]:>3}  sequential {baseline[op]:>3}{mark}")
    return lines


Side = Callable[[Runner], tuple[float, dict[str, Counter[str]]]]  # one timed run: seconds, calls by command


class LifecycleBench:
    """The measurements, in one moto server behind one microburst."""

    def __init__(self, args: argparse.Namespace, work: Path, moto: Any, proxy: Any) -> None:
        import boto3

        self.args = args
        self.work = work
        self.moto = moto
        self.proxy = proxy
        self.env = bench_env(proxy.endpoint, work)
        self.direct = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                            region_name=REGION)
        self.payloads = work / "payloads.pickle"
        self.runners = {mode: Runner(mode, proxy, self.env, self.payloads) for mode in args.modes}
        self.notes: list[str] = []
        self.profiles: list[str] = []
        from tests.integration.lifecycle_support import make_engine, write_scar_cfg

        write_scar_cfg(work / "home", make_engine(work / "englib.tar.gz"))  # the role, and no engine download

    def client(self, service: str) -> Any:
        """A client straight to moto (untimed set-up and checks; never through microburst)."""
        return self.direct.client(service, endpoint_url=self.moto.endpoint)

    def prepare_account(self) -> None:
        from tests.integration.lifecycle_support import create_role

        self.moto.reset()
        create_role(self.moto.endpoint)

    # -- ls ------------------------------------------------------------------------------------------

    def measure_ls(self) -> list[Row]:
        from scar.aws.identity import Identity
        from tests.integration.lifecycle_support import ROLE

        self.prepare_account()
        identity = self.client("sts").get_caller_identity()
        owner = Identity(identity["Account"], identity["Arn"]).owner
        count = self.args.ls_functions
        log(f"creating {count} scar-tagged functions directly on moto (owner {owner})")
        lam = self.client("lambda")
        code = _tiny_zip()
        for index in range(count):
            lam.create_function(FunctionName=f"bench-ls-{index:03d}", Runtime="python3.13", Role=ROLE,
                                Handler="main.handler", Code={"ZipFile": code},
                                Tags={"createdby": "scar", "owner": owner, "scar:image": "busybox"})
        Runner("inprocess", self.proxy, self.env, self.payloads).scar("ls")  # warm-up: imports
        self.profiled("ls")

        def scar(runner: Runner) -> tuple[float, dict[str, Counter[str]]]:
            return runner.scar("ls"), {"ls": runner.last_calls}

        def baseline(runner: Runner) -> tuple[float, dict[str, Counter[str]]]:
            return runner.baseline("ls"), {"ls": runner.last_calls}

        return [self.alternate(Row(f"ls, {count} functions", mode, LS_TARGET), runner, scar, baseline)
                for mode, runner in self.runners.items()]

    def alternate(self, row: Row, runner: Runner, scar: Side, baseline: Side) -> Row:
        """Time both sides `--repeat` times, alternating which goes first (neither always meets a warmer or
        busier server); the calls of each run must be those of the first."""
        try:
            for rep in range(self.args.repeat):
                for name, side in (("scar", scar), ("baseline", baseline))[::1 if rep % 2 == 0 else -1]:
                    seconds, calls = side(runner)
                    first = row.calls.setdefault(name, calls)
                    if calls != first:
                        self.notes.append(f"{row.name} ({row.mode}): {name} run {rep + 1} made other calls than run 1")
                    (row.scar if name == "scar" else row.baseline).append(seconds)
                    log(f"{row.name} ({row.mode}) {name:<8} run {rep + 1}/{self.args.repeat}: {seconds:6.3f} s, "
                        f"{sum(sum(c.values()) for c in calls.values())} calls")
        except BenchError as err:
            row.error = str(err)
            log(f"{row.name} ({row.mode}): {err}")
        return row

    # -- init + rm -------------------------------------------------------------------------------------

    def measure_init_rm(self) -> list[Row]:
        self.prepare_account()
        count = self.args.init_functions
        names = [f"bench-fn-{index:02d}" for index in range(count)]
        fdl = self.work / "fdl.yaml"
        fdl.write_text("functions:\n  aws:\n" + "".join(
            f"  - lambda: {{name: {name}, container: {{image: busybox}}}}\n" for name in names))
        recorded = self.record_init(fdl, names)
        self.payloads.write_bytes(pickle.dumps(recorded))

        def scar(runner: Runner) -> tuple[float, dict[str, Counter[str]]]:
            init = runner.scar("init", "-f", str(fdl))
            init_calls = runner.last_calls
            self.check_deployed(names)
            rm = runner.scar("rm", "-f", str(fdl))
            self.check_removed()
            return init + rm, {"init": init_calls, "rm": runner.last_calls}

        def baseline(runner: Runner) -> tuple[float, dict[str, Counter[str]]]:
            init = runner.baseline("init", recorded)
            init_calls = runner.last_calls
            self.check_deployed(names)
            rm = runner.baseline("rm", recorded)
            self.check_removed()
            return init + rm, {"init": init_calls, "rm": runner.last_calls}

        return [self.alternate(Row(f"init + rm, {count} functions", mode, INIT_RM_TARGET), runner, scar, baseline)
                for mode, runner in self.runners.items()]

    def record_init(self, fdl: Path, names: list[str]) -> dict[str, list[Call]]:
        """A warm-up `scar init` + `rm` in this process, then one recorded: the calls the baseline replays, and
        how long each command waited on one call at a time."""
        log(f"warm-up scar init + rm of {len(names)} functions, then one recorded (the baseline replays it)")
        runner = Runner("inprocess", self.proxy, self.env, self.payloads)
        runner.scar("init", "-f", str(fdl))
        runner.scar("rm", "-f", str(fdl))
        self.check_removed()
        init = self.profiled("init", "-f", str(fdl))
        self.check_deployed(names)
        rm = self.profiled("rm", "-f", str(fdl))
        self.check_removed()
        return {"init": init.calls, "rm": rm.calls}

    def profiled(self, *argv: str) -> Recording:
        """One in-process scar run, recorded; its profile goes to the report."""
        runner = Runner("inprocess", self.proxy, self.env, self.payloads)
        with recording() as recorded:
            started = time.perf_counter()
            runner.scar(*argv)
            ended = time.perf_counter()
        self.profiles.append(f"scar {argv[0]}: {recorded.profile(started, ended)}")
        return recorded

    def check_deployed(self, names: list[str]) -> None:
        found = sorted(f["FunctionName"] for f in self.client("lambda").list_functions()["Functions"])
        if found != sorted(names):
            raise BenchError(f"after init, moto has functions {found}, expected {sorted(names)}")

    def check_removed(self) -> None:
        functions = self.client("lambda").list_functions()["Functions"]
        groups = self.client("logs").describe_log_groups()["logGroups"]
        layers = self.client("lambda").list_layer_versions(LayerName=LAYER_NAME)["LayerVersions"]
        if functions or groups or layers:
            raise BenchError(f"after rm, moto still has {len(functions)} function(s), {len(groups)} log group(s), "
                             f"{len(layers)} layer version(s)")


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """`env` as this process's whole environment while inside (scar in-process reads os.environ)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _tiny_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


# -------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--microburst", metavar="PATH", help="microburst executable (default: $MICROBURST, else "
                        ".venv-microburst/bin/microburst)")
    parser.add_argument("--latency", type=float, default=25, metavar="MS", help="added to every request (default 25)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="timed runs of each side (default 3)")
    parser.add_argument("--ls-functions", type=int, default=60, metavar="N", help="functions for ls (default 60)")
    parser.add_argument("--init-functions", type=int, default=10, metavar="N", help="functions in the FDL for "
                        "init + rm (default 10)")
    parser.add_argument("--mode", action="append", choices=MODES, dest="modes",
                        help="run scar in this interpreter or as `python -m scar` (repeatable; default both)")
    parser.add_argument("--only", action="append", choices=("ls", "init-rm"), help="one measurement (repeatable)")
    parser.add_argument("--baseline", choices=("ls", "init", "rm"), help=argparse.SUPPRESS)
    parser.add_argument("--payloads", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.modes = args.modes or list(MODES)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.baseline:
        run_baseline(args.baseline, args.payloads)
        return 0
    from devtools.emulators import MotoServer
    from devtools.microburst import Microburst, MicroburstUnavailable

    started = time.monotonic()
    selected = set(args.only or ("ls", "init-rm"))
    try:
        with tempfile.TemporaryDirectory(prefix="scar-bench-lifecycle-") as tmp:
            work = Path(tmp)
            (work / "home").mkdir()
            with MotoServer(log_file=work / "moto.log") as moto, \
                    Microburst(moto.endpoint, [{"latency": args.latency}], executable=args.microburst,
                               log_file=work / "microburst.log") as proxy:
                log(f"moto on {moto.endpoint}, microburst ({proxy.executable}) on {proxy.endpoint} adding "
                    f"{args.latency:g} ms to every request; scar: {sys.executable} ({', '.join(args.modes)})")
                bench = LifecycleBench(args, work, moto, proxy)
                rows: list[Row] = []
                measurements = (("ls", f"ls, {args.ls_functions} functions", LS_TARGET, bench.measure_ls),
                                ("init-rm", f"init + rm, {args.init_functions} functions", INIT_RM_TARGET,
                                 bench.measure_init_rm))
                with _environment(bench.env):
                    for key, name, target, measure in measurements:
                        if key not in selected:
                            continue
                        try:
                            rows += measure()
                        except BenchError as err:  # in the set-up: the measurement's rows say why
                            log(f"{name}: {err}")
                            rows += [Row(name, mode, target, error=str(err)) for mode in args.modes]
                upstream = proxy.stats().get("upstream_latency_ms", {})
    except (MicroburstUnavailable, RuntimeError) as err:  # RuntimeError: an emulator did not start
        print(f"bench: error: {err}", file=sys.stderr)
        return 2
    print(report(rows))
    for row in rows:
        judged = row.mode == "inprocess" and row.speedup is not None
        record(Measure(f"{row.name} at {args.latency:g} ms ({row.mode})", _median(row.scar) + " s",
                       f"sequential calls {_median(row.baseline)} s", row.speedup, f">= {row.target:.1f}x",
                       (row.speedup >= row.target) if judged else None))
    print("\ncalls per run (counted on microburst):")
    print("\n".join([*call_summary(rows), *bench.notes]))
    print("\nwhere scar's time goes (one in-process run each, calls timed on the client):")
    print("\n".join(f"  {line}" for line in bench.profiles))
    print(f"\ntargets, in process: sequential/scar >= {LS_TARGET:.0f}x for ls, >= {INIT_RM_TARGET:.0f}x for init + rm "
          f"(medians of {args.repeat} runs); subprocess rows also count both sides' interpreter start-up and imports")
    print(f"{args.latency:g} ms added to every request; moto's own time per request as microburst saw it: p50 "
          f"{upstream.get('p50', '-')} ms, p95 {upstream.get('p95', '-')} ms; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs; total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
