"""Broker wake-ups: a burst is one hint at its start plus one after it, never a hint per event, and the last
event of a burst is never left for the workers' poll."""

from __future__ import annotations

import threading
import time

import pytest

from hub.broker import QUEUE, WAKE_TASK, _Publisher

pytestmark = pytest.mark.unit


class FakeCelery:
    def __init__(self):
        self.sent = []
        self.lock = threading.Lock()

    def send_task(self, name, args, queue):
        with self.lock:
            self.sent.append((name, tuple(args), queue, time.monotonic()))


def _wait_for(condition, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_a_burst_is_one_leading_and_one_trailing_hint():
    app = FakeCelery()
    publish = _Publisher(app, interval=0.2)
    for _ in range(50):
        publish("inbox")
    last_call = time.monotonic()
    assert [s[:3] for s in app.sent] == [(WAKE_TASK, ("inbox",), QUEUE)]  # the leading hint, at once
    _wait_for(lambda: len(app.sent) == 2)
    assert len(app.sent) == 2 and app.sent[1][3] >= last_call  # the trailing hint comes after the last event
    assert publish.trailing == {}


def test_channels_are_independent_and_a_quiet_channel_sends_at_once():
    app = FakeCelery()
    publish = _Publisher(app, interval=0.2)
    publish("inbox")
    publish("outbox")
    assert [s[1] for s in app.sent] == [("inbox",), ("outbox",)]
    _wait_for(lambda: False, limit=0.3)  # let the interval pass with nothing held back
    assert len(app.sent) == 2 and publish.trailing == {}
    publish("inbox")
    assert len(app.sent) == 3


def test_a_failing_trailing_send_is_only_logged():
    class Broken(FakeCelery):
        def send_task(self, name, args, queue):
            super().send_task(name, args, queue)
            if len(self.sent) > 1:
                raise ConnectionError("broker down")

    app = Broken()
    publish = _Publisher(app, interval=0.05)
    publish("inbox")
    publish("inbox")
    _wait_for(lambda: len(app.sent) == 2)
    assert len(app.sent) == 2
    _wait_for(lambda: publish.trailing == {})
    assert publish.trailing == {}
