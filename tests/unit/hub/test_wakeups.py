"""Worker wake-ups: one idle worker per signal, a signal sent while nobody waits is kept, shutdown wakes all."""

from __future__ import annotations

import threading
import time

import pytest

from hub.wakeups import _Signal

pytestmark = pytest.mark.unit


def _waiters(signal: _Signal, count: int, timeout: float):
    woke, threads = [], []
    lock = threading.Lock()

    def waiter():
        fired = signal.wait(timeout)
        with lock:
            woke.append(fired)

    for _ in range(count):
        thread = threading.Thread(target=waiter)
        thread.start()
        threads.append(thread)
    return woke, threads


def _until(condition, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_a_signal_sent_while_nobody_waits_is_kept_for_the_next_waiter():
    signal = _Signal()
    signal.set()
    assert signal.wait(10) is True  # returns at once: the signal was not lost
    assert signal.wait(0.01) is False  # and it is consumed


def test_one_signal_wakes_one_of_several_idle_workers():
    signal = _Signal()
    woke, threads = _waiters(signal, 3, timeout=0.5)
    _until(lambda: len(signal._cond._waiters) == 3)
    signal.set()
    for thread in threads:
        thread.join(10)
    assert sorted(woke) == [False, False, True]  # the other two slept on until their poll interval


def test_broadcast_wakes_every_waiter():
    signal = _Signal()
    woke, threads = _waiters(signal, 3, timeout=30)
    _until(lambda: len(signal._cond._waiters) == 3)
    signal.broadcast()
    for thread in threads:
        thread.join(10)
    assert len(woke) == 3 and not any(t.is_alive() for t in threads)
