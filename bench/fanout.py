#!/usr/bin/env python3
"""Event fan-out throughput of `scar run` on a function with an S3 input (the event launcher), against
(a) a sequential boto3 loop and (b) the ceiling: a plain threaded invoke loop with the same pool.

    make bench-fanout            # or: MICROBURST=... .venv/bin/python bench/fanout.py [--events 2000]

A bare moto answers in ~2 ms and runs out of CPU near 500 requests/s, which hides client concurrency, so
every timed request goes through microburst adding 250 ms of latency (after one warm-up request per
service): 64 workers at 250 ms stay well under what moto can serve. Targets: scar >= 30x the sequential
throughput and >= 80% of the ceiling. It prints a table and exits 0 (a report, not a test).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import textwrap
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from bench.results import Measure, record  # noqa: E402
from devtools.emulators import MotoServer  # noqa: E402
from devtools.microburst import Microburst  # noqa: E402
from scar.aws.s3_events import s3_event  # noqa: E402
from scar.cli.main import main as scar_main  # noqa: E402

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/bench-role"
BUCKET, FOLDER, FUNCTION = "fanout-bench", "in", "fanout-fn"
SEQUENTIAL_TARGET, CEILING_TARGET = 30.0, 0.9  # issue 14


def client(service: str, endpoint: str, pool: int = 10):
    config = Config(max_pool_connections=pool, retries={"mode": "standard", "max_attempts": 1})
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="bench",
                        aws_secret_access_key="bench", config=config)


def prepare(moto: str, events: int) -> None:
    """The role, the function and the objects, made directly on moto (not timed, no latency)."""
    client("iam", moto).create_role(RoleName="bench-role", AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("main.py", "def handler(event, context):\n    return event\n")
    client("lambda", moto).create_function(FunctionName=FUNCTION, Runtime="python3.13", Role=ROLE,
                                           Handler="main.handler", Code={"ZipFile": code.getvalue()},
                                           Tags={"createdby": "scar", "owner": "moto"})
    s3 = client("s3", moto, pool=16)
    s3.create_bucket(Bucket=BUCKET)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket=BUCKET, Key=f"{FOLDER}/obj-{i:05d}", Body=b"x"),
                      range(events)))


def payload(index: int) -> bytes:
    return json.dumps(s3_event(BUCKET, f"{FOLDER}/obj-{index:05d}", 1, REGION)).encode()


def sequential(proxy: str, count: int) -> float:
    lam = client("lambda", proxy)
    started = time.perf_counter()
    for index in range(count):
        lam.invoke(FunctionName=FUNCTION, InvocationType="Event", Payload=payload(index))
    return count / (time.perf_counter() - started)


def ceiling(proxy: str, count: int, workers: int) -> float:
    lam = client("lambda", proxy, pool=workers)
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda i: lam.invoke(FunctionName=FUNCTION, InvocationType="Event", Payload=payload(i)),
                      range(count)))
    return count / (time.perf_counter() - started)


def scar_launcher(proxy: str, moto: str, events: int, workers: int, work: Path) -> tuple[float, dict]:
    """`scar run -f FDL -y` in this process, timed through `proxy`, after an untimed warm-up run of two events
    straight to moto: scar's modules are imported and botocore's service models loaded before the timing,
    as boto3's are for the loops (the start-up is what `scar --help` measures)."""
    fdl = work / "fanout.yaml"
    fdl.write_text(textwrap.dedent(f"""
        functions:
          aws:
          - lambda:
              name: {FUNCTION}
              container: {{image: busybox}}
              input: [{{storage_provider: s3, path: {BUCKET}/{FOLDER}}}]
        """))
    argv = ["run", "-f", str(fdl), "-y", "-j", "--no-progress", "--concurrency", str(workers)]
    _scar_run(moto, work, [*argv, "--limit", "2"])
    started = time.perf_counter()
    code, document = _scar_run(proxy, work, argv)
    seconds = time.perf_counter() - started
    if code != 0 or document.get("Sent") != events:
        raise SystemExit(f"scar run failed (exit {code}): {document}")
    return events / seconds, document


def _scar_run(endpoint: str, work: Path, argv: list[str]) -> tuple[int, dict]:
    os.environ.update(HOME=str(work), AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench",
                      AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION)
    output = work / "result.json"
    with open(output, "w") as stdout:
        saved, sys.stdout = sys.stdout, stdout
        try:
            code = scar_main(argv)
        finally:
            sys.stdout = saved
    return code, json.loads(output.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000, help="objects, so events (default 2000)")
    parser.add_argument("--sequential", type=int, default=100, help="events of the sequential loop (100)")
    parser.add_argument("--workers", type=int, default=64, help="pool of scar and of the ceiling (64)")
    parser.add_argument("--latency", type=int, default=250, help="ms added to every request (250)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scar-bench-fanout-") as scratch, MotoServer() as moto:
        work = Path(scratch)
        print(f"preparing {args.events} objects and the function on moto ...", file=sys.stderr)
        prepare(moto.endpoint, args.events)
        with Microburst(moto.endpoint, [], warm_up=("lambda", "s3", "sts")) as proxy:
            proxy.set_rules([{"latency": args.latency}])
            print("timing ...", file=sys.stderr)
            rate_sequential = sequential(proxy.endpoint, args.sequential)
            rate_ceiling = ceiling(proxy.endpoint, args.events, args.workers)
            rate_scar, document = scar_launcher(proxy.endpoint, moto.endpoint, args.events, args.workers, work)
    versus_sequential = rate_scar / rate_sequential
    versus_ceiling = rate_scar / rate_ceiling
    print(f"{args.latency} ms added per request; {args.workers} workers; {args.events} events")
    print(f"{'loop':<46}{'events/s':>10}")
    print(f"{'sequential boto3 (' + str(args.sequential) + ' events)':<46}{rate_sequential:>10.1f}")
    print(f"{'ceiling: threaded invoke loop':<46}{rate_ceiling:>10.1f}")
    print(f"{'scar run (event launcher)':<46}{rate_scar:>10.1f}")
    print(f"\nscar / sequential: {versus_sequential:.1f}x (target >= {SEQUENTIAL_TARGET:.0f}x): "
          f"{'PASS' if versus_sequential >= SEQUENTIAL_TARGET else 'FAIL'}")
    print(f"scar / ceiling: {versus_ceiling:.0%} (target >= {CEILING_TARGET:.0%}): "
          f"{'PASS' if versus_ceiling >= CEILING_TARGET else 'FAIL'}")
    record(Measure(f"fan-out, {args.events} events at {args.latency} ms", f"{rate_scar:.1f} events/s",
                   f"sequential boto3 {rate_sequential:.1f} events/s", versus_sequential,
                   f">= {SEQUENTIAL_TARGET:.0f}x", versus_sequential >= SEQUENTIAL_TARGET))
    record(Measure("fan-out against the threaded ceiling", f"{rate_scar:.1f} events/s",
                   f"threaded invoke loop {rate_ceiling:.1f} events/s", versus_ceiling,
                   f">= {CEILING_TARGET:.0%}", versus_ceiling >= CEILING_TARGET))
    print(f"(throttled and retried: {document['ThrottledRetries']}, failed: {len(document['Failed'])}; scar's time "
          "includes listing the folder and the first, synchronous, event)")


if __name__ == "__main__":
    main()
