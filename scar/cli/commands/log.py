"""`scar log`: a function's CloudWatch events, filtered on the server and printed as they arrive."""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from time import sleep  # a name of this module, so tests can stand in for the wait
from typing import TYPE_CHECKING, Any

from scar.aws.kinds.log_group import log_group_name
from scar.aws.logs import Logs
from scar.cli.targets import selected_functions, selected_service
from scar.errors import BadInputError, ScarError

if TYPE_CHECKING:
    from scar.cli.main import Context
    from scar.config.specs import OscarServiceSpec

#: Seconds between two polls with --follow.
POLL_SECONDS = 1.0
#: How far back (ms) each --follow poll looks again, for events that reach CloudWatch late.
FOLLOW_LOOKBACK_MS = 10_000

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(?:\d+[smhdw])+")


def parse_duration(text: str) -> int:
    """"30s", "10m", "2h", "1d", "1w" or a sum such as "1h30m", in seconds."""
    compact = text.strip().lower()
    seconds = (sum(int(n) * _UNIT_SECONDS[u] for n, u in re.findall(r"(\d+)([smhdw])", compact))
               if _DURATION.fullmatch(compact) else 0)
    if seconds <= 0:
        raise BadInputError(f"command line: --since: {text!r} is not a duration (for example 30s, 10m, 2h, 1d)")
    return seconds


@dataclass(frozen=True)
class Query:
    """Which events: the log group, and the server-side filters."""

    group: str
    streams: list[str] | None
    pattern: str | None
    start_ms: int | None


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.follow and ctx.output.json_mode:
        raise BadInputError("command line: -j/--json prints one document, so it cannot be used with --follow")
    start_ms = int(time.time() * 1000) - parse_duration(args.since) * 1000 if args.since else None
    service = selected_service(ctx)
    if service is not None:
        return _service_log(args, ctx, service)
    target = selected_functions(ctx, several=False)[0]
    query = Query(log_group_name(target.name), [args.log_stream_name] if args.log_stream_name else None,
                  f'"{args.request_id}"' if args.request_id else None, start_ms)
    session = ctx.aws(target.region, target.profile)
    if args.request_id and not args.follow:  # a Batch function's job id: the job's status and events
        from scar.cli.batch_log import batch_job, show_job

        job = batch_job(session, target.name, args.request_id)
        if job is not None:
            return show_job(ctx, session, job)
    logs = Logs(session.client("logs"))
    if logs.get_group(query.group) is None:
        raise ScarError(f"no logs for function {target.name} (log group {query.group} does not exist)")
    if ctx.output.json_mode:
        _print_document(ctx, query, logs)
    elif args.follow:
        _follow(ctx, query, logs)
    elif not _print_events(ctx, _events(logs, query, query.start_ms)):
        ctx.output.notice(f"no matching events in {query.group}")
    return 0


def _service_log(args: argparse.Namespace, ctx: Context, service: OscarServiceSpec) -> int:
    """An OSCAR service's jobs, or with -ri JOB that job's logs."""
    refused = [flag for flag, value in (("-ls/--log-stream-name", args.log_stream_name), ("--since", args.since),
                                        ("--follow", args.follow)) if value]
    if refused:
        raise BadInputError(f"command line: {', '.join(refused)} do not apply to OSCAR services")
    from scar.cli.oscar import show_logs

    return show_logs(ctx, service, args.request_id)


def _events(logs: Logs, query: Query, start_ms: int | None) -> Iterable[dict[str, Any]]:
    return logs.events(query.group, streams=query.streams, pattern=query.pattern, start_ms=start_ms)


def _print_events(ctx: Context, events: Iterable[dict[str, Any]]) -> int:
    """Print each message on its own line as it arrives; how many were printed."""
    out = ctx.output.stdout
    count = 0
    for event in events:
        message = event.get("message", "")
        out.write(message if message.endswith("\n") else message + "\n")
        count += 1
        out.flush()
    return count


def _print_document(ctx: Context, query: Query, logs: Logs) -> None:
    """One JSON document of every event, written as the pages arrive (json.dump writes as it encodes), so
    memory stays flat however many events there are. With -v every AWS answer goes into the document, so
    there the events are read first and the document holds all the answers (as every command's)."""
    events = ({"Timestamp": e.get("timestamp"), "LogStreamName": e.get("logStreamName"), "Message": e.get("message")}
              for e in _events(logs, query, query.start_ms))
    listed = list(events) if ctx.output.wants_answers else _StreamedList(events)
    ctx.output.result({"LogGroupName": query.group, "Events": listed}, None)


class _StreamedList(list):  # type: ignore[type-arg]
    """A list for json.dump that yields its items from an iterator, once, instead of holding them.

    The first item is read at once, so that a failure of the first page (access denied, say) comes before
    any of the document is written."""

    def __init__(self, items: Iterator[Any]) -> None:
        super().__init__()
        self._items = items
        self._first = next(items, _NONE)

    def __bool__(self) -> bool:
        return self._first is not _NONE

    def __iter__(self) -> Iterator[Any]:
        if self._first is not _NONE:
            yield self._first
            yield from self._items


_NONE = object()


def _follow(ctx: Context, query: Query, logs: Logs) -> None:
    """Print new events every POLL_SECONDS until Ctrl-C, each once (remembering the ids of recent ones)."""
    seen: dict[str, int] = {}  # eventId → timestamp, for events inside the look-back window
    start_ms = query.start_ms
    try:
        while True:
            _print_events(ctx, _unseen(_events(logs, query, start_ms), seen))
            if seen:
                start_ms = max(query.start_ms or 0, max(seen.values()) - FOLLOW_LOOKBACK_MS)
                seen = {event_id: ts for event_id, ts in seen.items() if ts >= start_ms}
            sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        ctx.output.stdout.flush()


def _unseen(events: Iterable[dict[str, Any]], seen: dict[str, int]) -> Iterable[dict[str, Any]]:
    for event in events:
        if event["eventId"] not in seen:
            seen[event["eventId"]] = event["timestamp"]
            yield event
