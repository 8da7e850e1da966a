"""run_process: exit codes, one interleaved output stream, line streaming, a timeout that kills the whole
process group, bounded output that keeps the tail, and stdin."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from scar.supervisor import process
from scar.supervisor.process import TRUNCATION_NOTE, run_process

ENV = {"PATH": "/usr/bin:/bin"}


def sh(script: str, **kwargs) -> process.ProcessResult:  # type: ignore[no-untyped-def]
    return run_process(["/bin/sh", "-c", script], ENV, **kwargs)


def alive(pid: int) -> bool:
    """Whether `pid` still runs. A killed orphan can stay a zombie for a while when PID 1 does not reap
    (containers): a zombie does not count."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def gone_soon(pid: int, seconds: float = 3) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.parametrize(("script", "code"), [("true", 0), ("exit 3", 3), ("exit 255", 255), ("kill -TERM $$", -15)])
def test_exit_codes(script: str, code: int) -> None:
    result = sh(script)
    assert (result.exit_code, result.timed_out, result.truncated) == (code, False, False)


def test_stdout_and_stderr_are_one_stream_in_order() -> None:
    result = sh("echo out1; echo err1 >&2; echo out2; echo err2 >&2")
    assert result.output == b"out1\nerr1\nout2\nerr2\n"
    assert result.tail() == "out1\nerr1\nout2\nerr2"
    assert result.tail(2) == "out2\nerr2"


def test_the_environment_is_exactly_the_one_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAR_HOST_ONLY", "leak")
    result = run_process(["/bin/sh", "-c", 'echo "$FOO|${SCAR_HOST_ONLY:-unset}|$(pwd)"'], {**ENV, "FOO": "bar"},
                         cwd="/")
    assert result.output == b"bar|unset|/\n"


def test_lines_are_streamed_in_order_while_the_command_runs(tmp_path: Path) -> None:
    """The command waits for a file that only the callback creates on the first line: the line must reach
    the callback while the command still runs."""
    go = tmp_path / "go"
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        if line == "ready":
            go.touch()

    script = f'echo ready; while [ ! -e "{go}" ]; do sleep 0.02; done; echo one; echo two >&2; printf three'
    result = sh(script, on_line=on_line, timeout=10)
    assert not result.timed_out
    assert lines == ["ready", "one", "two", "three"]  # the last line, without a newline, is not lost


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    result = sh(f'sleep 30 & echo $! > "{pid_file}"; echo started; wait', timeout=0.5)
    assert time.monotonic() - started < 5
    assert result.timed_out
    assert result.exit_code == -9
    assert result.output == b"started\n"  # the partial output is kept
    grandchild = int(pid_file.read_text())
    assert gone_soon(grandchild), "the background grandchild survived the timeout"


def test_background_leftovers_are_killed_after_a_normal_exit(tmp_path: Path) -> None:
    """A command that leaves a process behind (holding the output pipe) neither blocks the run nor survives
    into the next invocation."""
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    result = sh(f'sleep 30 & echo $! > "{pid_file}"; echo bye', timeout=10)
    assert time.monotonic() - started < 5
    assert (result.exit_code, result.timed_out, result.output) == (0, False, b"bye\n")
    assert gone_soon(int(pid_file.read_text()))


LOOP = 'i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i+1)); done'
FULL = "".join(f"line {i}\n" for i in range(500)).encode()


def test_long_output_keeps_the_tail_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "MAX_KEPT_OUTPUT", 100)
    lines: list[str] = []
    result = sh(LOOP, on_line=lines.append)
    assert result.truncated
    assert result.output == TRUNCATION_NOTE + FULL[-100:]
    assert result.tail(1) == "line 499"
    assert lines == [f"line {i}" for i in range(500)]  # the logs still get every line


def test_output_at_the_limit_is_not_truncated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "MAX_KEPT_OUTPUT", len(FULL))
    result = sh(LOOP)
    assert (result.truncated, result.output) == (False, FULL)


def test_stdin_is_passed() -> None:
    data = b"first line\n\x00\xffbinary"
    result = run_process(["/bin/cat"], ENV, stdin=data)
    assert (result.exit_code, result.output) == (0, data)


def test_without_stdin_the_command_reads_nothing() -> None:
    result = run_process(["/bin/cat"], ENV, timeout=5)
    assert (result.exit_code, result.timed_out, result.output) == (0, False, b"")


def test_undecodable_output_is_kept_as_bytes() -> None:
    result = sh(r"printf 'caf\351\n'")
    assert result.output == b"caf\xe9\n"
    assert result.tail() == "caf\ufffd"
