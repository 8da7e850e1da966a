"""Run one command in its own process group: stream its output, keep it (bounded), kill the whole group
on timeout, and report the exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Output kept for the response; Lambda's synchronous response is limited to 6 MB (base64 adds a third).
MAX_KEPT_OUTPUT = 4 * 1024 * 1024
TRUNCATION_NOTE = b"\n[scar: output truncated: only the last 4 MiB are kept]\n"
_CHUNK = 64 * 1024
_PR_SET_DUMPABLE = 4  # <linux/prctl.h>


def hide_from_same_user() -> bool:
    """Make this process's /proc entries unreadable to the other processes of its user that are not root, as
    the container's are: Linux's PR_SET_DUMPABLE 0 refuses them /proc/PID/environ (which keeps the variables
    the process started with, the role's credentials included, even after they leave os.environ), mem and
    ptrace. It also turns core dumps off. False where that is not possible (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return int(ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int  # negative: killed by that signal
    timed_out: bool
    output: bytes  # stdout and stderr interleaved, the last MAX_KEPT_OUTPUT bytes when longer
    truncated: bool
    seconds: float

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.output.decode("utf-8", "replace").splitlines()[-lines:])


def run_process(argv: list[str], env: dict[str, str], cwd: str | None = None, timeout: float | None = None,
                on_line: Callable[[str], None] | None = None, stdin: bytes | None = None) -> ProcessResult:
    """Run `argv` with exactly `env`; `on_line` receives each output line as it comes (for the logs)."""
    started = time.monotonic()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE if stdin is not None else
                               subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    collector = _Collector(on_line)
    reader = threading.Thread(target=collector.read, args=(process.stdout,), daemon=True)
    reader.start()
    if stdin is not None:
        assert process.stdin is not None
        try:
            process.stdin.write(stdin)
            process.stdin.close()
        except BrokenPipeError:
            pass
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(process)
    except BaseException:
        _kill_group(process)
        raise
    else:
        _kill_group(process, quiet=True)  # leftovers the command started in the background
    reader.join(timeout=5)
    return ProcessResult(process.returncode, timed_out, collector.output(), collector.truncated,
                         time.monotonic() - started)


def _kill_group(process: subprocess.Popen[bytes], quiet: bool = False) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        if not quiet:
            process.kill()
    process.wait()


class _Collector:
    def __init__(self, on_line: Callable[[str], None] | None) -> None:
        self._on_line = on_line
        self._chunks: list[bytes] = []
        self._size = 0
        self.truncated = False
        self._pending = b""

    def read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for chunk in iter(lambda: stream.read1(_CHUNK), b""):
            self._keep(chunk)
            if self._on_line is not None:
                self._emit(chunk)
        if self._pending and self._on_line is not None:
            self._on_line(self._pending.decode("utf-8", "replace"))
        stream.close()

    def _keep(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        while self._size - len(self._chunks[0]) >= MAX_KEPT_OUTPUT:
            self._size -= len(self._chunks.pop(0))
            self.truncated = True

    def _emit(self, chunk: bytes) -> None:
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        for line in lines:
            self._on_line(line.decode("utf-8", "replace"))  # type: ignore[misc]

    def output(self) -> bytes:
        data = b"".join(self._chunks)
        if len(data) > MAX_KEPT_OUTPUT:
            data = data[-MAX_KEPT_OUTPUT:]
            self.truncated = True
        return TRUNCATION_NOTE + data if self.truncated else data
