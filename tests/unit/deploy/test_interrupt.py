"""Ctrl-C and SIGTERM while plans run: real signals, delivered to the main thread while it waits for workers."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from scar.deploy import interrupt
from scar.deploy.interrupt import interruptible, run_all


@pytest.fixture(autouse=True)
def python_sigint() -> Iterator[None]:
    """Ctrl-C as Python handles it by default (KeyboardInterrupt in the main thread), whatever pytest set."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def to_main(signum: int) -> None:
    """A signal sent to the main thread (the one that runs Python signal handlers)."""
    signal.pthread_kill(threading.main_thread().ident, signum)  # type: ignore[arg-type]


def test_results_in_order_on_a_bounded_pool() -> None:
    running, peak, lock = 0, 0, threading.Lock()

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01 * (5 - n % 5))  # later items finish first
        with lock:
            running -= 1
        return n * n

    assert run_all(work, range(10), 3, threading.Event()) == [n * n for n in range(10)]
    assert peak <= 3
    assert run_all(work, [], 3, threading.Event()) == []


def test_a_worker_error_reaches_the_caller() -> None:
    def work(n: int) -> int:
        if n == 2:
            raise ValueError("two")
        return n

    with pytest.raises(ValueError, match="two"):
        run_all(work, range(4), 2, threading.Event())


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_workers_run_cancels_waits_for_them_and_reraises(signum: int) -> None:
    """Each worker waits for the cancel event (as an executor checks it between steps), then takes a while to
    roll back; a second signal during that wait must not cut it short."""
    started = threading.Barrier(3)
    rolled_back: list[int] = []
    notices: list[str] = []

    def work(n: int) -> int:
        started.wait(timeout=10)
        if n == 0:
            time.sleep(0.2)  # the main thread is waiting by now (see the race test below)
            to_main(signum)
        if not cancel.wait(timeout=10):
            return n
        time.sleep(0.05)  # the main thread ignores signals by now (see the race test below)
        if n == 1:
            to_main(signum)  # impatient user: a second Ctrl-C while rolling back
        time.sleep(0.2)
        rolled_back.append(n)
        return n

    with interruptible() as cancel:
        with pytest.raises(KeyboardInterrupt):
            run_all(work, range(3), 3, cancel, notices.append)
    assert cancel.is_set()
    assert sorted(rolled_back) == [0, 1, 2]  # every worker finished before the interruption came back
    assert notices == ["interrupted: stopping and rolling back, please wait"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored after the wait


class SignalledOnSecondSubmit(ThreadPoolExecutor):
    """A real Ctrl-C, sent by the main thread to itself while it hands out work: the one moment a signal's
    arrival can be timed exactly."""

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        future = super().submit(*args, **kwargs)
        self.submitted = getattr(self, "submitted", 0) + 1
        if self.submitted == 2:
            to_main(signal.SIGINT)
        return future


def test_a_signal_while_work_is_handed_out_still_cancels_and_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interrupt, "ThreadPoolExecutor", SignalledOnSecondSubmit)
    finished: list[tuple[int, bool]] = []

    def work(n: int) -> int:
        finished.append((n, cancel.wait(timeout=2)))
        return n

    cancel = threading.Event()
    with pytest.raises(KeyboardInterrupt):
        run_all(work, range(3), 3, cancel, lambda message: None)
    assert cancel.is_set()
    assert finished and all(cancelled for _, cancelled in finished)  # the workers saw the cancel, were awaited


def test_a_second_signal_right_after_the_first_still_waits_for_the_workers() -> None:
    rolled_back: list[int] = []

    def work(n: int) -> int:
        if n == 0:
            time.sleep(0.2)
            to_main(signal.SIGINT)
        if cancel.wait(timeout=10):
            time.sleep(0.2)
            rolled_back.append(n)
        return n

    def notice(message: str) -> None:
        to_main(signal.SIGINT)  # the user presses Ctrl-C again as the notice appears

    cancel = threading.Event()
    with pytest.raises(KeyboardInterrupt):
        run_all(work, range(2), 2, cancel, notice)
    assert sorted(rolled_back) == [0, 1]


def test_sigterm_is_a_keyboard_interrupt_inside_interruptible_only() -> None:
    seen: list[int] = []

    def handler(signum: int, frame: object) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with interruptible() as cancel:
            assert not cancel.is_set()
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler runs here at the latest
        assert signal.getsignal(signal.SIGTERM) is handler
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_interruptible_restores_the_handler_after_an_error() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(RuntimeError), interruptible():
        assert signal.getsignal(signal.SIGTERM) is not previous
        raise RuntimeError("inside")
    assert signal.getsignal(signal.SIGTERM) is previous


def test_interruptible_off_the_main_thread_leaves_signals_alone() -> None:
    found: list[object] = []

    def worker() -> None:
        with interruptible() as cancel:
            found.append(cancel)
            found.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert isinstance(found[0], threading.Event) and found[1] is before
