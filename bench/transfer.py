#!/usr/bin/env python3
"""Benchmark `scar put`/`scar get` against the AWS CLI on a local moto server, and `scar --help` start-up time.

Run on demand (`make bench`), not a test: it prints a table with PASS/FAIL against the targets and exits 0
whatever the numbers are (it exits 2 only when it cannot run: no AWS CLI, moto server does not start, ...).

scar runs with this interpreter (`python -m scar`, from this working tree); the AWS CLI is taken from
--aws-cli, else $AWS_CLI, else `aws` on PATH. It must live outside scar's venv (awscli pins botocore), which
is why `make bench` installs it into .venv-bench. See bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KIB = 1024
MIB = 1024 * KIB
REGION = "us-east-1"
TRANSFER_TARGET = 1.0  # scar time / AWS CLI time, at most
HELP_TARGET = 2.0  # `scar --help` time / `python -c 'import argparse'` time, at most


class BenchError(Exception):
    """The benchmark cannot go on (a tool is missing, a command failed, the server did not start)."""


# --------------------------------------------------------------------------------------------- results


@dataclass
class Row:
    """One line of the report: scar against a reference command, as medians of several runs."""

    name: str
    reference: str
    target: float
    scar: list[float] = field(default_factory=list)
    other: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def ratio(self) -> float | None:
        if self.error or not self.scar or not self.other:
            return None
        return statistics.median(self.scar) / statistics.median(self.other)

    @property
    def verdict(self) -> str:
        if self.ratio is None:
            return "ERROR"
        return "PASS" if self.ratio <= self.target else "FAIL"


def report(rows: list[Row], repeat: int, help_repeat: int) -> str:
    headers = ("measurement", "scar (s)", "reference", "ref (s)", "scar/ref", "target", "result")
    lines = []
    for row in rows:
        ratio = row.ratio
        lines.append((
            row.name,
            _seconds(row.scar),
            row.reference,
            _seconds(row.other),
            "-" if ratio is None else f"{ratio:.2f}",
            f"<= {row.target:.1f}",
            row.verdict,
        ))
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *lines, strict=True)]

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) if i in (0, 2, 6) else cell.rjust(width)
                         for i, (cell, width) in enumerate(zip(cells, widths, strict=True))).rstrip()

    out = [fmt(headers), "  ".join("-" * width for width in widths)]
    out += [fmt(line) for line in lines]
    out.append("")
    out.append(f"times are medians of {repeat} runs ({help_repeat} for --help), wall clock, start-up included")
    for row in rows:
        detail = row.error or (f"scar {_samples(row.scar)} | {row.reference} {_samples(row.other)}")
        out.append(f"  {row.name}: {detail}")
    return "\n".join(out)


def _seconds(samples: list[float]) -> str:
    return f"{statistics.median(samples):.3f}" if samples else "-"


def _samples(samples: list[float]) -> str:
    return " ".join(f"{s:.3f}" for s in samples)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ moto server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server(workdir: Path, timeout: float = 60.0) -> Iterator[str]:
    """A moto server on 127.0.0.1 (this interpreter's), ready when POST /moto-api/reset answers; always stopped."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "moto.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise BenchError(f"moto server exited with code {process.returncode}:\n{_tail(log_path)}")
                try:
                    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
                    with urllib.request.urlopen(request, timeout=2) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise BenchError(f"moto server not ready on {url} after {timeout:.0f} s:\n{_tail(log_path)}")
                time.sleep(0.2)
            log(f"moto server ready on {url} (pid {process.pid})")
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ----------------------------------------------------------------------------------------------- tools


@dataclass
class Tools:
    """How to run scar and the AWS CLI against the moto server, each with its own environment."""

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
    where = "--aws-cli" if option else "AWS_CLI" if given else "PATH"
    path = shutil.which(given or "aws")
    if path is None:
        raise BenchError(
            f"the AWS CLI was not found ({where}: {given or 'aws'!r}). Run `make bench`, which installs it into "
            ".venv-bench, or install awscli in a venv of its own (not scar's: it pins botocore) and pass "
            "--aws-cli PATH or set AWS_CLI=PATH")
    return path


def bench_env(url: str, home: Path) -> dict[str, str]:
    """The machine's environment without its AWS settings, pointed at the moto server."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "SCAR_"))}
    env.update({
        "HOME": str(home),
        "SCAR_CONFIG_FOLDER": str(home / ".scar"),
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


def run(cmd: list[str], env: dict[str, str]) -> float:
    """Run `cmd`; its wall-clock time in seconds. A failure stops the measurement with its stderr."""
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()[-10:]
        raise BenchError(f"`{' '.join(cmd)}` exited with {done.returncode}:\n  " + "\n  ".join(output))
    return elapsed


# ------------------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class Dataset:
    tree: Path  # many small files, in a few subfolders
    big: Path  # one large file
    count: int
    tree_bytes: int
    big_sha256: str


def make_data(root: Path, files: int, file_kib: int, big_mib: int) -> Dataset:
    tree = root / "tree"
    for i in range(files):
        path = tree / f"d{i % 10}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(file_kib * KIB))
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
    return Dataset(tree, big, files, files * file_kib * KIB, digest.hexdigest())


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


class Bench:
    def __init__(self, tools: Tools, data: Dataset, work: Path, repeat: int) -> None:
        import boto3  # scar's own dependency: used here only to seed and check buckets, never timed

        self.tools = tools
        self.data = data
        self.work = work
        self.repeat = repeat
        self.s3 = boto3.client("s3", region_name=REGION, endpoint_url=tools.env["AWS_ENDPOINT_URL"],
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        run_id = uuid.uuid4().hex[:8]
        self.put_bucket = f"bench-put-{run_id}"
        self.get_bucket = f"bench-get-{run_id}"

    def setup(self) -> None:
        """Fresh buckets for this run; the get source seeded (untimed) with the AWS CLI; one warm-up call each."""
        for bucket in (self.put_bucket, self.get_bucket):
            self.s3.create_bucket(Bucket=bucket)
        run(self.tools.aws_cp("--recursive", str(self.data.tree), f"s3://{self.get_bucket}/tree/"),
            self.tools.env)
        run(self.tools.aws_cp(str(self.data.big), f"s3://{self.get_bucket}/big/big.bin"), self.tools.env)
        # warm-up: the OS file cache, .pyc files and scar's first-run configuration file stay out of the timings
        run(self.tools.scar("ls", "-b", f"{self.get_bucket}/big"), self.tools.scar_env)
        run(self.tools.aws("s3", "ls", f"s3://{self.get_bucket}/big/"), self.tools.env)

    def transfers(self) -> list[Row]:
        data = self.data
        tree_name = f"{data.count} x {data.tree_bytes // data.count // KIB} KiB"
        big_name = f"1 x {data.big.stat().st_size // MIB} MiB"
        cases: list[tuple[Row, Callable[[str, int], float]]] = [
            (Row(f"put {tree_name}", "aws s3 cp --recursive", TRANSFER_TARGET), self.put_tree),
            (Row(f"get {tree_name}", "aws s3 cp --recursive", TRANSFER_TARGET), self.get_tree),
            (Row(f"put {big_name}", "aws s3 cp", TRANSFER_TARGET), self.put_big),
            (Row(f"get {big_name}", "aws s3 cp", TRANSFER_TARGET), self.get_big),
        ]
        for row, measure in cases:
            try:
                for rep in range(self.repeat):
                    # alternate which tool goes first, so that neither always meets a warmer (or tired) server
                    for tool in ("scar", "aws") if rep % 2 == 0 else ("aws", "scar"):
                        seconds = measure(tool, rep)
                        (row.scar if tool == "scar" else row.other).append(seconds)
                        log(f"{row.name:<24} {tool:<4} run {rep + 1}/{self.repeat}: {seconds:.3f} s")
            except BenchError as err:
                row.error = str(err)
                log(f"{row.name}: {err}")
        return [row for row, _ in cases]

    # Each measurement times one command (nothing else), checks what it did, cleans up and returns the time.

    def put_tree(self, tool: str, rep: int) -> float:
        prefix = f"{tool}-tree-{rep}"
        if tool == "scar":
            cmd, env = self.tools.scar("put", "-b", f"{self.put_bucket}/{prefix}", "-p", str(self.data.tree)), \
                self.tools.scar_env
        else:
            cmd, env = self.tools.aws_cp("--recursive", str(self.data.tree),
                                      f"s3://{self.put_bucket}/{prefix}/"), self.tools.env
        seconds = run(cmd, env)
        self._check_uploaded(prefix, self.data.count, self.data.tree_bytes)
        return seconds

    def put_big(self, tool: str, rep: int) -> float:
        prefix = f"{tool}-big-{rep}"
        if tool == "scar":
            cmd, env = self.tools.scar("put", "-b", f"{self.put_bucket}/{prefix}", "-p", str(self.data.big)), \
                self.tools.scar_env
        else:
            cmd, env = self.tools.aws_cp(str(self.data.big),
                                      f"s3://{self.put_bucket}/{prefix}/{self.data.big.name}"), self.tools.env
        seconds = run(cmd, env)
        self._check_uploaded(prefix, 1, self.data.big.stat().st_size)
        return seconds

    def get_tree(self, tool: str, rep: int) -> float:
        dest = self.work / "get" / f"{tool}-tree-{rep}"
        if tool == "scar":
            cmd, env = self.tools.scar("get", "-b", f"{self.get_bucket}/tree", "-p", str(dest)), self.tools.scar_env
        else:
            cmd, env = self.tools.aws_cp("--recursive", f"s3://{self.get_bucket}/tree/", str(dest)), \
                self.tools.env
        try:
            seconds = run(cmd, env)
            found = local_summary(dest)
            if found != (self.data.count, self.data.tree_bytes):
                raise BenchError(f"{tool} downloaded {found[0]} files, {found[1]} bytes; expected "
                                 f"{self.data.count} files, {self.data.tree_bytes} bytes")
            return seconds
        finally:
            shutil.rmtree(dest, ignore_errors=True)

    def get_big(self, tool: str, rep: int) -> float:
        dest = self.work / "get" / f"{tool}-big-{rep}"
        target = dest / self.data.big.name
        if tool == "scar":
            cmd, env = self.tools.scar("get", "-b", f"{self.get_bucket}/big/{self.data.big.name}", "-p", str(dest)), \
                self.tools.scar_env
        else:
            cmd, env = self.tools.aws_cp(f"s3://{self.get_bucket}/big/{self.data.big.name}", str(target)), \
                self.tools.env
        try:
            seconds = run(cmd, env)
            if not target.is_file() or sha256(target) != self.data.big_sha256:
                raise BenchError(f"{tool} did not download {target} intact")
            return seconds
        finally:
            shutil.rmtree(dest, ignore_errors=True)

    def _check_uploaded(self, prefix: str, count: int, size: int) -> None:
        """The objects are all there with the right total size; then they are deleted (untimed)."""
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


def help_row(tools: Tools, repeat: int) -> Row:
    row = Row("scar --help", "python -c 'import argparse'", HELP_TARGET)
    scar = [sys.executable, "-m", "scar", "--help"]
    baseline = [sys.executable, "-c", "import argparse"]
    try:
        run(scar, tools.scar_env)  # warm-up
        for _ in range(repeat):
            row.scar.append(run(scar, tools.scar_env))
            row.other.append(run(baseline, tools.scar_env))
    except BenchError as err:
        row.error = str(err)
    log(f"{row.name}: {statistics.median(row.scar) if row.scar else float('nan'):.3f} s")
    return row


# ------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aws-cli", metavar="PATH", help="the AWS CLI to compare with (default: $AWS_CLI, else `aws`)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="runs of each transfer (default 3)")
    parser.add_argument("--help-repeat", type=int, default=10, metavar="N", help="runs of --help (default 10)")
    parser.add_argument("--files", type=int, default=1000, metavar="N", help="small files (default 1000)")
    parser.add_argument("--file-kib", type=int, default=64, metavar="KIB", help="small file size (default 64)")
    parser.add_argument("--big-mib", type=int, default=200, metavar="MIB", help="large file size (default 200)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        aws_cli = find_aws_cli(args.aws_cli)
        version = subprocess.run([aws_cli, "--version"], capture_output=True, text=True, check=False)
        log(f"scar: {sys.executable} -m scar ({REPO}); AWS CLI: {aws_cli} "
            f"({(version.stdout or version.stderr).strip()})")
        with tempfile.TemporaryDirectory(prefix="scar-bench-") as tmp:
            work = Path(tmp)
            (work / "home").mkdir()
            log(f"generating {args.files} x {args.file_kib} KiB and 1 x {args.big_mib} MiB of random data in {work}")
            data = make_data(work / "data", args.files, args.file_kib, args.big_mib)
            with moto_server(work) as url:
                tools = Tools(aws_cli, bench_env(url, work / "home"))
                rows = [help_row(tools, args.help_repeat)]
                bench = Bench(tools, data, work, args.repeat)
                bench.setup()
                rows += bench.transfers()
    except BenchError as err:
        print(f"bench: error: {err}", file=sys.stderr)
        return 2
    print(report(rows, args.repeat, args.help_repeat))
    print(f"\ntotal {time.monotonic() - started:.0f} s; targets: transfers scar/aws-cli <= {TRANSFER_TARGET:.1f}, "
          f"--help scar/python <= {HELP_TARGET:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
