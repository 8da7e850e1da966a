#!/usr/bin/env python3
"""Benchmark `scar put`/`scar get` of 1,000 small files against the AWS CLI behind 25 ms per request.

Closer to real S3 than bare moto: every request waits 25 ms in microburst (devtools/microburst.py, the
set-up bench/lifecycle.py uses), so how many requests are in flight decides, as it does over a real network.
The emulator behind microburst is ministack (judged: its S3 costs ~0.5 ms of CPU per request, so the latency
dominates) and moto (for information: ~3 ms of CPU per request on one core, so 1,000 requests take at least
~3 s whatever the client, which hides concurrency). Both tools run with their defaults. Prints a report with
PASS/FAIL (target: scar ≤ 0.5× the AWS CLI's time) and exits 0 whatever the numbers; 2 when it cannot run.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import Measure, record  # noqa: E402
from bench.transfer import (  # noqa: E402
    BenchError,
    Row,
    Tools,
    TransferBench,
    bench_env,
    find_aws_cli,
    log,
    make_data,
    positive,
    report,
    seconds,
)
from devtools.emulators import LocalServer, Ministack, MotoServer  # noqa: E402

TARGET = 0.5  # scar time / AWS CLI time, at most (issue 14)
EMULATORS = ("ministack", "moto")  # the first is judged, the second is for information
MINISTACK = Path(os.environ.get("SCAR_TEST_MINISTACK", REPO / ".venv-ministack" / "bin" / "ministack"))


def emulator(name: str, work: Path) -> LocalServer:
    if name == "moto":
        return MotoServer(log_file=work / "moto.log")
    if not MINISTACK.exists():
        raise BenchError(f"ministack is not installed at {MINISTACK} (`make install` puts it in .venv-ministack)")
    return Ministack(MINISTACK, work / "ministack", log_file=work / "ministack.log")


def measure(name: str, args: argparse.Namespace, aws_cli: str, work: Path) -> list[Row]:
    from devtools.microburst import Microburst

    data = make_data(work / "data", args.files, args.file_kib, None)
    with ExitStack() as stack:
        server = stack.enter_context(emulator(name, work))
        proxy = stack.enter_context(Microburst(server.endpoint, [{"latency": args.latency}], warm_up=("s3",),
                                               executable=args.microburst, log_file=work / f"microburst-{name}.log"))
        log(f"{name} on {server.endpoint}, microburst on {proxy.endpoint} adding {args.latency:g} ms per request")
        (work / f"home-{name}").mkdir()
        tools = Tools(aws_cli, bench_env(proxy.endpoint, work / f"home-{name}"))
        judged = name == EMULATORS[0]
        bench = TransferBench(tools, data, work, args.repeat, direct=server.endpoint, target=TARGET,
                              suffix=f" behind {args.latency:g} ms ({name}{'' if judged else ', info'})")
        bench.setup()
        rows = bench.measure({"put-tree", "get-tree"})
        upstream = proxy.stats().get("upstream_latency_ms", {})
        log(f"{name}'s own time per request as microburst saw it: p50 {upstream.get('p50', '?')} ms, "
            f"p95 {upstream.get('p95', '?')} ms")
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--aws-cli", metavar="PATH", help="the AWS CLI to compare with (default: $AWS_CLI, else aws)")
    parser.add_argument("--microburst", metavar="PATH", help="microburst executable (default: $MICROBURST, else "
                        ".venv-microburst/bin/microburst)")
    parser.add_argument("--latency", type=float, default=25, metavar="MS", help="added to every request (default 25)")
    parser.add_argument("--repeat", type=positive, default=4, metavar="N",
                        help="run pairs per transfer (default 4; an even count: each tool goes first in half)")
    parser.add_argument("--files", type=positive, default=1000, metavar="N", help="small files (default 1000)")
    parser.add_argument("--file-kib", type=positive, default=64, metavar="KIB", help="their size (default 64)")
    parser.add_argument("--emulator", action="append", choices=EMULATORS,
                        help="behind microburst (repeatable; default both: ministack judged, moto for information)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from devtools.microburst import MicroburstUnavailable

    args = parse_args(argv)
    started = time.monotonic()
    rows: list[Row] = []
    try:
        aws_cli = find_aws_cli(args.aws_cli)
        version = subprocess.run([aws_cli, "--version"], capture_output=True, text=True, check=False)
        log(f"AWS CLI: {aws_cli} ({(version.stdout or version.stderr).strip()}); scar: {sys.executable} -m scar")
        for name in [e for e in EMULATORS if e in (args.emulator or EMULATORS)]:
            with tempfile.TemporaryDirectory(prefix=f"scar-bench-latency-{name}-") as tmp:
                rows += measure(name, args, aws_cli, Path(tmp))
    except (BenchError, MicroburstUnavailable, RuntimeError) as err:  # RuntimeError: a server did not start
        print(f"bench: error: {err}", file=sys.stderr)
        return 2
    print(report(rows))
    for row in rows:
        judged = "info" not in row.name
        scar, other = row.value(row.scar), row.value(row.other)
        record(Measure(row.name, seconds(scar) + " s", f"{row.reference} {seconds(other)} s", row.ratio,
                       f"<= {TARGET:.1f}x" if judged else "(info)",
                       None if row.ratio is None or not judged else row.ratio <= TARGET))
    print(f"\ntarget: scar/aws-cli <= {TARGET:.1f} behind {args.latency:g} ms per request ({EMULATORS[0]}); both tools "
          f"with their defaults; wall clock per command, start-up included; total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
