"""Rate budgets: window safety (against the sandbox's own sliding-window limiter), the shared Redis bucket for real,
the Redis-down fallback, account keys, vendor quota headers."""

import logging
import uuid
from types import SimpleNamespace

import pytest

from hub import ratelimit
from hub.errors import RetryableError
from hub.http import SystemGuard
from hub.ratelimit import (RateBudget, RedisStore, SharedRateBudget, account_key, margin_for, read_quota,
                           sustained_rate)
from hub.sandbox.core import SlidingWindowLimit
from tests.support.postgres import require_service

pytestmark = pytest.mark.unit
REDIS_URL = "redis://127.0.0.1:6379/6"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("limit, burst", [(700, 23), (60, 2), (190, 10), (5, 1), (1140, 38)])
def test_a_greedy_caller_never_takes_a_window_over_the_vendor_limit(limit, burst):
    """The sandbox's sliding window (the vendor's count) refuses nothing over four windows of greedy calls, and
    the budget still uses most of the limit."""
    fake = FakeClock()
    budget = RateBudget(sustained_rate(limit, burst), burst, clock=fake.clock, sleep=fake.sleep)
    vendor = SlidingWindowLimit(limit)
    sent = 0
    while fake.now < 1000.0 + 240:
        budget.acquire()
        allowed, _, _ = vendor.hit(fake.now)
        sent += 1
    assert vendor.rejected == 0
    assert sent >= 4 * (limit - burst - margin_for(limit))  # what is given up is the burst and the margin only


def test_the_old_nominal_rate_bounces_off_the_same_window():
    """Control for the test above: refilling at limit/60 with a burst takes the first window over the limit."""
    fake = FakeClock()
    budget = RateBudget(60 / 60.0, 5, clock=fake.clock, sleep=fake.sleep)
    vendor = SlidingWindowLimit(60)
    while fake.now < 1000.0 + 120:
        budget.acquire()
        vendor.hit(fake.now)
    assert vendor.rejected > 0


def test_pause_holds_callers_and_restarts_without_a_burst():
    fake = FakeClock(0.0)
    budget = RateBudget(2.0, 4, clock=fake.clock, sleep=fake.sleep)
    budget.updated = 0.0
    budget.pause(10)
    budget.acquire()
    assert fake.now == pytest.approx(10.5)  # the pause, then one refill interval: nothing accrued while paused
    with pytest.raises(RetryableError) as caught:
        budget.pause(100)
        budget.acquire(max_wait=5)
    assert caught.value.retry_after == pytest.approx(100, abs=1)


def test_account_key_hashes_the_identity():
    token = "pat-na1-SECRET-TOKEN"
    key = account_key("hubspot", token)
    assert key.startswith("deskbridge:rate:hubspot:") and "SECRET" not in key and token not in key
    assert key == account_key("hubspot", token) != account_key("hubspot", "other")
    assert account_key("zendesk", "acme") != account_key("hubspot", "acme")


@pytest.mark.parametrize("headers, remaining, limit, window, reset", [
    ({"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "12"}, 12, 700, 60, None),
    ({"ratelimit-limit": "700", "ratelimit-remaining": "0", "ratelimit-reset": "17"}, 0, 700, 60, 17),
    ({"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Remaining": "3",
      "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}, 3, 190, 10, None),
    ({"Sforce-Limit-Info": "api-usage=25/15000"}, 14975, 15000, 86400, None),
    ({"X-RateLimit-Limit": "1200", "X-RateLimit-Remaining": "5"}, 5, 1200, 60, None),
])
def test_vendor_quota_headers(headers, remaining, limit, window, reset):
    quota = read_quota(headers)
    assert (quota.remaining, quota.limit, quota.window, quota.reset) == (remaining, limit, window, reset)
    assert read_quota({"Content-Type": "application/json"}) is None
    assert read_quota({"Sforce-Limit-Info": "garbage"}) is None


def test_guard_pauses_when_the_vendor_says_no_quota_is_left():
    guard = SystemGuard("zendesk", per_minute=700)
    fake = FakeClock(0.0)
    guard.budget.clock, guard.budget.sleep, guard.budget.updated = fake.clock, fake.sleep, 0.0
    guard.record(200, {"ratelimit-limit": "700", "ratelimit-remaining": "3", "ratelimit-reset": "20"})
    assert guard.budget.paused_until == 0.0
    guard.record(200, {"ratelimit-limit": "700", "ratelimit-remaining": "0", "ratelimit-reset": "20"})
    assert guard.budget.paused_until == pytest.approx(20.0)
    guard.record(429, {"Retry-After": "33"})
    assert guard.budget.paused_until == pytest.approx(33.0)
    guard.record(200, {"Sforce-Limit-Info": "api-usage=15000/15000"})  # a daily allocation: the connector's call
    assert guard.budget.paused_until == pytest.approx(33.0)
    assert guard.snapshot()["vendor_remaining"] == 0


def test_settings_choose_where_budgets_live():
    def settings(broker=None, url=None):
        return SimpleNamespace(broker=SimpleNamespace(url=broker),
                               rate_budget=SimpleNamespace(url=url, key_prefix="p", fallback_share=0.5))
    assert ratelimit.shared_url(settings()) is None
    assert ratelimit.shared_url(settings("redis://r:6379/1")) == "redis://r:6379/1"
    assert ratelimit.shared_url(settings("amqp://guest@r//")) is None
    assert ratelimit.shared_url(settings("amqp://guest@r//", "redis://x/2")) == "redis://x/2"
    try:
        ratelimit.configure(settings(url=REDIS_URL))
        assert isinstance(SystemGuard("zendesk", account="acme").budget, SharedRateBudget)
        ratelimit.configure(settings())
        assert isinstance(SystemGuard("zendesk", account="acme").budget, RateBudget)
    finally:
        ratelimit.configure(settings())


def test_rate_budget_settings_reject_a_non_redis_url(tmp_path):
    from hub.errors import ConfigError
    from hub.settings import load_settings
    (tmp_path / "hub.yaml").write_text("rate_budget: {url: 'amqp://guest@x//'}\n")
    with pytest.raises(ConfigError, match="rate_budget.url"):
        load_settings(tmp_path, env={})
    (tmp_path / "hub.yaml").write_text("rate_budget: {url: 'redis://127.0.0.1:6379/6', fallback_share: 0.5}\n")
    assert load_settings(tmp_path, env={}).rate_budget.fallback_share == 0.5


# -- Redis for real ------------------------------------------------------------------------------------------

@pytest.fixture
def store():
    require_service(6379, "Redis")
    store = RedisStore(REDIS_URL, prefix=f"test:{uuid.uuid4().hex[:8]}")
    yield store
    keys = list(store.client.scan_iter(f"{store.prefix}:*"))
    if keys:
        store.client.delete(*keys)


def test_redis_bucket_gives_a_burst_then_one_call_per_interval(store):
    key = account_key("zendesk", "acme", store.prefix)
    grants = [store.try_acquire(key, interval=30.0, tolerance=3 * 30.0) for _ in range(5)]
    assert [g[0] for g in grants] == [True, True, True, False, False]
    granted, wait, paused = grants[3]
    assert not paused and 29.0 < wait <= 30.0  # the next slot is one interval away, on Redis's clock


def test_two_processes_share_one_bucket(store):
    """Two budgets on one key (two processes of the hub) draw from the same burst."""
    key = account_key("zendesk", "acme", store.prefix)
    first = SharedRateBudget(store, key, limit=60, burst=4)
    second = SharedRateBudget(store, key, limit=60, burst=4)
    other = SharedRateBudget(store, account_key("zendesk", "globex", store.prefix), limit=60, burst=4)
    for budget in (first, second, first, second):
        budget.acquire(max_wait=0.5)
    with pytest.raises(RetryableError):
        first.acquire(max_wait=0.01)  # the burst of 4 is spent by the two of them together
    other.acquire(max_wait=0.01)  # another account has its own bucket


def test_a_429_pause_holds_every_process_and_the_bucket_restarts_empty(store):
    key = account_key("hubspot", "token", store.prefix)
    caller = SharedRateBudget(store, key, limit=600, burst=10)
    bystander = SharedRateBudget(store, key, limit=600, burst=10)
    caller.pause(30)
    granted, wait, paused = store.try_acquire(key, bystander.interval, bystander.tolerance)
    assert not granted and paused and 29.0 < wait <= 30.0
    with pytest.raises(RetryableError) as caught:
        bystander.acquire(max_wait=1.0)
    assert 29.0 < caught.value.retry_after <= 30.0 and bystander.paused_until > bystander.clock() + 28
    paused_left, backlog = store.state(key)
    assert 29.0 < paused_left <= 30.0 and backlog >= paused_left  # no burst saved up for after the pause
    snapshot = bystander.snapshot()
    assert snapshot["backend"] == "redis" and snapshot["paused_seconds"] > 29.0


def test_redis_bucket_keeps_every_window_under_the_limit(store):
    """Four threads greedy on one shared budget for five 0.5 s windows: Redis's grant times, counted by the
    sandbox's sliding window, never exceed the limit (a slower machine only spaces them more)."""
    import threading
    key = account_key("bank", "b", store.prefix)
    limit, window = 40, 0.5
    times: list[float] = []
    lock = threading.Lock()

    def worker(deadline_calls: int):
        budget = SharedRateBudget(store, key, limit=limit, window=window, burst=4)
        for _ in range(deadline_calls):
            budget.acquire(max_wait=5)
            secs, micros = store.client.time()
            with lock:
                times.append(secs + micros / 1e6)

    threads = [threading.Thread(target=worker, args=(45,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    times.sort()
    worst = max(sum(1 for t in times if start - window < t <= start) for start in times)
    # Redis's TIME read after the grant runs a little behind it; allow that spread one call.
    assert len(times) == 180 and worst <= limit


def test_redis_down_falls_back_to_a_local_share_logs_once_and_counts(caplog):
    fake = FakeClock()
    budget = SharedRateBudget(RedisStore(DEAD_REDIS, timeout=0.2), account_key("zendesk", "acme"), limit=600,
                              burst=20, fallback_share=0.25, clock=fake.clock, sleep=fake.sleep)
    with caplog.at_level(logging.WARNING, logger="hub.ratelimit"):
        for _ in range(8):
            budget.acquire()
        budget.pause(5)
        budget.acquire()
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1 and budget.fallbacks == 1 and budget.used == 9
    assert budget.fallback.rate == pytest.approx(sustained_rate(150, 5))  # a quarter of the limit, window-safe
    assert fake.now >= 1005  # the pause held the fallback too
    assert budget.snapshot()["backend"] == "fallback"


@pytest.fixture
def reset_budget_config():
    yield
    ratelimit.configure(SimpleNamespace(broker=SimpleNamespace(url=None), rate_budget=None))


ZENDESK = {"zendesk": {"subdomain": "acme", "email": "a@acme.test", "token": "t", "base_url": "http://127.0.0.1:9",
                       "per_minute": 700}}


def test_metrics_and_console_show_the_budget(make_hub, reset_budget_config):
    hub = make_hub({"connectors": ZENDESK})
    text = hub.metrics.render().decode()
    assert 'deskbridge_rate_budget_backend{backend="local",system="zendesk"} 1.0' in text
    assert 'deskbridge_rate_budget_limit_per_minute{system="zendesk"} 700.0' in text
    from hub.console.analytics import _guard_use
    assert _guard_use(hub.connectors["zendesk"])["budget_backend"] == "local"


def test_a_hub_with_redis_configured_shares_its_budgets(make_hub, reset_budget_config):
    require_service(6379, "Redis")
    prefix = f"test:{uuid.uuid4().hex[:8]}"
    hub = make_hub({"connectors": ZENDESK, "rate_budget": {"url": REDIS_URL, "key_prefix": prefix}})
    budget = hub.connectors["zendesk"].guard.budget
    try:
        assert isinstance(budget, SharedRateBudget) and budget.key == account_key("zendesk", "acme", prefix)
        budget.pause(20)
        text = hub.metrics.render().decode()
        assert 'deskbridge_rate_budget_backend{backend="redis",system="zendesk"} 1.0' in text
        paused = [line for line in text.splitlines() if line.startswith("deskbridge_rate_budget_paused_seconds")]
        assert paused and 18 < float(paused[0].split()[-1]) <= 20
    finally:
        budget.store.client.delete(*budget.store.keys(budget.key))
