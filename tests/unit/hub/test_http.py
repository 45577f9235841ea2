"""Outbound policy: status table, Retry-After parsing, rate budget, breaker."""

import pytest

from hub.errors import AuthError, PermanentError, RetryableError
from hub.http import RateBudget, SystemGuard, action_for, error_for, parse_retry_after

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("status, kind", [
    (200, None), (400, PermanentError), (401, AuthError), (403, AuthError), (404, PermanentError),
    (409, PermanentError), (422, PermanentError), (408, RetryableError), (429, RetryableError),
    (500, RetryableError), (502, RetryableError), (503, RetryableError), (504, RetryableError),
])
def test_status_table(status, kind):
    error = error_for("zendesk", status, "x", retry_after=3)
    if kind is None:
        assert error is None
    else:
        assert type(error) is kind
    assert action_for(599) == "retry" and action_for(418) == "fail"


def test_retry_after_int_and_http_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert 0 <= parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") <= 0.0 + 1  # in the past → 0


def test_rate_budget_spaces_calls_and_pauses_on_429():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds
    budget = RateBudget(per_second=2, burst=2, clock=lambda: now[0], sleep=sleep)
    for _ in range(6):
        budget.acquire()
    assert now[0] == pytest.approx(2.0)  # 2 free, then 4 more at 2/s
    budget.pause(7)
    start = now[0]
    budget.acquire()
    assert now[0] - start >= 7


def test_guard_translates_and_opens_breaker():
    guard = SystemGuard("hubspot", per_minute=60000, fail_max=3, reset_timeout=60)

    def fails():
        raise RetryableError("503", status=503)
    for _ in range(3):
        with pytest.raises(RetryableError):
            guard.call(fails)
    calls = []
    with pytest.raises(RetryableError, match="circuit open"):
        guard.call(lambda: calls.append(1))
    assert calls == []  # nothing sent while open

    def not_found():
        raise KeyError("x")
    ok_guard = SystemGuard("hubspot", per_minute=60000)
    with pytest.raises(PermanentError):
        ok_guard.call(not_found, translate=lambda e: PermanentError("gone") if isinstance(e, KeyError) else None)


def _guard_on_fake_clock() -> tuple[SystemGuard, list[float]]:
    guard = SystemGuard("hubspot", per_minute=60000, fail_max=100)
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds
    guard.budget.clock, guard.budget.sleep = (lambda: now[0]), sleep
    guard.budget.updated = 0.0
    return guard, now


def _refused(statuses: list[int], retry_after: float = 2.0):
    sent = []

    def call():
        sent.append(len(sent))
        if len(sent) <= len(statuses):
            raise RetryableError("limited", retry_after=retry_after, status=statuses[len(sent) - 1])
        return "done"
    return call, sent


def test_guard_resends_a_429_after_the_shared_pause():
    guard, now = _guard_on_fake_clock()
    call, sent = _refused([429, 429])
    assert guard.call(call, retries=3) == "done"
    assert len(sent) == 3 and now[0] >= 4.0  # each re-send waited out its Retry-After


def test_guard_gives_up_after_its_retries_and_never_retries_other_statuses():
    guard, _ = _guard_on_fake_clock()
    call, sent = _refused([429] * 5)
    with pytest.raises(RetryableError):
        guard.call(call, retries=3)
    assert len(sent) == 4
    for status in (503, 403):
        call, sent = _refused([status])
        with pytest.raises(RetryableError):
            guard.call(call, retries=3)
        assert len(sent) == 1
    call, sent = _refused([403])
    assert guard.call(call, retries=1, retry_statuses=(403, 429)) == "done"


def test_guard_hands_a_long_pause_back_instead_of_waiting():
    guard, now = _guard_on_fake_clock()
    call, sent = _refused([429], retry_after=100)  # longer than max_wait, within the budget's own limit
    with pytest.raises(RetryableError) as caught:
        guard.call(call, retries=3)
    assert len(sent) == 1 and caught.value.retry_after == 100 and now[0] == 0.0
    call, sent = _refused([429])
    with pytest.raises(RetryableError):
        _guard_on_fake_clock()[0].call(call)  # no retries unless asked
    assert len(sent) == 1
