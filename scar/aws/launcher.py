"""The event launcher: one S3-shaped event per object of an input folder, the first sent synchronously
(to warm the function and show its output), the others asynchronously on a bounded pool, throttling
answered with backoff, every object sent exactly once."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from scar.aws.errors import describe, error_code
from scar.aws.invoke import check_payload_size
from scar.aws.s3 import S3, S3Location, S3Object
from scar.aws.s3_events import s3_event

THROTTLED = ("TooManyRequestsException", "ThrottlingException", "Throttling", "EC2ThrottledException",
             "SlowDown", "RequestLimitExceeded")
MAX_THROTTLED_ROUNDS = 8  # of botocore's own attempts each
BACKOFF_BASE = 0.2  # seconds; doubled per attempt, with jitter, at most BACKOFF_CAP
BACKOFF_CAP = 10.0


@dataclass(frozen=True)
class Selection:
    """Which objects of the folder to send: name prefix and suffix (relative to the folder), and a cap."""

    prefix: str = ""
    suffix: str = ""
    limit: int | None = None


def select_objects(s3: S3, location: S3Location, selection: Selection) -> list[S3Object]:
    found = []
    start = location.key_prefix + selection.prefix
    for obj in s3.list_objects(location):
        if obj.key.startswith(start) and obj.key.endswith(selection.suffix):
            found.append(obj)
            if selection.limit is not None and len(found) >= selection.limit:
                break
    return found


def event_payload(obj: S3Object, bucket: str, region: str, asynchronous: bool) -> bytes:
    payload = json.dumps(s3_event(bucket, obj.key, obj.size, region)).encode()
    check_payload_size(payload, asynchronous)
    return payload


@dataclass
class LaunchReport:
    sent: int = 0
    throttled_retries: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, sent: bool, retries: int, key: str = "", reason: str = "") -> None:
        with self._lock:
            self.throttled_retries += retries
            if sent:
                self.sent += 1
            else:
                self.failed.append((key, reason))


class Stopped(Exception):
    """Sending stopped (Ctrl-C) before this event went out."""


def invoke_with_backoff(client: Any, function: str, payload: bytes, asynchronous: bool,
                        stop: threading.Event | None = None) -> tuple[dict[str, Any], int]:
    """Invoke; (response, retries). botocore's standard mode retries first (its attempts are counted from
    the response); a call still throttled after them is tried again with exponential backoff and jitter,
    unless `stop` is set meanwhile (then `Stopped`)."""
    retries = 0
    rounds = 0
    while True:
        if stop is not None and stop.is_set():
            raise Stopped
        try:
            response = client.invoke(FunctionName=function, Payload=payload,
                                     InvocationType="Event" if asynchronous else "RequestResponse")
            return response, retries + response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        except ClientError as err:
            retries += err.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
            rounds += 1
            if error_code(err) not in THROTTLED or rounds >= MAX_THROTTLED_ROUNDS:
                raise
            (stop or threading.Event()).wait(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** rounds)))


def launch_async(client: Any, function: str, objects: list[S3Object], bucket: str, region: str, concurrency: int,
                 report: LaunchReport, advance: Callable[[int], Any]) -> None:
    """Send one asynchronous event per object on a pool of `concurrency` workers.

    On an interruption (Ctrl-C) or any error of the caller's, queued events are dropped at once and no new
    call starts; the calls already in flight finish (and are counted) before the exception goes on.
    """
    stop = threading.Event()

    def send(obj: S3Object) -> None:
        if stop.is_set():
            return
        try:
            _, retries = invoke_with_backoff(client, function, event_payload(obj, bucket, region, True), True,
                                             stop=stop)
        except Stopped:
            return
        except Exception as err:  # noqa: BLE001 - every object gets an outcome; one failure stops nothing
            report.record(False, 0, obj.key, describe(err))
        else:
            report.record(True, retries)
        advance(1)

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        futures = [pool.submit(send, obj) for obj in objects]
        wait(futures)
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
