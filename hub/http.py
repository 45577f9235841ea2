"""The one place for outbound-call policy: timeouts, the status → action table, rate budgets and breakers.

Every connector sends through a ``SystemGuard`` (one per vendor account, shared by sync, plugins and actions),
so the hub stays under a vendor's limit instead of bouncing off it, and a failing vendor is left alone while its
circuit is open.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pybreaker
import requests
from requests.adapters import HTTPAdapter

from hub import ratelimit
from hub.errors import AuthError, PermanentError, RetryableError
from hub.ratelimit import RateBudget  # noqa: F401  (re-exported: connectors and tests build their own)

T = TypeVar("T")
log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read
MAX_INLINE_WAIT = 65.0  # a longer pause goes back to the outbox as RetryableError(retry_after)
QUOTA_PAUSE = 1.0  # seconds, when a vendor says no quota is left but not when it frees up
MAX_QUOTA_PAUSE = 60.0

# status → what to do. Anything 5xx not listed is "retry"; anything 4xx not listed is "fail".
STATUS_ACTIONS: dict[int, str] = {
    400: "fail", 401: "auth", 403: "auth", 404: "fail", 405: "fail", 409: "fail", 410: "fail", 413: "fail",
    422: "fail", 408: "retry", 425: "retry", 429: "wait", 500: "retry", 502: "retry", 503: "wait", 504: "retry",
}


def action_for(status: int) -> str:
    if status in STATUS_ACTIONS:
        return STATUS_ACTIONS[status]
    if status >= 500:
        return "retry"
    if status >= 400:
        return "fail"
    return "ok"


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: an integer, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_for(system: str, status: int, message: str, retry_after: float | None = None) -> Exception | None:
    """The typed error for a response status, or None when it is a success."""
    action = action_for(status)
    text = f"{system} answered {status}: {message}"[:500]
    if action == "ok":
        return None
    if action in ("retry", "wait"):
        return RetryableError(text, retry_after=retry_after, status=status)
    if action == "auth":
        return AuthError(text, status=status)
    return PermanentError(text, status=status)


@dataclass
class GuardStats:
    calls: int = 0
    by_status: dict | None = None


class SystemGuard:
    """Rate budget + circuit breaker + metrics for one vendor account.

    ``per_minute`` is the vendor's limit for the account (``window`` seconds, 60 by default, may be given for a
    vendor that counts over another span); the budget keeps every window under it. ``account`` names the
    account (subdomain, instance, token…): with a shared budget (``rate_budget`` settings, see
    ``hub.ratelimit``) every process of the hub draws from the one bucket of that account; it is hashed into
    the key, never stored.
    """

    def __init__(self, system: str, per_minute: float = 600, burst: int | None = None, fail_max: int = 5,
                 reset_timeout: float = 30, metrics=None, account: str | None = None,
                 window: float = ratelimit.WINDOW):
        self.system = system
        self.per_minute = per_minute
        self.burst = burst or ratelimit.default_burst(per_minute)
        self.budget = ratelimit.make_budget(system, account, per_minute * window / 60.0, window, self.burst)
        self.breaker = pybreaker.CircuitBreaker(fail_max=fail_max, reset_timeout=reset_timeout,
                                                exclude=[lambda e: not isinstance(e, RetryableError)])
        self.metrics = metrics
        self.stats = GuardStats(by_status={})
        self.quota: ratelimit.VendorQuota | None = None  # the vendor's last word on the account's quota
        self.lock = threading.Lock()

    def record(self, status: int | str, headers=None) -> None:
        """Count one answer; ``headers`` (when given) let the vendor's remaining-quota signals steer the budget."""
        with self.lock:
            self.stats.calls += 1
            self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
        if self.metrics is not None:
            self.metrics.outbound_calls.labels(system=self.system, status=str(status)).inc()
        if headers is not None:
            self.observe(status, headers)

    def observe(self, status: int | str, headers) -> None:
        """Adapt to the vendor's own count: a 429 pauses the account for ``Retry-After`` (every process, when
        the budget is shared); an answer saying the quota left is 0 pauses it until the count resets (``reset``
        when the vendor sends one, else ``QUOTA_PAUSE``), so the next call is not spent learning that.

        Daily allocations (Salesforce's rolling 24 h, ``window`` over an hour) are only recorded: the connector
        knows how long to stand down for those.
        """
        if not hasattr(headers, "get"):
            return
        quota = ratelimit.read_quota(headers)
        if quota is not None:
            self.quota = quota
        if status == 429:
            self.budget.pause(parse_retry_after(headers.get("Retry-After")) or 1.0)
            return
        if quota is None or quota.remaining is None or quota.remaining > 0:
            return
        if quota.window is not None and quota.window > 3600:
            return
        pause = quota.reset if quota.reset and quota.reset > 0 else QUOTA_PAUSE
        log.info("%s: the vendor reports no quota left; pausing the account's budget %.1f s", self.system, pause)
        self.budget.pause(min(pause, MAX_QUOTA_PAUSE))

    def snapshot(self) -> dict:
        """The budget's state plus the vendor's last word on the quota (console, /metrics)."""
        state = self.budget.snapshot() if hasattr(self.budget, "snapshot") else {}
        if self.quota is not None:
            state["vendor_remaining"] = self.quota.remaining
            state["vendor_limit"] = self.quota.limit
        return state

    def call(self, fn: Callable[[], T], translate: Callable[[Exception], Exception | None] | None = None, *,
             retries: int = 0, retry_statuses: tuple[int, ...] = (429,), max_wait: float = MAX_INLINE_WAIT) -> T:
        """Run one remote call under the budget and breaker, turning failures into typed errors.

        ``translate`` maps an SDK's own exceptions to ``RetryableError``/``PermanentError`` (None = re-raise).
        ``retries``: a refusal with a status in ``retry_statuses`` (a rate limit: the vendor did not process the
        request, so re-sending is safe) is sent again up to that many times, each after the shared pause it
        started, unless the pause is longer than ``max_wait``.
        """
        for attempt in range(retries + 1):
            try:
                return self._call_once(fn, translate)
            except RetryableError as exc:
                wait = exc.retry_after or 1.0
                if exc.status not in retry_statuses or attempt == retries or wait > max_wait:
                    raise
                log.info("%s rate limited; waiting %.1f s under the shared budget", self.system, wait)
        raise AssertionError("unreachable")

    def _call_once(self, fn: Callable[[], T], translate: Callable[[Exception], Exception | None] | None) -> T:
        if self.breaker.current_state == pybreaker.STATE_OPEN:
            raise RetryableError(f"{self.system}: circuit open after repeated failures",
                                 retry_after=self.breaker.reset_timeout)
        self.budget.acquire()

        def guarded():
            try:
                return fn()
            except (RetryableError, PermanentError):
                raise
            except requests.exceptions.Timeout as exc:
                raise RetryableError(f"{self.system}: timed out ({type(exc).__name__})") from exc
            except requests.exceptions.ConnectionError as exc:
                raise RetryableError(f"{self.system}: connection failed ({type(exc).__name__})") from exc
            except Exception as exc:
                mapped = translate(exc) if translate else None
                if mapped is None:
                    raise
                raise mapped from exc
        try:
            return self.breaker.call(guarded)
        except RetryableError as exc:
            if exc.status == 429 or (exc.status == 503 and exc.retry_after):
                self.budget.pause(exc.retry_after or 1.0)
            raise
        except pybreaker.CircuitBreakerError as exc:
            raise RetryableError(f"{self.system}: circuit open after repeated failures",
                                 retry_after=self.breaker.reset_timeout) from exc


class TimeoutAdapter(HTTPAdapter):
    """Gives every request a timeout, counts it against the guard, and records its status."""

    def __init__(self, guard: SystemGuard | None = None, timeout=DEFAULT_TIMEOUT, **kwargs):
        self.guard = guard
        self.timeout = timeout
        super().__init__(**kwargs)

    def send(self, request, **kwargs):
        if not kwargs.get("timeout"):
            kwargs["timeout"] = self.timeout
        try:
            response = super().send(request, **kwargs)
        except requests.exceptions.RequestException:
            if self.guard:
                self.guard.record("error")
            raise
        if self.guard:
            self.guard.record(response.status_code, response.headers)  # 429 and quota-left-0 pause the budget
        return response


def session_for(guard: SystemGuard | None = None, timeout=DEFAULT_TIMEOUT, https_to_http: str | None = None
                ) -> requests.Session:
    """A requests session whose every call has a timeout and goes through ``guard``'s accounting.

    ``https_to_http``: a base URL whose https requests are sent over plain http (sandbox: simple-salesforce
    always builds https URLs).
    """
    session = requests.Session()
    session.trust_env = False
    adapter = TimeoutAdapter(guard, timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if https_to_http:
        session.mount(https_to_http.replace("http://", "https://"), _DowngradeAdapter(guard, timeout))
    return session


class _DowngradeAdapter(TimeoutAdapter):
    def send(self, request, **kwargs):
        if request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://"):]
        return super().send(request, **kwargs)
