"""Every benchmark in one go (`make bench`): one table of measure, scar, baseline, ratio, target and result,
printed and written as JSON.

Each benchmark runs as its own process, one after the other (they would disturb each other's timings), with
BENCH_RESULTS naming a file it appends its measures to; its own report goes to stderr as it runs. A benchmark
that cannot run (a missing tool) gets an ERROR row and the others still run. Exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import Measure, load  # noqa: E402

#: (name, script, arguments): the default sizes of each benchmark; lifecycle is judged in process only
BENCHMARKS: list[tuple[str, str, list[str]]] = [
    ("transfer", "transfer.py", []),
    ("transfer behind 25 ms", "transfer_latency.py", []),
    ("lifecycle", "lifecycle.py", ["--mode", "inprocess"]),
    ("fan-out", "fanout.py", []),
    ("local run", "local_run.py", []),
    ("images", "images.py", []),
    ("log", "log_memory.py", []),
]


def table(measures: list[Measure]) -> str:
    headers = ("measure", "scar", "baseline", "ratio", "target", "result")
    rows = [(m.measure, m.scar, m.baseline, "-" if m.ratio is None else f"{m.ratio:.2f}", m.target,
             "PASS" if m.passed else "FAIL" if m.passed is False else "-") for m in measures]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.rjust(w) if i == 3 else cell.ljust(w)
                         for i, (cell, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *(line(row) for row in rows)])


def run(name: str, script: str, arguments: list[str], results: Path) -> list[Measure]:
    print(f"== {name}: bench/{script} {' '.join(arguments)}", file=sys.stderr, flush=True)
    started = time.monotonic()
    process = subprocess.run([sys.executable, str(REPO / "bench" / script), *arguments], stdout=sys.stderr,
                             env={**os.environ, "BENCH_RESULTS": str(results)}, check=False)
    measures = load(str(results))
    print(f"== {name}: {time.monotonic() - started:.0f} s, exit {process.returncode}", file=sys.stderr, flush=True)
    if process.returncode != 0 or not measures:
        return [Measure(name, "ERROR", f"bench/{script} exited {process.returncode} (see its output above)",
                        None, "-", None)]
    return measures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results.json", metavar="PATH",
                        help="where to write the table as JSON (default bench/results.json)")
    parser.add_argument("--only", action="append", choices=[name for name, _, _ in BENCHMARKS],
                        help="run only this benchmark (repeatable)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    measures: list[Measure] = []
    selected = [bench for bench in BENCHMARKS if not args.only or bench[0] in args.only]
    with tempfile.TemporaryDirectory(prefix="scar-bench-all-") as folder:
        for index, (name, script, arguments) in enumerate(selected):
            measures += run(name, script, arguments, Path(folder) / f"{index}.jsonl")
    text = table(measures)
    print(text)
    load_average = os.getloadavg()[0]
    print(f"\n{len(selected)} benchmark(s) in {time.monotonic() - started:.0f} s; load average {load_average:.1f} on "
          f"{os.cpu_count()} CPUs")
    args.json.write_text(json.dumps({"measures": [asdict(m) for m in measures], "load_average": load_average,
                                     "cpus": os.cpu_count()}, indent=2) + "\n")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
