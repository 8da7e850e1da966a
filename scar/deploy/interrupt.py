"""Ctrl-C and SIGTERM while plans run: the work runs on worker threads, the main thread only waits, so an
interruption never lands in the middle of a call whose undo was not yet recorded."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def interruptible() -> Iterator[threading.Event]:
    """SIGTERM behaves as Ctrl-C inside the block; yields the event workers check between steps."""
    cancel = threading.Event()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        yield cancel
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


def run_all(work: Callable[[Item], Result], items: Iterable[Item], workers: int, cancel: threading.Event,
            notice: Callable[[str], None] | None = None) -> list[Result]:
    """`work` over `items` on a bounded pool, results in order. On Ctrl-C or SIGTERM, `cancel` is set and the
    workers are awaited (they roll back); a second signal does not cut that short. Then KeyboardInterrupt
    is raised again."""
    items = list(items)
    if not items:
        return []
    pool = ThreadPoolExecutor(max(1, min(workers, len(items))))
    futures: list[Future[Result]] = []
    try:
        futures += (pool.submit(work, item) for item in items)
        wait(futures)
    except KeyboardInterrupt:
        with _signals_ignored():  # first, so that a second signal cannot cut the rollback short
            cancel.set()
            (notice or _stderr)("interrupted: stopping and rolling back, please wait")
            wait(futures)
            pool.shutdown()
        raise
    pool.shutdown()
    return [future.result() for future in futures]


@contextmanager
def _signals_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)
