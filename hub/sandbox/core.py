"""Sandbox framework: the ``Emulator`` base, and the ``Sandbox`` that routes, counts, limits and breaks requests.

Every request whose path starts with an emulator's prefix runs through one ``before_request`` pipeline:
system lookup by prefix -> stats -> authentication -> rate limit -> injected faults. Control endpoints live
under ``/_sandbox/`` (see ``hub.sandbox.control``) and bypass the pipeline.
"""

from __future__ import annotations

import abc

import heapq
import itertools
import json
import random
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import flask
import requests

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.seed import Dataset

FAULT_KINDS = ("429", "500", "503", "timeout", "reset")
DEFAULT_TIMEOUT_SECONDS = 30.0
WINDOW_SECONDS = 60.0
MAX_WEBHOOK_LOG = 5000


class Emulator(abc.ABC):
    """Base class of one emulated API. Subclasses set ``name``/``prefixes`` and implement every method."""

    name: str = ""
    prefixes: tuple[str, ...] = ()

    def __init__(self, sandbox: "Sandbox"):
        self.sandbox = sandbox

    def now(self) -> datetime:
        """The sandbox's (movable) clock."""
        return self.sandbox.now()

    @abc.abstractmethod
    def blueprint(self) -> flask.Blueprint:
        """See docs/architecture.md "Sandbox"."""

    @abc.abstractmethod
    def authenticate(self, request: flask.Request) -> bool:
        """See docs/architecture.md "Sandbox"."""

    @abc.abstractmethod
    def unauthorized(self) -> flask.Response:
        """See docs/architecture.md "Sandbox"."""

    @abc.abstractmethod
    def rate_limited(self, retry_after: int) -> flask.Response:
        """See docs/architecture.md "Sandbox"."""

    @abc.abstractmethod
    def server_error(self, status: int) -> flask.Response:
        """See docs/architecture.md "Sandbox"."""

    @abc.abstractmethod
    def rate_headers(self, limit: int, remaining: int) -> dict:
        """See docs/architecture.md "Sandbox"."""

    @abc.abstractmethod
    def reset(self) -> None:
        """See docs/architecture.md "Sandbox"."""

    @abc.abstractmethod
    def seed(self, dataset: "Dataset") -> None:
        """See docs/architecture.md "Sandbox"."""


class SandboxRequestError(ValueError):
    """A control request with a bad body; answered with 400 and this message."""


@dataclass
class FaultPlan:
    """Injected failures for one system: each request fails with probability ``rate``."""

    rate: float
    kinds: tuple[str, ...]
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    retry_after: int = 1
    rng: random.Random = field(default_factory=random.Random)
    injected: Counter = field(default_factory=Counter)

    def pick(self) -> str | None:
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.kinds)
        self.injected[kind] += 1
        return kind

    def describe(self) -> dict:
        return {"rate": self.rate, "kinds": list(self.kinds), "timeout_seconds": self.timeout_seconds,
                "retry_after": self.retry_after, "injected": dict(self.injected)}


class SlidingWindowLimit:
    """At most ``per_minute`` accepted requests in any 60-second window of the sandbox clock."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._hits: deque[float] = deque()
        self.rejected = 0

    def _expire(self, now: float) -> None:
        while self._hits and self._hits[0] <= now - WINDOW_SECONDS:
            self._hits.popleft()

    def hit(self, now: float) -> tuple[bool, int, int]:
        """Record a request at ``now``: ``(allowed, remaining, retry_after_seconds)``."""
        self._expire(now)
        if len(self._hits) >= self.per_minute:
            self.rejected += 1
            wait = self._hits[0] + WINDOW_SECONDS - now
            return False, 0, max(1, int(wait + 0.999))
        self._hits.append(now)
        return True, self.per_minute - len(self._hits), 0

    def describe(self, now: float) -> dict:
        self._expire(now)
        return {"per_minute": self.per_minute, "used": len(self._hits), "rejected": self.rejected}


@dataclass
class Delivery:
    """One outgoing webhook and what became of it (shown by ``GET /_sandbox/webhooks``)."""

    id: str
    url: str | None
    event_type: str | None
    body: bytes
    headers: dict
    created_at: datetime
    attempts: int = 0
    status: int | None = None
    state: str = "pending"  # pending | delivered | failed | no_target
    last_error: str | None = None
    delivered_at: datetime | None = None

    def describe(self) -> dict:
        return {"id": self.id, "url": self.url, "event_type": self.event_type, "state": self.state,
                "status": self.status, "attempts": self.attempts, "last_error": self.last_error,
                "created_at": self.created_at.isoformat(),
                "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
                "headers": dict(self.headers), "body": self.body.decode("utf-8", "replace")}


class WebhookDispatcher:
    """Delivers outgoing webhooks from a few background threads, retrying with fixed delays."""

    def __init__(self, retry_delays: tuple[float, ...], max_attempts: int, timeout: float, workers: int = 4):
        self.retry_delays = retry_delays
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.log: list[Delivery] = []
        self._queue: list[tuple[float, int, Delivery, int]] = []
        self._seq = itertools.count()
        self._generation = 0  # bumped by clear() so deliveries queued before a reset are dropped
        self._cond = threading.Condition()
        self._closed = False
        self._session = requests.Session()
        self._session.trust_env = False
        self._workers = workers
        self._threads: list[threading.Thread] = []  # started by the first delivery, so idle apps cost nothing

    def submit(self, url: str | None, body: bytes, headers: dict, event_type: str | None = None) -> str:
        if event_type is None:
            event_type = _event_type_of(body)
        delivery = Delivery(id=f"whd_{next(self._seq):06d}", url=url, event_type=event_type, body=body,
                            headers=dict(headers), created_at=datetime.now(timezone.utc))
        with self._cond:
            self.log.append(delivery)
            if len(self.log) > MAX_WEBHOOK_LOG:
                # Bound memory in long demo runs; queued deliveries keep their own reference.
                del self.log[: len(self.log) - MAX_WEBHOOK_LOG]
            if url is None:
                delivery.state = "no_target"
                return delivery.id
            if not self._threads and not self._closed:
                self._threads = [threading.Thread(target=self._work, name=f"sandbox-webhooks-{i}", daemon=True)
                                 for i in range(self._workers)]
                for thread in self._threads:
                    thread.start()
            heapq.heappush(self._queue, (time.monotonic(), next(self._seq), delivery, self._generation))
            self._cond.notify()
        return delivery.id

    def entries(self) -> list[dict]:
        with self._cond:
            return [delivery.describe() for delivery in self.log]

    def clear(self) -> None:
        with self._cond:
            self.log.clear()
            self._queue.clear()
            self._generation += 1

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 1)

    def _next(self) -> tuple[Delivery, int] | None:
        with self._cond:
            while not self._closed:
                if self._queue:
                    due, _, delivery, generation = self._queue[0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._queue)
                        return delivery, generation
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _work(self) -> None:
        while (item := self._next()) is not None:
            delivery, generation = item
            try:
                response = self._session.post(delivery.url, data=delivery.body, headers=delivery.headers,
                                              timeout=self.timeout)
                status, error = response.status_code, None
            except requests.RequestException as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"[:300]
            with self._cond:
                if generation != self._generation:
                    continue
                delivery.attempts += 1
                delivery.status, delivery.last_error = status, error
                if status is not None and 200 <= status < 300:
                    delivery.state = "delivered"
                    delivery.delivered_at = datetime.now(timezone.utc)
                elif delivery.attempts >= self.max_attempts:
                    delivery.state = "failed"
                else:
                    delay = self.retry_delays[min(delivery.attempts - 1, len(self.retry_delays) - 1)]
                    heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), delivery, generation))
                    self._cond.notify()


def _event_type_of(body: bytes) -> str | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if isinstance(parsed, dict):
        value = parsed.get("type")
        return value if isinstance(value, str) else None
    return None


class Sandbox:
    """State shared by all emulators of one sandbox app (``app.extensions["sandbox"]``)."""

    def __init__(self, webhook_target: str | None = None, retry_delays: tuple[float, ...] = (1, 5, 30, 30),
                 max_attempts: int = 5, delivery_timeout: float = 5.0):
        self.webhook_target = webhook_target
        self.emulators: dict[str, Emulator] = {}
        self.lock = threading.RLock()
        self._offset = timedelta(0)
        self._stats: dict[str, Counter] = {}
        self._stats_lock = threading.Lock()
        self.faults: dict[str, FaultPlan] = {}
        self.limits: dict[str, SlidingWindowLimit] = {}
        self.dataset: Dataset | None = None
        self.webhooks = WebhookDispatcher(retry_delays=retry_delays, max_attempts=max_attempts,
                                          timeout=delivery_timeout)

    # -- clock -------------------------------------------------------------------------------------------
    def now(self) -> datetime:
        """Real UTC now plus the offset moved by ``POST /_sandbox/clock``."""
        return datetime.now(timezone.utc) + self._offset

    def advance_clock(self, seconds: float) -> datetime:
        self._offset += timedelta(seconds=seconds)
        return self.now()

    def set_clock(self, when: datetime) -> datetime:
        self._offset = when.astimezone(timezone.utc) - datetime.now(timezone.utc)
        return self.now()

    @property
    def clock_offset_seconds(self) -> float:
        return self._offset.total_seconds()

    # -- emulators ---------------------------------------------------------------------------------------
    def register(self, app: flask.Flask, emulator_cls: type[Emulator]) -> Emulator:
        emulator = emulator_cls(self)
        if not emulator.name or not emulator.prefixes:
            raise ValueError(f"{emulator_cls.__name__} must set name and prefixes")
        self.emulators[emulator.name] = emulator
        app.register_blueprint(emulator.blueprint())
        return emulator

    def emulator_for(self, path: str) -> Emulator | None:
        for emulator in self.emulators.values():
            if any(path.startswith(prefix) for prefix in emulator.prefixes):
                return emulator
        return None

    def require_system(self, name: object) -> str:
        if not isinstance(name, str) or name not in self.emulators:
            known = ", ".join(sorted(self.emulators))
            raise SandboxRequestError(f"unknown system {name!r}; known: {known}")
        return name

    def reset(self) -> None:
        """Every emulator back to empty; stats, faults, limits, clock offset and webhook log cleared."""
        with self.lock:
            for emulator in self.emulators.values():
                emulator.reset()
            self.dataset = None
        with self._stats_lock:
            self._stats.clear()
        self.faults.clear()
        self.limits.clear()
        self._offset = timedelta(0)
        self.webhooks.clear()

    def seed(self, seed: int = 7) -> dict:
        """Reset, then load ``build_dataset(seed)`` into every emulator. Returns what was loaded."""
        from hub.sandbox.seed import build_dataset

        self.reset()
        dataset = build_dataset(seed, anchor=self.now().replace(hour=0, minute=0, second=0, microsecond=0))
        with self.lock:
            for emulator in self.emulators.values():
                emulator.seed(dataset)
            self.dataset = dataset
        return dataset.counts() | {"systems": sorted(self.emulators)}

    # -- stats -------------------------------------------------------------------------------------------
    def count(self, system: str, route: str) -> None:
        with self._stats_lock:
            self._stats.setdefault(system, Counter())[route] += 1

    def stats(self) -> dict:
        with self._stats_lock:
            snapshot = {name: Counter(counter) for name, counter in self._stats.items()}
        out = {}
        for name in self.emulators:
            counter = snapshot.get(name, Counter())
            out[name] = {"total": sum(counter.values()), "by_route": dict(sorted(counter.items()))}
        return out

    # -- faults and limits --------------------------------------------------------------------------------
    def set_faults(self, system: str, rate: float, kinds: list[str], seed: int | None = None,
                   timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, retry_after: int = 1) -> FaultPlan:
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise SandboxRequestError("rate must be a number between 0 and 1")
        if not kinds or any(kind not in FAULT_KINDS for kind in kinds):
            raise SandboxRequestError(f"kinds must be a non-empty list of {', '.join(FAULT_KINDS)}")
        if not isinstance(timeout_seconds, (int, float)) or timeout_seconds < 0:
            raise SandboxRequestError("timeout_seconds must be a number >= 0")
        plan = FaultPlan(rate=float(rate), kinds=tuple(kinds), timeout_seconds=float(timeout_seconds),
                         retry_after=int(retry_after), rng=random.Random(seed))
        self.faults[system] = plan
        return plan

    def set_limit(self, system: str, per_minute: int) -> SlidingWindowLimit:
        if not isinstance(per_minute, int) or isinstance(per_minute, bool) or per_minute < 1:
            raise SandboxRequestError("per_minute must be a positive integer")
        limit = SlidingWindowLimit(per_minute)
        self.limits[system] = limit
        return limit

    # -- outgoing webhooks --------------------------------------------------------------------------------
    def emit(self, url: str | None, body: bytes, headers: dict, event_type: str | None = None) -> str:
        """Queue one outgoing webhook (retried 1 s, 5 s, 30 s…, 5 attempts); returns its delivery id."""
        return self.webhooks.submit(url, body, headers, event_type=event_type)

    def close(self) -> None:
        self.webhooks.close()

    # -- request pipeline ----------------------------------------------------------------------------------
    def init_app(self, app: flask.Flask) -> None:
        app.extensions["sandbox"] = self
        app.before_request(self._before_request)
        app.after_request(self._after_request)

    def _before_request(self) -> flask.Response | None:
        request = flask.request
        emulator = self.emulator_for(request.path)
        if emulator is None:
            return None
        flask.g.sandbox_system = emulator.name
        rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        self.count(emulator.name, f"{request.method} {rule}")
        if not emulator.authenticate(request):
            return emulator.unauthorized()
        limit = self.limits.get(emulator.name)
        if limit is not None:
            with self._stats_lock:
                allowed, remaining, retry_after = limit.hit(self.now().timestamp())
            flask.g.sandbox_limit = (limit.per_minute, remaining)
            if not allowed:
                return emulator.rate_limited(retry_after)
        plan = self.faults.get(emulator.name)
        if plan is not None:
            with self._stats_lock:
                kind = plan.pick()
            if kind is not None:
                return self._inject(emulator, plan, kind)
        return None

    def _inject(self, emulator: Emulator, plan: FaultPlan, kind: str) -> flask.Response:
        if kind == "429":
            return emulator.rate_limited(plan.retry_after)
        if kind in ("500", "503"):
            return emulator.server_error(int(kind))
        if kind == "timeout":
            time.sleep(plan.timeout_seconds)
            return emulator.server_error(504)
        return _drop_connection(emulator)

    def _after_request(self, response: flask.Response) -> flask.Response:
        system = flask.g.get("sandbox_system")
        limit = flask.g.get("sandbox_limit")
        if system is not None and limit is not None:
            for name, value in self.emulators[system].rate_headers(*limit).items():
                response.headers.setdefault(name, str(value))
        return response


def _drop_connection(emulator: Emulator) -> flask.Response:
    """Close the client's TCP connection without an answer (the ``reset`` fault)."""
    sock = flask.request.environ.get("werkzeug.socket")
    if sock is None:
        # Another WSGI server gives us no socket; the nearest observable failure is a gateway error.
        return emulator.server_error(502)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    # The server's write of this response hits the closed socket and is dropped as a lost connection.
    return flask.Response(b"", status=502, headers={"Connection": "close"})
