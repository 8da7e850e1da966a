#!/usr/bin/env python3
"""Benchmark `scar put`/`scar get` against the AWS CLI on a local moto server, and `scar --help` start-up.

Run on demand (`make bench`), not a test: it prints a table with PASS/FAIL against the targets and exits 0
whatever the numbers are; it exits 2 only when it cannot run (no AWS CLI, moto server does not start).

scar runs with this interpreter (`python -m scar`, from this working tree); the AWS CLI is taken from
--aws-cli, else $AWS_CLI, else `aws` on PATH. It must live outside scar's venv (awscli pins botocore),
which is why `make bench` installs it into .venv-bench. See bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import Measure, record  # noqa: E402
from devtools.emulators import MotoServer, client_environment  # noqa: E402

KIB = 1024
MIB = 1024 * KIB
REGION = "us-east-1"
TRANSFER_TARGET = 1.0  # scar time / AWS CLI time, at most
HELP_TARGET = 1.3  # `scar --help` time / `python -c 'import argparse'` time, at most (issue 14)
CASES = ("help", "put-tree", "get-tree", "put-big", "get-big")


class BenchError(Exception):
    """The benchmark cannot go on (a command failed or did not do what it should)."""


# --------------------------------------------------------------------------------------------- results


class Timing(NamedTuple):
    wall: float  # seconds, what the targets are about
    cpu: float  # user + system seconds of the command itself: its own work, whatever the server and machine do


@dataclass
class Row:
    """One line of the report: scar against a reference command over several runs each."""

    name: str
    reference: str
    target: float
    stat: str  # "paired" (transfers: the median of the ratios of runs made back to back) or "median" (--help)
    scar: list[Timing] = field(default_factory=list)
    other: list[Timing] = field(default_factory=list)
    error: str = ""

    def value(self, samples: list[Timing]) -> float | None:
        if not samples:
            return None
        return statistics.median(sample.wall for sample in samples)

    @property
    def pairs(self) -> list[tuple[Timing, Timing]]:
        """(scar, reference) runs made back to back; an unfinished pair (a failed run) is left out."""
        return list(zip(self.scar, self.other, strict=False))

    @property
    def ratio(self) -> float | None:
        """scar/reference. For transfers, the median of each pair's ratio: the two runs of a pair follow each
        other, so a change of load on the shared machine between pairs moves both."""
        scar, other = self.value(self.scar), self.value(self.other)
        if self.error or scar is None or other is None:
            return None
        if self.stat == "paired":
            return statistics.median(s.wall / o.wall for s, o in self.pairs)
        return scar / other

    @property
    def verdict(self) -> str:
        if self.ratio is None:
            return "ERROR"
        return "PASS" if self.ratio <= self.target else "FAIL"


def report(rows: list[Row]) -> str:
    headers = ("measurement", "of runs", "scar (s)", "reference", "ref (s)", "scar/ref", "target", "result")
    lines = [
        (row.name, f"median of {max(len(row.scar), len(row.other))}", seconds(row.value(row.scar)),
         row.reference, seconds(row.value(row.other)), "-" if row.ratio is None else f"{row.ratio:.2f}",
         f"<= {row.target:.1f}", row.verdict)
        for row in rows
    ]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *lines, strict=True)]
    numeric = {2, 4, 5}

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.rjust(width) if i in numeric else cell.ljust(width)
                         for i, (cell, width) in enumerate(zip(cells, widths, strict=True))).rstrip()

    out = [fmt(headers), "  ".join("-" * width for width in widths), *(fmt(line) for line in lines), "",
           "runs, wall clock (cpu of the command) in seconds:"]
    for row in rows:
        detail = row.error or f"scar {_samples(row.scar)} | {row.reference}: {_samples(row.other)}"
        if row.stat == "paired" and not row.error:
            pairs = row.pairs
            detail += f" | scar faster in {sum(s.wall < o.wall for s, o in pairs)} of {len(pairs)} pairs"
        out.append(f"  {row.name}: {detail}")
    return "\n".join(out)


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _samples(samples: list[Timing]) -> str:
    return " ".join(f"{s.wall:.3f} ({s.cpu:.2f})" for s in samples)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------- tools


@dataclass
class Tools:
    """How to run scar and the AWS CLI against the moto server: same credentials, same endpoint."""

    aws_cli: str
    env: dict[str, str]

    @property
    def scar_env(self) -> dict[str, str]:
        # scar from this working tree, whether or not it is installed in the interpreter's venv
        path = os.pathsep.join(p for p in (str(REPO), self.env.get("PYTHONPATH", "")) if p)
        return {**self.env, "PYTHONPATH": path}

    def scar(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "scar", "--no-progress", *args]

    def aws(self, *args: str) -> list[str]:
        return [self.aws_cli, *args]

    def aws_cp(self, *args: str) -> list[str]:
        return [self.aws_cli, "s3", "cp", *args, "--only-show-errors", "--no-progress"]


def find_aws_cli(option: str | None) -> str:
    given = option or os.environ.get("AWS_CLI")
    path = shutil.which(given or "aws")
    if path is None:
        where = "--aws-cli" if option else "AWS_CLI" if given else "PATH"
        raise BenchError(
            f"the AWS CLI was not found ({where}: {given or 'aws'!r}). Run `make bench`, which installs it into "
            ".venv-bench, or install awscli in a venv of its own (not scar's: it pins botocore) and pass "
            "--aws-cli PATH or set AWS_CLI=PATH")
    return path


def bench_env(endpoint: str, home: Path) -> dict[str, str]:
    """The shared emulator environment (devtools.emulators.client_environment) for one run."""
    return client_environment(endpoint, home, REGION)


def run(cmd: list[str], env: dict[str, str]) -> Timing:
    """Run `cmd` and time it. A failure stops the measurement with the end of its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()[-10:]
        raise BenchError(f"`{' '.join(cmd)}` exited with {done.returncode}:\n    " + "\n    ".join(output))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(elapsed, cpu)


# ------------------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class Dataset:
    tree: Path  # many small files, in ten subfolders
    big: Path | None  # one large file (None: the small files only)
    count: int
    tree_bytes: int
    big_bytes: int
    big_sha256: str


def make_data(root: Path, files: int, file_kib: int, big_mib: int | None) -> Dataset:
    tree = root / "tree"
    for i in range(files):
        path = tree / f"d{i % 10}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(file_kib * KIB))
    if big_mib is None:
        return Dataset(tree, None, files, files * file_kib * KIB, 0, "")
    big = root / "big" / "big.bin"
    big.parent.mkdir(parents=True)
    digest = hashlib.sha256()
    with open(big, "wb") as out:
        left = big_mib * MIB
        while left:
            block = os.urandom(min(left, 8 * MIB))
            digest.update(block)
            out.write(block)
            left -= len(block)
    return Dataset(tree, big, files, files * file_kib * KIB, big_mib * MIB, digest.hexdigest())


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest()


def local_summary(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


# ----------------------------------------------------------------------------------------- the benchmark


class TransferBench:
    """put and get of the data set by scar and by the AWS CLI; each measurement times one command only.

    `direct` is the emulator's own endpoint when the tools go through a proxy (bench/transfer_latency.py): the
    untimed seeding and checks then skip the proxy. `suffix` ends every row's name."""

    def __init__(self, tools: Tools, data: Dataset, work: Path, repeat: int, *, big_repeat: int | None = None,
                 direct: str | None = None, suffix: str = "", target: float = TRANSFER_TARGET) -> None:
        import boto3  # scar's own dependency: used here only to seed and check buckets, never timed

        self.tools = tools
        self.data = data
        self.work = work
        self.repeat = repeat
        self.big_repeat = big_repeat or repeat
        self.suffix = suffix
        self.target = target
        self.direct_env = {**tools.env, "AWS_ENDPOINT_URL": direct or tools.env["AWS_ENDPOINT_URL"]}
        self.s3 = boto3.client("s3", region_name=REGION, endpoint_url=self.direct_env["AWS_ENDPOINT_URL"],
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        run_id = uuid.uuid4().hex[:8]
        self.put_bucket = f"bench-put-{run_id}"
        self.get_bucket = f"bench-get-{run_id}"

    def setup(self) -> None:
        """Fresh buckets for this run, the get source seeded with the AWS CLI, one warm-up call of each tool."""
        for bucket in (self.put_bucket, self.get_bucket):
            self.s3.create_bucket(Bucket=bucket)
        run(self.tools.aws_cp("--recursive", str(self.data.tree), f"s3://{self.get_bucket}/tree/"), self.direct_env)
        if self.data.big is not None:
            run(self.tools.aws_cp(str(self.data.big), f"s3://{self.get_bucket}/big/{self.data.big.name}"),
                self.direct_env)
        # the OS file cache, .pyc files and scar's first-run configuration file stay out of the timings
        run(self.tools.scar("ls", "-b", f"{self.get_bucket}/tree/d0"), self.tools.scar_env)
        run(self.tools.aws("s3", "ls", f"s3://{self.get_bucket}/tree/d0/"), self.tools.env)

    def measure(self, selected: set[str]) -> list[Row]:
        tree = f"{self.data.count} x {self.data.tree_bytes // self.data.count // KIB} KiB"
        big = f"1 x {self.data.big_bytes // MIB} MiB"
        cases: dict[str, tuple[str, str, Callable[[str, int], Timing], int]] = {
            "put-tree": (f"put {tree}", "aws s3 cp --recursive", self.put_tree, self.repeat),
            "get-tree": (f"get {tree}", "aws s3 cp --recursive", self.get_tree, self.repeat),
            "put-big": (f"put {big}", "aws s3 cp", self.put_big, self.big_repeat),
            "get-big": (f"get {big}", "aws s3 cp", self.get_big, self.big_repeat),
        }
        rows = []
        for case, (name, reference, measure, pairs) in cases.items():
            if case not in selected:
                continue
            row = Row(name + self.suffix, reference, self.target, "paired")
            rows.append(row)
            try:
                for rep in range(pairs):
                    # alternate which tool goes first, so that neither always meets a warmer (or busier) server
                    for tool in ("scar", "aws") if rep % 2 == 0 else ("aws", "scar"):
                        timing = measure(tool, rep)
                        (row.scar if tool == "scar" else row.other).append(timing)
                        log(f"{row.name:<20} {tool:<4} run {rep + 1}/{pairs}: {timing.wall:7.3f} s "
                            f"(cpu {timing.cpu:.2f} s)")
            except BenchError as err:
                row.error = str(err)
                log(f"{row.name}: {err}")
        return rows

    def put_tree(self, tool: str, rep: int) -> Timing:
        prefix = f"{tool}-tree-{rep}"
        timing = self._run(tool, scar=("put", "-b", f"{self.put_bucket}/{prefix}", "-p", str(self.data.tree)),
                           aws=("--recursive", str(self.data.tree), f"s3://{self.put_bucket}/{prefix}/"))
        self._check_and_delete(prefix, self.data.count, self.data.tree_bytes)
        return timing

    def put_big(self, tool: str, rep: int) -> Timing:
        prefix = f"{tool}-big-{rep}"
        big = self._big()
        timing = self._run(tool, scar=("put", "-b", f"{self.put_bucket}/{prefix}", "-p", str(big)),
                           aws=(str(big), f"s3://{self.put_bucket}/{prefix}/{big.name}"))
        self._check_and_delete(prefix, 1, self.data.big_bytes)
        return timing

    def get_tree(self, tool: str, rep: int) -> Timing:
        dest = self.work / "get" / f"{tool}-tree-{rep}"
        try:
            timing = self._run(tool, scar=("get", "-b", f"{self.get_bucket}/tree", "-p", str(dest)),
                               aws=("--recursive", f"s3://{self.get_bucket}/tree/", str(dest)))
            found = local_summary(dest)
            if found != (self.data.count, self.data.tree_bytes):
                raise BenchError(f"{tool} downloaded {found[0]} files, {found[1]} bytes; expected "
                                 f"{self.data.count} files, {self.data.tree_bytes} bytes")
            return timing
        finally:
            shutil.rmtree(dest, ignore_errors=True)

    def get_big(self, tool: str, rep: int) -> Timing:
        dest = self.work / "get" / f"{tool}-big-{rep}"
        name = self._big().name
        source = f"{self.get_bucket}/big/{name}"
        try:
            timing = self._run(tool, scar=("get", "-b", source, "-p", str(dest)),
                               aws=(f"s3://{source}", str(dest / name)))
            target = dest / name
            if not target.is_file() or sha256(target) != self.data.big_sha256:
                raise BenchError(f"{tool} did not download {target} intact")
            return timing
        finally:
            shutil.rmtree(dest, ignore_errors=True)

    def _big(self) -> Path:
        if self.data.big is None:
            raise BenchError("this data set has no large file")
        return self.data.big

    def _run(self, tool: str, scar: tuple[str, ...], aws: tuple[str, ...]) -> Timing:
        """`scar ARGS...` or `aws s3 cp ARGS...`, timed."""
        if tool == "scar":
            return run(self.tools.scar(*scar), self.tools.scar_env)
        return run(self.tools.aws_cp(*aws), self.tools.env)

    def _check_and_delete(self, prefix: str, count: int, size: int) -> None:
        """The upload is all there (object count and total size); then it goes, so the bucket stays small."""
        keys = []
        total = 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.put_bucket, Prefix=prefix + "/"):
            for item in page.get("Contents", ()):
                keys.append(item["Key"])
                total += item["Size"]
        for start in range(0, len(keys), 1000):
            self.s3.delete_objects(Bucket=self.put_bucket,
                                   Delete={"Objects": [{"Key": key} for key in keys[start:start + 1000]]})
        if (len(keys), total) != (count, size):
            raise BenchError(f"{prefix}: {len(keys)} objects, {total} bytes uploaded; expected {count}, {size}")


def measure_help(tools: Tools, repeat: int) -> Row:
    row = Row("scar --help", "python -c 'import argparse'", HELP_TARGET, "median")
    installed = Path(sys.executable).with_name("scar")  # the console script, as a user runs it (pip puts it there)
    scar = [str(installed), "--help"] if installed.is_file() else [sys.executable, "-m", "scar", "--help"]
    baseline = [sys.executable, "-c", "import argparse"]
    try:
        run(scar, tools.scar_env)  # warm-up (and scar's .pyc files)
        for _ in range(repeat):
            row.scar.append(run(scar, tools.scar_env))
            row.other.append(run(baseline, tools.scar_env))
    except BenchError as err:
        row.error = str(err)
    log(f"{row.name}: {_samples(row.scar)}; baseline: {_samples(row.other)}")
    return row


# ------------------------------------------------------------------------------------------------- main


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--aws-cli", metavar="PATH", help="the AWS CLI to compare with (default: $AWS_CLI, else aws)")
    parser.add_argument("--repeat", type=positive, default=6, metavar="N",
                        help="run pairs per transfer of the small files (default 6; an even count: each tool goes "
                             "first in half)")
    parser.add_argument("--big-repeat", type=positive, default=16, metavar="N",
                        help="run pairs per transfer of the large file (default 16: see bench/README.md)")
    parser.add_argument("--help-repeat", type=positive, default=10, metavar="N", help="runs of --help (default 10)")
    parser.add_argument("--files", type=positive, default=1000, metavar="N", help="small files (default 1000)")
    parser.add_argument("--file-kib", type=positive, default=64, metavar="KIB", help="small file size (default 64)")
    parser.add_argument("--big-mib", type=positive, default=200, metavar="MIB", help="large file size (default 200)")
    parser.add_argument("--only", action="append", choices=CASES, help="run only this measurement (repeatable)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    selected = set(args.only or CASES)
    started = time.monotonic()
    try:
        aws_cli = find_aws_cli(args.aws_cli)
        version = subprocess.run([aws_cli, "--version"], capture_output=True, text=True, check=False)
        log(f"scar: {sys.executable} -m scar ({REPO})")
        log(f"AWS CLI: {aws_cli} ({(version.stdout or version.stderr).strip()})")
        with tempfile.TemporaryDirectory(prefix="scar-bench-") as tmp:
            work = Path(tmp)
            (work / "home").mkdir()
            with MotoServer(log_file=work / "moto.log") as server:
                log(f"moto server on {server.endpoint}")
                tools = Tools(aws_cli, bench_env(server.endpoint, work / "home"))
                rows = [measure_help(tools, args.help_repeat)] if "help" in selected else []
                if selected - {"help"}:
                    log(f"writing {args.files} x {args.file_kib} KiB and 1 x {args.big_mib} MiB of random data "
                        f"to {work}")
                    data = make_data(work / "data", args.files, args.file_kib, args.big_mib)
                    bench = TransferBench(tools, data, work, args.repeat, big_repeat=args.big_repeat)
                    bench.setup()
                    rows += bench.measure(selected)
    except (BenchError, RuntimeError) as err:  # RuntimeError: the moto server did not start
        print(f"bench: error: {err}", file=sys.stderr)
        return 2
    print(report(rows))
    for row in rows:
        scar, other = row.value(row.scar), row.value(row.other)
        record(Measure(row.name, seconds(scar) + " s", f"{row.reference} {seconds(other)} s", row.ratio,
                       f"<= {row.target:.1f}x", None if row.ratio is None else row.ratio <= row.target))
    print(f"\ntargets: scar/aws-cli <= {TRANSFER_TARGET:.1f} for transfers, scar/python <= {HELP_TARGET:.1f} for "
          f"--help; wall clock per command, start-up included; total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
