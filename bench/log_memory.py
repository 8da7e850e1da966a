#!/usr/bin/env python3
"""Benchmark `scar log` over 100,000 CloudWatch Logs events: memory must stay flat, the output complete.

It loads a function's log group on its own moto server (put_log_events in batches of 10,000, in several
streams), then runs `python -m scar log -n FUNCTION` as a subprocess, its output to a file, and reads that
process's own peak RSS (os.wait4). Once over 10,000 events, once over 100,000. Rule: the peak RSS over
100,000 events is at most 1.2 times the peak over 10,000 (events are streamed page by page, so ten times the
events must not mean more memory), and the output has exactly one line per event. The same with `-j` (one
JSON document of every event) is measured too. Exits 0 whatever the figures; 2 when it cannot run.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import Measure, record  # noqa: E402
from devtools.emulators import MotoServer, client_environment  # noqa: E402

REGION = "us-east-1"
FUNCTION = "bench-log"
GROUP = f"/aws/lambda/{FUNCTION}"
BATCH = 10_000  # events per put_log_events (CloudWatch's limit)
STREAMS = 10
TARGET = 1.2  # peak RSS over the large group / over the small one, at most


@dataclass(frozen=True)
class Run:
    events: int  # in the group
    lines: int  # printed (text), or events in the document (-j)
    peak_mib: float
    seconds: float


def load_events(logs: object, count: int, already: int) -> None:
    """Grow the group to `count` events: STREAMS streams, each put in batches of BATCH, in time order."""
    start = int(time.time() * 1000) - 3_600_000  # an hour ago: CloudWatch refuses events far in the past
    for n in range(already, count, BATCH):
        stream = f"stream-{(n // BATCH) % STREAMS}"
        size = min(BATCH, count - n)
        events = [{"timestamp": start + (n + i) // 10, "message": f"event {n + i:06d} of the benchmark {'x' * 40}"}
                  for i in range(size)]
        logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)  # type: ignore[attr-defined]


def scar_log(env: dict[str, str], out: Path, *flags: str) -> tuple[float, float]:
    """`scar [flags] log -n FUNCTION` with stdout to `out`: (peak RSS in MiB, seconds) of that process."""
    started = time.perf_counter()
    with open(out, "wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "scar", *flags, "log", "-n", FUNCTION], env=env,
                                   stdout=sink, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"scar log exited {process.returncode}: {stderr.strip()[-500:]}")
    return usage.ru_maxrss / 1024, seconds  # ru_maxrss is in KiB on Linux


def count_output(out: Path, json_mode: bool) -> int:
    if json_mode:
        return len(json.loads(out.read_text())["Events"])
    with open(out, "rb") as source:
        return sum(1 for _ in source)


def measure(env: dict[str, str], work: Path, events: int, json_mode: bool) -> Run:
    out = work / f"log-{events}{'-json' if json_mode else ''}.out"
    peak, seconds = scar_log(env, out, *(("-j",) if json_mode else ()))
    run = Run(events, count_output(out, json_mode), peak, seconds)
    out.unlink()
    print(f"bench: {'-j ' if json_mode else ''}log over {events} events: peak RSS {peak:.1f} MiB, "
          f"{run.lines} {'events in the document' if json_mode else 'lines'}, {seconds:.1f} s",
          file=sys.stderr, flush=True)
    return run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10_000, metavar="N", help="events of the first run (10,000)")
    parser.add_argument("--large", type=int, default=100_000, metavar="N", help="events of the second (100,000)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import boto3

    args = parse_args(argv)
    started = time.monotonic()
    results: dict[bool, tuple[Run, Run]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="scar-bench-log-") as tmp, \
                MotoServer(log_file=Path(tmp) / "moto.log") as moto:
            work = Path(tmp)
            (work / "home").mkdir()
            env = {**client_environment(moto.endpoint, work / "home", REGION),
                   "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
            logs = boto3.client("logs", endpoint_url=moto.endpoint, region_name=REGION,
                                aws_access_key_id="testing", aws_secret_access_key="testing")
            logs.create_log_group(logGroupName=GROUP)
            for n in range(STREAMS):
                logs.create_log_stream(logGroupName=GROUP, logStreamName=f"stream-{n}")
            load_events(logs, args.small, 0)
            scar_log(env, work / "warm-up.out")  # scar's .pyc files and first-run configuration file
            small = {mode: measure(env, work, args.small, mode) for mode in (False, True)}
            print(f"bench: loading {args.large} events", file=sys.stderr, flush=True)
            load_events(logs, args.large, args.small)
            large = {mode: measure(env, work, args.large, mode) for mode in (False, True)}
            results = {mode: (small[mode], large[mode]) for mode in (False, True)}
    except RuntimeError as err:  # the moto server did not start, or scar log failed
        print(f"bench: error: {err}", file=sys.stderr)
        return 2
    print(f"{'measurement':<28}  {'events':>7}  {'lines':>7}  {'peak RSS':>9}  {'seconds':>7}")
    for mode, pair in results.items():
        for run in pair:
            print(f"{('scar -j log' if mode else 'scar log'):<28}  {run.events:>7}  {run.lines:>7}  "
                  f"{run.peak_mib:>5.1f} MiB  {run.seconds:>7.1f}")
    for mode, (small_run, large_run) in results.items():
        ratio = large_run.peak_mib / small_run.peak_mib
        complete = small_run.lines == small_run.events and large_run.lines == large_run.events
        passed = complete and ratio <= TARGET
        name = f"{'-j ' if mode else ''}log over {large_run.events:,} events"
        print(f"{name}: peak RSS {large_run.peak_mib:.1f} MiB against {small_run.peak_mib:.1f} MiB over "
              f"{small_run.events:,} = {ratio:.2f}x (at most {TARGET}x), output "
              f"{'complete' if complete else 'INCOMPLETE'}"
              f": {'PASS' if passed else 'FAIL'}")
        record(Measure(name, f"{large_run.peak_mib:.1f} MiB peak, {large_run.lines:,} lines"
                       if not mode else f"{large_run.peak_mib:.1f} MiB peak, {large_run.lines:,} events",
                       f"{small_run.events:,} events {small_run.peak_mib:.1f} MiB", ratio,
                       f"<= {TARGET}x RSS, complete", passed))
    print(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
