"""Sandbox fixtures and helpers shared by the connector contract tests.

A test module names the emulators it needs in ``SANDBOX_SYSTEMS``; one sandbox runs per module, reset before
each test, with injected faults and rate limits removed after it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from hub.errors import RetryableError
from hub.http import RateBudget, TimeoutAdapter
from hub.sandbox.server import start_in_thread


@pytest.fixture(scope="module")
def running(request):
    sandbox = start_in_thread(port=0, systems=tuple(request.module.SANDBOX_SYSTEMS))
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(running):
    running.sandbox.reset()
    yield running
    requests.delete(f"{running.url}/_sandbox/faults", timeout=5)
    requests.delete(f"{running.url}/_sandbox/limits", timeout=5)


@pytest.fixture
def lose_first_answer(monkeypatch):
    """``lose_first_answer(method, url_end)``: the first such request reaches the vendor but its answer is lost
    (a read timeout after the vendor committed). Returns the list the lost answer's status lands in."""
    def arm(method: str, url_end: str) -> list[int]:
        real_send = TimeoutAdapter.send
        lost: list[int] = []

        def send(adapter, request, **kwargs):
            response = real_send(adapter, request, **kwargs)
            if request.method == method and request.url.endswith(url_end) and not lost:
                lost.append(response.status_code)
                raise requests.exceptions.ReadTimeout("answer lost after commit")
            return response
        monkeypatch.setattr(TimeoutAdapter, "send", send)
        return lost
    return arm


def control(sandbox, method: str, path: str, json=None) -> dict:
    """One call to the sandbox's control API (``/_sandbox/...``); asserts it succeeded."""
    answer = requests.request(method, f"{sandbox.url}{path}", json=json, timeout=10)
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.content else {}


def faults(sandbox, system: str, kinds: list[str], rate: float = 1.0, **extra) -> None:
    """Inject ``kinds`` of faults (``429``, ``500``, ``timeout``, ``reset``…) into ``system``'s answers."""
    answer = requests.post(f"{sandbox.url}/_sandbox/faults", timeout=5,
                           json={"system": system, "rate": rate, "kinds": kinds, **extra})
    assert answer.status_code == 200, answer.text


class FakeTime:
    """A clock for the guard's budget whose sleeps also move the sandbox clock: waits cost no real time."""

    def __init__(self, sandbox, on_sleep: Callable[[], None] | None = None, now: float = 1000.0):
        self.now = now
        self.slept: list[float] = []
        self.sandbox = sandbox
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        self.sandbox.sandbox.advance_clock(seconds)
        if self.on_sleep:
            self.on_sleep()

    def drive(self, budget: RateBudget) -> None:
        """Put ``budget`` (keeping its rate) on this clock."""
        budget.clock, budget.sleep, budget.updated = self.clock, self.sleep, self.now


def fake_budget(connector, fake: FakeTime, per_minute: float = 6000) -> None:
    """Give the connector's guard a fresh budget of ``per_minute`` (burst 50) on the fake clock."""
    connector.guard.budget = RateBudget(per_minute / 60.0, 50, clock=fake.clock, sleep=fake.sleep)


def deliver_with_retries(connector, operation: str, pending: list[tuple[dict, str]], fake: FakeTime,
                         rounds: int = 30, chunk: int = 10) -> list[tuple[dict, str]]:
    """Send ``pending`` in batches of ``chunk`` the way the outbox does: a failed item must be retryable and is
    sent again after the longest ``retry_after`` of its round. Returns what was still undelivered."""
    for _ in range(rounds):
        if not pending:
            break
        retry, wait = [], 0.0
        for start in range(0, len(pending), chunk):
            items = pending[start:start + chunk]
            for item, outcome in zip(items, connector.execute_batch(operation, items)):
                if isinstance(outcome, Exception):
                    assert isinstance(outcome, RetryableError), outcome
                    retry.append(item)
                    wait = max(wait, outcome.retry_after or 1.0)
        pending = retry
        fake.sleep(wait)  # the outbox retries no sooner than retry_after
    return pending
