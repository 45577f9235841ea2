"""Rate budgets per vendor account: in this process, or shared by every process of the hub through Redis.

A vendor counts every call of an account against one limit (``limit`` calls in any ``window`` seconds), whoever
makes it: sync, plugins, actions, the web role, three workers. So the hub keeps one budget per account:

- embedded (one process, the default): ``RateBudget``, a token bucket in memory; no service needed.
- scale-out (``rate_budget.url``, or a ``redis://`` broker URL): ``SharedRateBudget``, a GCRA bucket in Redis,
  one key per account, taken and paused by atomic Lua scripts on Redis's own clock (no skew between hosts).
  A 429 pauses the account for every process. If Redis cannot be reached, each process falls back to a
  conservative share of the budget (``rate_budget.fallback_share``), logs once, counts it, and tries Redis
  again a few seconds later.

Both buckets are *window-safe*: they refill at ``(limit - burst - margin) / window`` so that even a full burst
after an idle spell leaves every window of the vendor's sliding (or fixed) count under ``limit``; the hub stays
under the limit instead of bouncing off it. Keys carry the system and a hash of the account identity (Zendesk
subdomain, Salesforce instance, HubSpot token…), never the identity itself.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.errors import RetryableError

log = logging.getLogger(__name__)
WINDOW = 60.0
REDIS_RETRY_SECONDS = 5.0  # after a Redis failure, the fallback share is used this long before Redis is tried
REDIS_TIMEOUT = 0.5  # seconds: an unreachable Redis must not stall a vendor call for long
DEFAULT_PREFIX = "deskbridge:rate"
DEFAULT_FALLBACK_SHARE = 0.25
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")  # URLs a shared budget (or a broker) can be in Redis at


def margin_for(limit: float) -> int:
    """Calls kept in reserve per window: covers network jitter between the hub's grant and the vendor's count."""
    return max(1, int(limit * 0.02))


def sustained_rate(limit: float, burst: float, window: float = WINDOW) -> float:
    """Calls per second that keep any ``window`` at most ``limit - margin`` although ``burst`` may go at once.

    A bucket of capacity ``b`` refilling at ``r`` admits at most ``b + r·window`` calls in a window; solving for
    ``r`` gives ``(limit - b - margin) / window``. (For absurdly small limits the floor is half the limit.)
    """
    usable = max(limit - burst - margin_for(limit), limit / 2.0, 1e-9)
    return usable / window


def default_burst(limit: float, window: float = WINDOW) -> int:
    """Two seconds' worth of calls, at least one: small, so the window-safe rate loses little."""
    return max(1, int(limit / window * 2))


def account_key(system: str, account: str | None, prefix: str = DEFAULT_PREFIX) -> str:
    """``prefix:system:hash`` — the account identity is hashed, so a token or URL never lands in Redis."""
    digest = hashlib.sha256((account or "default").encode()).hexdigest()[:16]
    return f"{prefix}:{system}:{digest}"


class RateBudget:
    """A token bucket in this process; a 429 pauses every caller until ``Retry-After`` has passed."""

    backend = "local"

    def __init__(self, per_second: float, burst: int | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate = per_second
        self.capacity = float(burst or max(1, int(per_second)))
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()
        self.paused_until = 0.0
        self.lock = threading.Lock()
        self.used = 0
        self.waited = 0.0
        self.limit: float | None = None  # the vendor's limit this bucket keeps under (per ``window``), if known
        self.window = WINDOW

    def configure(self, limit: float, window: float, burst: int) -> None:
        """Keep under ``limit`` calls per ``window`` seconds (window-safe rate, burst ``burst``)."""
        with self.lock:
            self._refill(self.clock())
            self.limit, self.window = float(limit), float(window)
            self.rate = sustained_rate(limit, burst, window)
            self.capacity = float(burst)
            self.tokens = min(self.tokens, self.capacity)

    def _refill(self, now: float) -> None:
        if now <= self.updated:  # still inside a pause (``updated`` is its end): nothing accrues
            return
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def acquire(self, max_wait: float = 120.0) -> None:
        """Block until a call may be made; raise ``RetryableError`` if that would take over ``max_wait``."""
        waited = 0.0
        while True:
            with self.lock:
                now = self.clock()
                self._refill(now)
                wait = max(self.paused_until - now, 0.0)
                if wait == 0 and self.tokens >= 1 - 1e-9:  # float dust must not stall a fake clock
                    self.tokens = max(self.tokens - 1, 0.0)
                    self.used += 1
                    self.waited += waited
                    return
                if wait == 0:
                    wait = max((1 - self.tokens) / self.rate, 1e-6)
            if waited + wait > max_wait:
                raise RetryableError("rate budget exhausted", retry_after=wait)
            self.sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        with self.lock:
            now = self.clock()
            self._refill(now)
            self.paused_until = max(self.paused_until, now + seconds)
            self.tokens = 0
            self.updated = max(self.updated, self.paused_until)  # nothing accrues while paused: no burst after

    def snapshot(self) -> dict:
        """What the console and /metrics show: use of the bucket, pause left, backend."""
        with self.lock:
            now = self.clock()
            self._refill(now)
            use = 1 - self.tokens / self.capacity if self.capacity else 0.0
            paused = max(self.paused_until - now, 0.0)
        per_minute = self.limit * 60.0 / self.window if self.limit else self.rate * 60.0
        return {"backend": self.backend, "per_minute": per_minute, "use_pct": round(max(use, 0.0) * 100, 1),
                "paused_seconds": paused, "used": self.used, "waited_seconds": self.waited, "fallbacks": 0}


# -- Redis ---------------------------------------------------------------------------------------------------

# GCRA on Redis's clock, in microseconds. KEYS[1]: theoretical arrival time; KEYS[2]: paused-until.
# ARGV[1]: emission interval; ARGV[2]: tolerance (burst × interval). Returns {granted, wait_us, paused}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {0, paused - now, 1} end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allow_at = tat + interval - tolerance
if allow_at > now then return {0, allow_at - now, 0} end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, 0, 0}
"""

# Pause every process: paused-until = max(current, now + ARGV[1]); the bucket restarts empty after the pause
# (first call at the end of the pause, then one per interval: no burst into a vendor that just refused us).
# ARGV[2]: emission interval; ARGV[3]: tolerance. Returns the pause left in microseconds.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local target = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if target > current then
  redis.call('SET', KEYS[2], string.format('%d', target), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
  current = target
end
local floor = current + tonumber(ARGV[3]) - tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if floor > tat then
  redis.call('SET', KEYS[1], string.format('%d', floor), 'PX', math.ceil((floor - now) / 1000) + 1000)
end
return current - now
"""


class RedisStore:
    """One Redis connection pool per process (redis-py re-creates it after a fork) and the two scripts."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX, timeout: float = REDIS_TIMEOUT):
        import redis

        self.url = url
        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._acquire = self.client.register_script(_ACQUIRE)
        self._pause = self.client.register_script(_PAUSE)

    def keys(self, key: str) -> list[str]:
        return [f"{key}:tat", f"{key}:paused"]

    def try_acquire(self, key: str, interval: float, tolerance: float) -> tuple[bool, float, bool]:
        """``(granted, wait_seconds, paused)`` for one call; atomic across every process."""
        granted, wait_us, paused = self._acquire(keys=self.keys(key),
                                                 args=[_micros(interval), _micros(tolerance)])
        return bool(granted), int(wait_us) / 1e6, bool(paused)

    def pause(self, key: str, seconds: float, interval: float, tolerance: float) -> float:
        left = self._pause(keys=self.keys(key), args=[_micros(seconds), _micros(interval), _micros(tolerance)])
        return max(int(left), 0) / 1e6

    def state(self, key: str) -> tuple[float, float]:
        """``(paused_seconds, backlog_seconds)`` of the account on Redis's clock: the pause left, and how far
        the bucket's theoretical arrival time runs ahead of now (0 = full burst available)."""
        pipe = self.client.pipeline(transaction=False)
        tat_key, pause_key = self.keys(key)
        pipe.get(pause_key)
        pipe.get(tat_key)
        pipe.time()
        paused, tat, (secs, micros) = pipe.execute()
        now = int(secs) * 1_000_000 + int(micros)
        return (max(int(paused or 0) - now, 0) / 1e6, max(int(tat or 0) - now, 0) / 1e6)


def _micros(seconds: float) -> int:
    return max(int(math.ceil(seconds * 1e6)), 0)


class SharedRateBudget:
    """The account's budget in Redis, shared by every process; a local share of it while Redis is away.

    Same surface as ``RateBudget`` (``acquire``, ``pause``, ``paused_until``, ``clock``, ``rate``, ``capacity``,
    ``snapshot``), so connectors and the console do not care which one they hold.
    """

    backend = "redis"

    def __init__(self, store: RedisStore, key: str, limit: float, window: float = WINDOW,
                 burst: int | None = None, fallback_share: float = DEFAULT_FALLBACK_SHARE,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.store = store
        self.key = key
        self.clock = clock
        self.sleep = sleep
        self.fallback_share = fallback_share
        self.fallback = RateBudget(1.0, 1, clock=clock, sleep=sleep)
        self.lock = threading.Lock()
        self.paused_until = 0.0  # local clock; what this process learnt of the shared pause
        self.used = 0
        self.waited = 0.0
        self.fallbacks = 0  # outages seen (each logged once)
        self.down_until: float | None = None  # while set, Redis is not asked before this time
        self.configure(limit, window, burst or default_burst(limit, window))

    # -- parameters ----------------------------------------------------------------------------------------
    def configure(self, limit: float, window: float, burst: int) -> None:
        self.limit, self.window, self.burst = float(limit), float(window), int(burst)
        self.rate = sustained_rate(limit, burst, window)
        self.capacity = float(burst)
        self.interval = 1.0 / self.rate
        self.tolerance = self.burst * self.interval
        share = max(limit * self.fallback_share, 1.0)
        self.fallback.configure(share, window, max(1, int(burst * self.fallback_share)))

    @property
    def degraded(self) -> bool:
        return self.down_until is not None

    def _redis_usable(self) -> bool:
        if self.down_until is None:
            return True
        return self.clock() >= self.down_until

    def _failed(self, exc: Exception) -> None:
        with self.lock:
            first = self.down_until is None
            self.down_until = self.clock() + REDIS_RETRY_SECONDS
            if first:
                self.fallbacks += 1
        if first:
            log.warning("rate budget %s: Redis unreachable (%s); this process uses %d%% of the budget until it "
                        "is back", self.key, type(exc).__name__, round(self.fallback_share * 100))

    def _recovered(self) -> None:
        if self.down_until is not None:
            with self.lock:
                self.down_until = None
            log.info("rate budget %s: Redis is back; the budget is shared again", self.key)

    # -- the budget ----------------------------------------------------------------------------------------
    def acquire(self, max_wait: float = 120.0) -> None:
        import redis

        waited = 0.0
        while True:
            if not self._redis_usable():
                self.fallback.acquire(max(max_wait - waited, 0.0))
                self._count(waited)
                return
            try:
                granted, wait, paused = self.store.try_acquire(self.key, self.interval, self.tolerance)
            except redis.RedisError as exc:
                self._failed(exc)
                continue
            self._recovered()
            if granted:
                self._count(waited)
                return
            if paused:
                self.paused_until = max(self.paused_until, self.clock() + wait)
            if waited + wait > max_wait:
                raise RetryableError("rate budget exhausted", retry_after=wait)
            self.sleep(wait)
            waited += wait

    def _count(self, waited: float) -> None:
        with self.lock:
            self.used += 1
            self.waited += waited

    def pause(self, seconds: float) -> None:
        """Pause the account for every process (and this one's fallback, should Redis be away)."""
        import redis

        self.paused_until = max(self.paused_until, self.clock() + seconds)
        self.fallback.pause(seconds)
        if not self._redis_usable():
            return
        try:
            self.store.pause(self.key, seconds, self.interval, self.tolerance)
        except redis.RedisError as exc:
            self._failed(exc)
        else:
            self._recovered()

    def snapshot(self) -> dict:
        import redis

        backend, paused, use = self.backend, max(self.paused_until - self.clock(), 0.0), None
        if self.degraded:
            backend = "fallback"
        else:
            try:
                paused, backlog = self.store.state(self.key)
                use = round(min(backlog / self.tolerance, 1.0) * 100, 1) if self.tolerance else None
            except redis.RedisError:
                backend = "fallback"
        return {"backend": backend, "per_minute": self.limit * 60.0 / self.window, "use_pct": use,
                "paused_seconds": paused, "used": self.used, "waited_seconds": self.waited,
                "fallbacks": self.fallbacks}


# -- process-wide configuration (set once per Hub, before its connectors build their guards) -------------------

@dataclass(frozen=True)
class BudgetConfig:
    url: str | None = None
    prefix: str = DEFAULT_PREFIX
    fallback_share: float = DEFAULT_FALLBACK_SHARE


_config = BudgetConfig()
_stores: dict[tuple[str, str], RedisStore] = {}
_stores_lock = threading.Lock()


def shared_url(settings) -> str | None:
    """Where budgets are shared: ``rate_budget.url``, else a ``redis://`` broker; None = this process only."""
    block = getattr(settings, "rate_budget", None)
    url = getattr(block, "url", None)
    if url:
        return url
    broker = getattr(getattr(settings, "broker", None), "url", None) or ""
    if broker.startswith(REDIS_SCHEMES):
        return broker
    return None


def configure(settings) -> BudgetConfig:
    """Choose where this process's budgets live (called by ``Hub`` before connectors are registered)."""
    global _config
    block = getattr(settings, "rate_budget", None)
    url = shared_url(settings)
    broker = getattr(getattr(settings, "broker", None), "url", None)
    if url is None and broker:
        log.warning("rate budgets are per process: the broker is not Redis and rate_budget.url is not set, so "
                    "several hub processes together may exceed a vendor's limit")
    _config = BudgetConfig(url=url, prefix=getattr(block, "key_prefix", DEFAULT_PREFIX) or DEFAULT_PREFIX,
                           fallback_share=getattr(block, "fallback_share", DEFAULT_FALLBACK_SHARE))
    return _config


def _store(url: str, prefix: str) -> RedisStore:
    with _stores_lock:
        store = _stores.get((url, prefix))
        if store is None:
            store = _stores[(url, prefix)] = RedisStore(url, prefix)
        return store


def make_budget(system: str, account: str | None, limit: float, window: float = WINDOW,
                burst: int | None = None, config: BudgetConfig | None = None):
    """The budget a ``SystemGuard`` uses: shared in Redis when configured, else in this process."""
    config = config or _config
    burst = burst or default_burst(limit, window)
    if config.url:
        return SharedRateBudget(_store(config.url, config.prefix), account_key(system, account, config.prefix),
                                limit, window, burst, fallback_share=config.fallback_share)
    budget = RateBudget(1.0, burst)
    budget.configure(limit, window, burst)
    return budget


# -- vendor signals --------------------------------------------------------------------------------------------

@dataclass
class VendorQuota:
    """What a vendor's answer says of the account's quota (any field may be unknown)."""

    remaining: float | None = None
    limit: float | None = None
    window: float | None = None  # seconds the limit is counted over
    reset: float | None = None  # seconds until the count frees up


def _num(headers, *names: str) -> float | None:
    for name in names:
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(str(value).strip())
        except ValueError:
            continue
    return None


def read_quota(headers) -> VendorQuota | None:
    """Remaining-quota headers of Zendesk, HubSpot, Salesforce and the bank API; None when there are none."""
    if headers is None or not hasattr(headers, "get"):
        return None
    usage = headers.get("Sforce-Limit-Info")
    if usage:  # "api-usage=25/15000": a rolling 24 h allocation
        for part in str(usage).split(","):
            name, _, value = part.strip().partition("=")
            used, _, total = value.partition("/")
            if name == "api-usage" and used.strip().isdigit() and total.strip().isdigit():
                return VendorQuota(remaining=float(int(total) - int(used)), limit=float(total), window=86400.0)
        return None
    remaining = _num(headers, "X-HubSpot-RateLimit-Remaining")
    if remaining is not None:
        interval = _num(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        return VendorQuota(remaining=remaining, limit=_num(headers, "X-HubSpot-RateLimit-Max"),
                           window=interval / 1000.0 if interval else None)
    remaining = _num(headers, "ratelimit-remaining", "X-Rate-Limit-Remaining", "X-RateLimit-Remaining")
    if remaining is None:
        return None
    # Zendesk and the bank count per minute; ratelimit-reset is the seconds until the count resets.
    return VendorQuota(remaining=remaining, limit=_num(headers, "ratelimit-limit", "X-Rate-Limit", "X-RateLimit-Limit"),
                       window=WINDOW, reset=_num(headers, "ratelimit-reset"))


# -- /metrics --------------------------------------------------------------------------------------------------

class BudgetCollector:
    """Per connector at scrape time: where its budget lives, the limit, pause left, waits, fallbacks and the
    vendor's last reported remaining quota."""

    def __init__(self, hub):
        self.hub = hub

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        backend = GaugeMetricFamily("deskbridge_rate_budget_backend",
                                    "1 for where a system's rate budget lives (local, redis, fallback)",
                                    labels=["system", "backend"])
        limit = GaugeMetricFamily("deskbridge_rate_budget_limit_per_minute",
                                  "The vendor limit a system's budget keeps under", labels=["system"])
        paused = GaugeMetricFamily("deskbridge_rate_budget_paused_seconds",
                                   "Seconds left of the account's pause (429 or quota spent)", labels=["system"])
        used = CounterMetricFamily("deskbridge_rate_budget_calls", "Calls let through by this process's budget",
                                   labels=["system"])
        waited = CounterMetricFamily("deskbridge_rate_budget_wait_seconds",
                                     "Time this process's callers waited for the budget", labels=["system"])
        fallbacks = CounterMetricFamily("deskbridge_rate_budget_fallbacks",
                                        "Times this process lost Redis and fell back to its local share",
                                        labels=["system"])
        remaining = GaugeMetricFamily("deskbridge_rate_budget_vendor_remaining",
                                      "The vendor's last reported remaining quota", labels=["system"])
        for name, connector in sorted(getattr(self.hub, "connectors", {}).items()):
            guard = getattr(connector, "guard", None)
            if guard is None or not hasattr(guard, "snapshot"):
                continue
            try:
                state = guard.snapshot()
            except Exception:  # a scrape never fails because of one budget
                continue
            if not state:
                continue
            backend.add_metric([name, str(state.get("backend"))], 1)
            limit.add_metric([name], state.get("per_minute") or 0)
            paused.add_metric([name], state.get("paused_seconds") or 0)
            used.add_metric([name], state.get("used") or 0)
            waited.add_metric([name], state.get("waited_seconds") or 0)
            fallbacks.add_metric([name], state.get("fallbacks") or 0)
            if state.get("vendor_remaining") is not None:
                remaining.add_metric([name], state["vendor_remaining"])
        yield from (backend, limit, paused, used, waited, fallbacks, remaining)
