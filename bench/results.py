"""One benchmark's judged figures as records, so `bench/all.py` can show every benchmark in one table.

A benchmark run alone prints its own report and records nothing; run by `bench/all.py` (which sets
BENCH_RESULTS to a file) it also appends one JSON line per measure to that file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Measure:
    measure: str
    scar: str  # the figure with its unit, as the table shows it
    baseline: str  # what scar is compared with, and its figure
    ratio: float | None  # the figure the target judges (None: not measured)
    target: str  # for example "<= 1.3x" or ">= 90%"
    passed: bool | None  # None: could not be judged (the benchmark failed, or the measure is for information)


def record(measure: Measure) -> None:
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(measure)) + "\n")


def load(path: str) -> list[Measure]:
    try:
        with open(path, encoding="utf-8") as source:
            return [Measure(**json.loads(line)) for line in source if line.strip()]
    except FileNotFoundError:
        return []
