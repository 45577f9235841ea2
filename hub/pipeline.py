"""The pipeline: the only place hooks are called in order.

Inbox event → ``enrich_event`` (may read remote systems, outside the write transaction) → one transaction with
``on_event`` (state changes and outbox actions) and the "processed" mark → outbox actions executed by connectors
with retries, backoff honouring ``Retry-After``, and a dead-letter store.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from hub import clock, wakeups
from hub.batching import in_chunks
from hub.db import DeadLetter, InboxEvent, OutboxAction, PluginState, dumps
from hub.logs import mask_pans, mask_pans_deep
from hub.errors import DeskbridgeError, PermanentError, RetryableError
from hub.plugins import call_chain

log = logging.getLogger(__name__)


@dataclass
class Event:
    id: int
    source: str
    event_id: str
    type: str
    payload: dict
    received_at: datetime
    attempts: int = 0
    enrichment: dict = field(default_factory=dict)

    @property
    def data(self) -> dict:
        data = self.payload.get("data") if isinstance(self.payload, dict) else None
        return data if isinstance(data, dict) else self.payload


@dataclass
class Action:
    id: int
    key: str
    system: str
    operation: str
    payload: dict
    attempts: int
    origin: str | None = None
    inbox_id: int | None = None


class ActionRefused(DeskbridgeError):
    """A ``decide_action_allowed`` implementation refused an action."""


class StateStore:
    """A plugin's JSON key-value store, written in the surrounding transaction."""

    def __init__(self, session: Session, plugin: str):
        self._session = session
        self._plugin = plugin

    def get(self, key: str, default: Any = None) -> Any:
        row = self._session.get(PluginState, (self._plugin, key))
        return json.loads(row.value) if row else default

    def set(self, key: str, value: Any) -> None:
        value = mask_pans_deep(value)  # the core never stores a full card number, whatever a plugin hands it
        row = self._session.get(PluginState, (self._plugin, key))
        if row is None:
            self._session.add(PluginState(plugin=self._plugin, key=key, value=dumps(value), updated_at=clock.now()))
        else:
            row.value = dumps(value)
            row.updated_at = clock.now()

    def lock(self, key: str) -> None:
        """Hold ``key``'s row until commit, so a job and a worker never interleave on it.

        Only needed on PostgreSQL: SQLite transactions start with ``BEGIN IMMEDIATE`` and are already exclusive.
        """
        if self._session.bind.dialect.name == "sqlite":
            return
        self._session.execute(
            select(PluginState).where(PluginState.plugin == self._plugin, PluginState.key == key)
            .with_for_update().execution_options(populate_existing=True))

    def delete(self, key: str) -> None:
        row = self._session.get(PluginState, (self._plugin, key))
        if row is not None:
            self._session.delete(row)

    def items(self, prefix: str = "") -> list[tuple[str, Any]]:
        rows = self._session.execute(
            select(PluginState).where(PluginState.plugin == self._plugin, PluginState.key.startswith(prefix))
            .order_by(PluginState.key)
        ).scalars()
        return [(r.key, json.loads(r.value)) for r in rows]

    __getitem__ = get
    __setitem__ = set


class EventContext:
    """What a hook may touch while an event (or action result) is processed."""

    def __init__(self, hub, session: Session | None, event: Event | None = None, origin: str | None = None):
        self.hub = hub
        self.settings = hub.settings
        self.session = session
        self.event = event
        self.origin = origin
        # While action results are recorded (``on_action_done``): ``(action, result)`` of every action done in the
        # same transaction, so a hook can look up what it needs for all at once; None when recorded on its own.
        self.batch: list | None = None

    def now(self) -> datetime:
        return clock.now()

    def _require_session(self) -> Session:
        if self.session is None:
            raise DeskbridgeError("this hook runs read-only: emit actions from on_event instead")
        return self.session

    def emit(self, system: str, operation: str, payload: dict, key: str, order_key: str | None = None,
             delay_seconds: float = 0) -> bool:
        """Add an outbox action. ``key`` is its idempotency key: emitting it again is a no-op.

        :return: True if added, False if the key was already there. Raises ``ActionRefused`` if a
            ``decide_action_allowed`` hook refuses it.
        """
        session = self._require_session()
        return enqueue_action(session, system, operation, self._outbound(system, operation, payload), key,
                              order_key=order_key, origin=self.origin,
                              inbox_id=self.event.id if self.event else None, delay_seconds=delay_seconds)

    def _outbound(self, system: str, operation: str, payload: dict) -> dict:
        """The payload as stored: raises ``ActionRefused`` if a ``decide_action_allowed`` hook refuses it, else
        transformed and redacted, so the outbox and dead letters never hold what must not leave."""
        reason = self.hub.pm.hook.decide_action_allowed(system=system, operation=operation, payload=payload, ctx=self)
        if reason:
            raise ActionRefused(reason)
        payload = call_chain(self.hub.pm, "transform_outbound", "payload", payload, system=system, operation=operation)
        return mask_pans_deep(payload)

    def emit_many(self, actions: list[dict]) -> list:
        """``emit`` for many actions at once (one key lookup, the rows added together): each dict holds ``emit``'s
        arguments. Returns per action True (added), False (its key was already there) or the ``ActionRefused``
        a ``decide_action_allowed`` hook raised for it."""
        session = self._require_session()
        outcomes: list = [None] * len(actions)
        ready = []
        for index, action in enumerate(actions):
            system, operation = action["system"], action["operation"]
            try:
                payload = self._outbound(system, operation, action["payload"])
            except ActionRefused as refused:
                outcomes[index] = refused
                continue
            ready.append((index, {"system": system, "operation": operation, "payload": payload,
                                  "key": action["key"], "order_key": action.get("order_key"), "origin": self.origin,
                                  "inbox_id": self.event.id if self.event else None,
                                  "delay_seconds": action.get("delay_seconds", 0)}))
        for (index, _), added in zip(ready, enqueue_actions(session, [r for _, r in ready])):
            outcomes[index] = added
        return outcomes

    def state(self, plugin: str) -> StateStore:
        return StateStore(self._require_session(), plugin)

    def audit(self, actor: str, action: str, target: str, outcome: str, source: str | None = None,
              **detail) -> None:
        from hub.audit import append
        append(self.hub, self._require_session(), actor=actor, action=action, target=target, outcome=outcome,
               source=source, detail=detail)

    def connector(self, system: str):
        return self.hub.connectors[system]

    def store_event(self, source: str, event_id: str, type: str, payload: dict) -> tuple[int, bool]:
        """Add a follow-up event to the inbox in this transaction (e.g. ``sla.breached``)."""
        from hub.inbox import store_event
        return store_event(self._require_session(), source, event_id, type, payload)


def enqueue_action(session: Session, system: str, operation: str, payload: dict, key: str,
                   order_key: str | None = None, origin: str | None = None, inbox_id: int | None = None,
                   delay_seconds: float = 0) -> bool:
    return enqueue_actions(session, [{"system": system, "operation": operation, "payload": payload, "key": key,
                                      "order_key": order_key, "origin": origin, "inbox_id": inbox_id,
                                      "delay_seconds": delay_seconds}])[0]


def enqueue_actions(session: Session, actions: list[dict]) -> list[bool]:
    """``enqueue_action`` for many actions (its keyword arguments, one dict each) with one key lookup per 500 and
    the rows added together; returns per action whether it was added."""
    keys = [action["key"] for action in actions]
    # Emitted earlier in this same transaction, not flushed yet; the lookup need not flush them (no flush per emit).
    existing = {pending.key for pending in session.new if isinstance(pending, OutboxAction)}
    with session.no_autoflush:
        for start in range(0, len(keys), 500):
            existing.update(session.execute(select(OutboxAction.key).where(
                OutboxAction.key.in_(keys[start:start + 500]))).scalars())
    now = clock.now()
    added = []
    for action in actions:
        key = action["key"]
        if key in existing:
            added.append(False)
            continue
        existing.add(key)
        system = action["system"]
        session.add(OutboxAction(
            key=key[:255], system=system, operation=action["operation"], payload=dumps(action["payload"]),
            order_key=(action.get("order_key") or f"{system}:{key}")[:255], origin=action.get("origin"),
            inbox_id=action.get("inbox_id"), status="pending", attempts=0, created_at=now,
            available_at=now + timedelta(seconds=action.get("delay_seconds") or 0)))
        added.append(True)
    if any(added):
        wakeups.after_commit(session, "outbox")
    return added


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Full jitter (AWS): uniform in [0, min(cap, base * 2**attempt)], never below ``retry_after``."""
    rng = rng or random
    delay = rng.uniform(0, min(cap, base * (2 ** max(attempt - 1, 0))))
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay


def _claim(hub, model, owner: str, limit: int = 1, system: str | None = None, operation: str | None = None):
    """Lease up to ``limit`` ready rows (oldest first; an outbox row waits for earlier rows of its order key).

    One ``UPDATE … WHERE id IN (SELECT … LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING …`` and its commit: the
    lease (owner, expiry, attempt count) is durable before the work starts. Returns the rows, oldest first.
    """
    now = clock.now()
    table = model.__table__
    ready = select(table.c.id).where(
        table.c.status == "pending", table.c.available_at <= now,
        or_(table.c.leased_until.is_(None), table.c.leased_until < now),
    ).order_by(table.c.id).limit(limit)
    if model is OutboxAction:
        earlier = table.alias("earlier")
        ready = ready.where(~exists().where(and_(
            earlier.c.order_key == table.c.order_key, earlier.c.id < table.c.id, earlier.c.status == "pending")))
        if system is not None:
            ready = ready.where(table.c.system == system, table.c.operation == operation)
    if not hub.db.is_sqlite:
        ready = ready.with_for_update(skip_locked=True)
    lease = update(table).where(table.c.id.in_(ready.scalar_subquery())).values(
        leased_until=now + timedelta(seconds=hub.settings.workers.lease_seconds), lease_owner=owner,
        attempts=table.c.attempts + 1).returning(*table.c)
    with hub.db.session() as session:
        rows = session.execute(lease).all()
    return sorted(rows, key=lambda row: row.id)


def _still_ours(session: Session, hub, model, row_id: int, owner: str):
    row = session.get(model, row_id, with_for_update=not hub.db.is_sqlite)
    if row is None or row.status != "pending" or row.lease_owner != owner:
        return None
    return row


def _all_still_ours(session: Session, hub, model, row_ids: list[int], owner: str) -> dict:
    """``_still_ours`` for a whole batch in one query: ``{id: row}`` of the rows this owner still leases."""
    if not row_ids:
        return {}
    query = select(model).where(model.id.in_(row_ids)).order_by(model.id)
    if not hub.db.is_sqlite:
        query = query.with_for_update()
    rows = session.execute(query).scalars().all()
    return {row.id: row for row in rows if row.status == "pending" and row.lease_owner == owner}


def _dead_letter(session: Session, kind: str, row, system: str, operation: str, reason: str) -> None:
    row.status = "dead"
    row.leased_until = None
    row.last_error = reason
    session.add(DeadLetter(kind=kind, ref_id=row.id, system=system, operation=operation, reason=reason[:2000],
                           attempts=row.attempts, created_at=clock.now()))


def _fail_row(session: Session, hub, model, kind: str, row, reason: str, retry_after: float | None,
              permanent: bool, system: str, operation: str) -> str:
    """Schedule a retry with backoff, or dead-letter the row; returns ``"retry"`` or ``"dead"``."""
    reason = mask_pans(reason)  # vendor errors may quote a card number back; the reason is stored
    settings = hub.settings.workers
    if permanent or row.attempts >= settings.max_attempts:
        if not permanent:
            reason = f"gave up after {row.attempts} attempts: {reason}"
        _dead_letter(session, kind, row, system, operation, reason)
        if kind == "outbox":
            hub.pm.hook.on_action_dead(action=_action_of(row), reason=reason, ctx=EventContext(hub, session))
        return "dead"
    delay = backoff_delay(row.attempts, settings.backoff_base, settings.backoff_cap, retry_after)
    row.available_at = clock.now() + timedelta(seconds=delay)
    row.leased_until = None
    row.last_error = reason[:2000]
    return "retry"


def _retry_or_dead(hub, model, kind: str, row_id: int, owner: str, reason: str, retry_after: float | None,
                   permanent: bool, system: str, operation: str) -> str:
    with hub.db.session() as session:
        row = _still_ours(session, hub, model, row_id, owner)
        if row is None:
            return "lost-lease"
        return _fail_row(session, hub, model, kind, row, reason, retry_after, permanent, system, operation)


def _event_of(row: InboxEvent) -> Event:
    return Event(id=row.id, source=row.source, event_id=row.event_id, type=row.type,
                 payload=json.loads(row.payload), received_at=row.received_at, attempts=row.attempts)


def _action_of(row: OutboxAction) -> Action:
    return Action(id=row.id, key=row.key, system=row.system, operation=row.operation,
                  payload=json.loads(row.payload), attempts=row.attempts, origin=row.origin, inbox_id=row.inbox_id)


IO_THREADS = 8  # remote reads/writes of one batch in flight at once (enrichment, independent outbox actions)
_io_pools: "weakref.WeakKeyDictionary[Any, ThreadPoolExecutor]" = weakref.WeakKeyDictionary()
_io_pools_lock = threading.Lock()
_IO_THREAD_NAME = "deskbridge-io"


def fan_out(hub, calls: list[tuple]) -> list:
    """Run ``(fn, *args)`` calls concurrently on the hub's I/O pool; results in order.

    For independent remote calls (HTTP): the threads mostly wait on the network. One call runs inline, and so
    does a fan-out from inside the pool (waiting there for the pool's own threads could deadlock it).
    """
    if len(calls) <= 1 or threading.current_thread().name.startswith(_IO_THREAD_NAME):
        return [fn(*args) for fn, *args in calls]
    with _io_pools_lock:
        pool = _io_pools.get(hub)
        if pool is None:
            pool = _io_pools[hub] = ThreadPoolExecutor(IO_THREADS, thread_name_prefix=_IO_THREAD_NAME)
    return [future.result() for future in [pool.submit(fn, *args) for fn, *args in calls]]


def _enrich(hub, event: Event) -> tuple[Event, Exception | None]:
    """``enrich_event`` outside any transaction (it may read remote systems); the error, if any, is returned."""
    try:
        for partial in hub.pm.hook.enrich_event(event=event, ctx=EventContext(hub, None, event)):
            if partial:
                event.enrichment.update(partial)
        return event, None
    except Exception as exc:
        return event, exc


BATCH = 16  # rows a worker leases at once


def process_next_event(hub, owner: str, batch: int = BATCH) -> bool:
    """Process up to ``batch`` ready inbox events. Returns False when there was nothing to do."""
    return process_events(hub, owner, batch) > 0


def process_events(hub, owner: str, batch: int = BATCH) -> int:
    """Process up to ``batch`` ready inbox events; returns how many were leased (0: nothing to do).

    The events are leased in one transaction, enriched outside any transaction and concurrently (enrichment
    may read remote systems; one slow read does not hold back the rest of the batch), then processed in one transaction with a savepoint each: a failing event rolls back alone and is
    scheduled for retry, the others commit together (one durable commit for the whole batch).
    """
    rows = _claim(hub, InboxEvent, owner, limit=batch)
    if not rows:
        return 0
    events = fan_out(hub, [(_enrich, hub, _event_of(row)) for row in rows])
    outcomes = []
    with hub.db.session() as session:
        ours = _all_still_ours(session, hub, InboxEvent, [event.id for event, _ in events], owner)
        for event, error in events:
            current = ours.get(event.id)
            if current is None:
                continue
            if error is None:
                try:
                    with session.begin_nested():
                        hub.pm.hook.on_event(event=event, ctx=EventContext(hub, session, event))
                except Exception as exc:
                    error = exc
            if error is None:
                current.status = "done"
                current.processed_at = clock.now()
                current.leased_until = None
                current.last_error = None
                outcomes.append((event, "done"))
                continue
            permanent = isinstance(error, PermanentError)
            reason = f"{type(error).__name__}: {error}"
            log.warning("event %s (%s) failed: %s", event.id, event.type, reason)
            outcome = _fail_row(session, hub, InboxEvent, "inbox", current, reason,
                                getattr(error, "retry_after", None), permanent, event.source, event.type)
            outcomes.append((event, outcome))
    for event, outcome in outcomes:
        if outcome == "done":
            hub.metrics.events_processed.labels(source=event.source, type=event.type).inc()
        else:
            hub.metrics.events_failed.labels(source=event.source, type=event.type, outcome=outcome).inc()
    return len(rows)


def process_next_action(hub, owner: str, batch: int = BATCH) -> bool:
    """Execute ready outbox actions (``process_actions``). Returns False when there was nothing to do."""
    return process_actions(hub, owner, batch) > 0


def process_actions(hub, owner: str, batch: int = BATCH) -> int:
    """Execute ready outbox actions: up to ``batch`` at once, and whole vendor batches for operations the
    connector batches (``batch_operations``). Results are recorded in one transaction with a savepoint each.

    Returns how many rows the first lease took (0: nothing to do; ``batch``: more may be ready).
    """
    rows = _claim(hub, OutboxAction, owner, limit=batch)
    if not rows:
        return 0
    leased = len(rows)
    first = rows[0]
    connector = hub.connectors.get(first.system)
    batch_size = (getattr(connector, "batch_operations", None) or {}).get(first.operation, 1)
    same = sum(1 for r in rows if r.system == first.system and r.operation == first.operation)
    if batch_size > same:
        rows += _claim(hub, OutboxAction, owner, limit=batch_size - same, system=first.system,
                       operation=first.operation)
    groups: dict[tuple[str, str], list[Action]] = {}
    for row in rows:
        action = _action_of(row)
        groups.setdefault((action.system, action.operation), []).append(action)
    results: list[tuple[Action, object]] = []
    for (system, operation), actions in groups.items():
        results.extend(zip(actions, _execute(hub, system, operation, actions)))
    _record_outcomes(hub, owner, results)
    return leased


def _execute(hub, system: str, operation: str, actions: list[Action]) -> list:
    """One outcome per action: the connector's result dict, or the exception it raised."""
    connector = hub.connectors.get(system)
    if connector is None:
        return [PermanentError(f"no enabled connector named {system!r}")] * len(actions)
    try:
        payloads = [call_chain(hub.pm, "transform_outbound", "payload", a.payload, system=system,
                               operation=operation) for a in actions]
    except Exception as exc:
        return [exc] * len(actions)
    size = (getattr(connector, "batch_operations", None) or {}).get(operation, 1)
    if size > 1 and len(actions) > 1:
        return in_chunks(list(zip(payloads, [a.key for a in actions])), size,
                         lambda chunk: connector.execute_batch(operation, chunk), catch=(Exception,))
    # One claim never holds two pending actions of one order key (``_claim``), so these are independent.
    return fan_out(hub, [(_execute_one, connector, operation, payload, action.key)
                         for action, payload in zip(actions, payloads)])


def _execute_one(connector, operation: str, payload: dict, key: str):
    try:
        return connector.execute(operation, payload, key) or {}
    except Exception as exc:
        return exc


def _record_outcomes(hub, owner: str, results: list) -> None:
    counted, done = [], []
    bookkeeping = bool(hub.pm.hook.on_action_done.get_hookimpls())
    with hub.db.session() as session:
        ours = _all_still_ours(session, hub, OutboxAction, [action.id for action, _ in results], owner)
        for action, outcome in results:
            current = ours.get(action.id)
            if current is None:
                continue
            if isinstance(outcome, Exception):
                permanent = isinstance(outcome, PermanentError)
                reason = str(outcome) if isinstance(outcome, DeskbridgeError) else f"{type(outcome).__name__}: {outcome}"
                log.warning("action %s %s.%s failed: %s", action.id, action.system, action.operation, reason)
                retry_after = outcome.retry_after if isinstance(outcome, RetryableError) else None
                _fail_row(session, hub, OutboxAction, "outbox", current, reason, retry_after, permanent,
                          action.system, action.operation)
                counted.append((action.system, "permanent_error" if permanent else "retryable_error"))
                continue
            result = outcome or {}
            current.status = "done"
            current.done_at = clock.now()
            current.leased_until = None
            current.last_error = None
            current.result = dumps(result)
            wakeups.after_commit(session, "outbox")  # the next action of its order key is ready now
            ctx = EventContext(hub, session, origin=action.origin)
            ctx.audit("hub", f"{action.system}.{action.operation}", action.key, "ok", source="outbox")
            done.append((action, result, ctx))
            counted.append((action.system, "ok"))
        if bookkeeping and done:
            _actions_done(hub, session, done)
    for system, status in counted:
        hub.metrics.actions.labels(system=system, status=status).inc()


def _actions_done(hub, session, done: list) -> None:
    """``on_action_done`` for every action done in this transaction: all in one savepoint, each hook seeing the
    whole batch (``ctx.batch``) so it can look up what it needs at once; if any hook raises, the savepoint is
    rolled back and each action's bookkeeping is redone in a savepoint of its own, so one plugin's bug costs only
    that action's bookkeeping — the remote effect happened and its row stays done."""
    batch = [(action, result) for action, result, _ in done]
    if len(done) > 1:
        try:
            with session.begin_nested():
                for action, result, ctx in done:
                    ctx.batch = batch
                    hub.pm.hook.on_action_done(action=action, result=result, ctx=ctx)
            return
        except Exception as exc:
            log.info("on_action_done for a batch of %d failed (%s); redone action by action", len(done), exc)
    for action, result, ctx in done:
        ctx.batch = None
        try:
            with session.begin_nested():
                hub.pm.hook.on_action_done(action=action, result=result, ctx=ctx)
        except Exception as exc:  # the remote effect happened; a plugin's bookkeeping bug must not undo that
            log.error("on_action_done for %s failed: %s", action.key, exc)


def replay_dead_letters(hub, ids: list[int] | None = None) -> int:
    """Put dead-lettered events/actions back in their queue. ``ids`` are dead-letter ids; None = all."""
    count = 0
    with hub.db.session() as session:
        query = select(DeadLetter).where(DeadLetter.replayed_at.is_(None))
        if ids:
            query = query.where(DeadLetter.id.in_(ids))
        for letter in session.execute(query).scalars():
            model = InboxEvent if letter.kind == "inbox" else OutboxAction
            row = session.get(model, letter.ref_id)
            if row is not None and row.status == "dead":
                row.status = "pending"
                row.attempts = 0
                row.available_at = clock.now()
                row.leased_until = None
                wakeups.after_commit(session, "inbox" if letter.kind == "inbox" else "outbox")
            letter.replayed_at = clock.now()
            count += 1
    return count
