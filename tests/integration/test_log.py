"""`scar log` through the CLI entry point against moto server (moto writes no invocation logs, so the
tests put the events themselves)."""

from __future__ import annotations

import json
import time

import boto3
import pytest

import scar.cli.commands.log as log_command
from tests.conftest import REGION

GROUP = "/aws/lambda/fn"
FIRST = "1f0c2b7e-0000-4000-8000-000000000001"  # request ids starting with a digit: moto needs them quoted
SECOND = "2a9d4e11-0000-4000-8000-000000000002"


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def logs(cloud: str):
    client = boto3.client("logs", endpoint_url=cloud, region_name=REGION)
    client.create_log_group(logGroupName=GROUP)
    return client


def put(logs, stream: str, *events: tuple[int, str]) -> None:
    try:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream,
                        logEvents=[{"timestamp": ts, "message": message} for ts, message in events])


@pytest.fixture
def two_invocations(logs) -> int:
    """Two invocations in two streams, interleaved in time; returns the first timestamp."""
    t = now_ms() - 60_000
    put(logs, "s1",
        (t, f"START RequestId: {FIRST} Version: $LATEST\n"),
        (t + 2, "container says hi\n"),
        (t + 4, f"[INFO]\t{FIRST}\tsupervisor done\n"),
        (t + 6, f"END RequestId: {FIRST}\n"),
        (t + 8, f"REPORT RequestId: {FIRST}\tDuration: 8.00 ms\n"))
    put(logs, "s2",
        (t + 1, f"START RequestId: {SECOND} Version: $LATEST\n"),
        (t + 3, "no newline here"),
        (t + 5, f"END RequestId: {SECOND}\n"),
        (t + 7, f"REPORT RequestId: {SECOND}\tDuration: 6.00 ms\n"))
    return t


def test_log_prints_every_event_in_time_order(scar, two_invocations):
    result = scar("log", "-n", "fn")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"START RequestId: {FIRST} Version: $LATEST", f"START RequestId: {SECOND} Version: $LATEST",
        "container says hi", "no newline here", f"[INFO]\t{FIRST}\tsupervisor done", f"END RequestId: {SECOND}",
        f"END RequestId: {FIRST}", f"REPORT RequestId: {SECOND}\tDuration: 6.00 ms",
        f"REPORT RequestId: {FIRST}\tDuration: 8.00 ms"]


def test_log_request_id_filters_on_the_server(scar, two_invocations):
    result = scar("log", "-n", "fn", "-ri", FIRST)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"START RequestId: {FIRST} Version: $LATEST", f"[INFO]\t{FIRST}\tsupervisor done",
        f"END RequestId: {FIRST}", f"REPORT RequestId: {FIRST}\tDuration: 8.00 ms"]


def test_log_stream(scar, two_invocations):
    result = scar("log", "-n", "fn", "-ls", "s2")
    assert result.code == 0, result.stderr
    assert result.stdout == (f"START RequestId: {SECOND} Version: $LATEST\nno newline here\n"
                             f"END RequestId: {SECOND}\nREPORT RequestId: {SECOND}\tDuration: 6.00 ms\n")


def test_log_since_drops_older_events(scar, logs):
    put(logs, "s1", (now_ms() - 2 * 3600_000, "two hours ago"), (now_ms() - 60_000, "a minute ago"))
    assert scar("log", "-n", "fn", "--since", "1h").stdout == "a minute ago\n"
    assert scar("log", "-n", "fn", "--since", "3h").stdout == "two hours ago\na minute ago\n"


def test_log_since_invalid_is_bad_input(scar, cloud):
    result = scar("log", "-n", "fn", "--since", "yesterday")
    assert result.code == 2
    assert "--since: 'yesterday' is not a duration" in result.stderr


def test_log_nothing_matches(scar, logs):
    result = scar("log", "-n", "fn")
    assert result.code == 0
    assert result.stdout == ""
    assert f"scar: no matching events in {GROUP}" in result.stderr


def test_log_json(scar, two_invocations):
    t = two_invocations
    result = scar("log", "-n", "fn", "-ls", "s1", "-ri", FIRST, "-j")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {"LogGroupName": GROUP, "Events": [
        {"Timestamp": t, "LogStreamName": "s1", "Message": f"START RequestId: {FIRST} Version: $LATEST\n"},
        {"Timestamp": t + 4, "LogStreamName": "s1", "Message": f"[INFO]\t{FIRST}\tsupervisor done\n"},
        {"Timestamp": t + 6, "LogStreamName": "s1", "Message": f"END RequestId: {FIRST}\n"},
        {"Timestamp": t + 8, "LogStreamName": "s1", "Message": f"REPORT RequestId: {FIRST}\tDuration: 8.00 ms\n"}]}


def test_log_json_is_written_exactly_as_one_document(scar, logs):
    """-j writes the document as the pages arrive; the bytes are those of json.dump of the whole document,
    for an empty group as for one whose events span two pages (moto pages at 10,000 events)."""
    empty = scar("log", "-n", "fn", "-j")
    assert empty.code == 0, empty.stderr
    assert empty.stdout == json.dumps({"LogGroupName": GROUP, "Events": []}, indent=2) + "\n"
    t = now_ms() - 60_000
    events = [(t + i // 10, f"line {i}") for i in range(10_050)]
    put(logs, "s1", *events[:10_000])
    put(logs, "s2", *events[10_000:])
    document = scar("log", "-n", "fn", "-j")
    assert document.code == 0, document.stderr
    expected = {"LogGroupName": GROUP, "Events": [{"Timestamp": ts, "LogStreamName": "s1" if i < 10_000 else "s2",
                                                   "Message": message} for i, (ts, message) in enumerate(events)]}
    assert document.stdout == json.dumps(expected, indent=2) + "\n"
    text = scar("log", "-n", "fn")
    assert text.code == 0, text.stderr
    assert text.stdout == "".join(f"{message}\n" for _, message in events)


def test_log_json_with_follow_is_bad_input(scar, cloud):
    result = scar("log", "-n", "fn", "--follow", "-j")
    assert result.code == 2
    assert "cannot be used with --follow" in result.stderr


def test_log_missing_group(scar, cloud):
    result = scar("log", "-n", "ghost")
    assert result.code == 1
    assert result.stderr.splitlines()[-1] == (
        "scar: error: no logs for function ghost (log group /aws/lambda/ghost does not exist)")


def test_log_follow_prints_new_events_once_until_ctrl_c(scar, logs, monkeypatch):
    t = now_ms() - 30_000
    put(logs, "s1", (t, "one"), (t + 10, "two"))
    polls: list[float] = []

    def fake_sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 1:
            put(logs, "s1", (t + 10, "two again, same millisecond"), (t + 20, "three"))
        elif len(polls) == 2:
            put(logs, "s2", (t + 15, "late arrival from another stream"))
        elif len(polls) == 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(log_command, "sleep", fake_sleep)
    result = scar("log", "-n", "fn", "--follow")
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr and "interrupted" not in result.stderr
    assert polls == [log_command.POLL_SECONDS] * 4
    assert result.stdout.splitlines() == ["one", "two", "two again, same millisecond", "three",
                                          "late arrival from another stream"]
