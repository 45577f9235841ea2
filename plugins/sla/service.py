"""The SLA plugin at work: keep each ticket's clock in the plugin state store, write due times to every linked
record, and turn due warnings and breaches into ``sla.warning`` / ``sla.breached`` inbox events.

State keys (plugin ``sla``): ``clock:<key>`` the ticket record (clock, facts, linked records, due values last
written), ``alias:<system>:<id>`` and ``alias:ext:<external id>`` → ``<key>``, ``wake:<key>`` → the next
moment the job has something to fire for that ticket. ``<key>`` is ``<system>:<id>`` of the first record seen.
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta, timezone
from types import SimpleNamespace

from prometheus_client import Counter

from hub import clock as hub_clock
from hub.clock import isoformat, parse_time
from plugins.sla.calendar import Calendar
from plugins.sla.clock import SOLVED_STATUSES, SlaDue, TicketClock
from plugins.sla.policy import SlaSettings, match_policy
from plugins.sla.tickets import (
    COMMENT_EVENTS,
    TICKET_EVENTS,
    comment_kind,
    comment_ticket_ref,
    event_time,
    linked_records,
    ticket_facts,
    ticket_of,
)

PLUGIN = "sla"
DELETED = "ticket.deleted"
EVENT_TYPES = {"warning": "sla.warning", "breach": "sla.breached"}
BATCH = 50  # tickets per job transaction
CREATE_OPERATIONS = frozenset({"create_ticket", "upsert_ticket", "create_case", "upsert_case"})
SYNC_ORIGIN = "sync"  # the origin of outbox writes made by the sync engine
log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: SlaSettings
    calendars: dict[str, Calendar]

    def calendar(self, name: str) -> Calendar:
        # A calendar removed from config since the clock started falls back to calendar time.
        return self.calendars.get(name) or self.calendars["24x7"]


_runtimes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_counters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fired_counter(hub) -> Counter:
    """``deskbridge_sla_events_total{kind, target}`` on the hub's own metrics registry."""
    counter = _counters.get(hub)
    if counter is None:
        counter = _counters[hub] = Counter("deskbridge_sla_events_total", "SLA warnings and breaches fired",
                                           ["kind", "target"], registry=hub.metrics.registry)
    return counter


def runtime(hub) -> Runtime:
    """The validated config and built calendars of this hub (built once per hub)."""
    found = _runtimes.get(hub)
    if found is None:
        settings = hub.plugin_config(PLUGIN)
        found = _runtimes[hub] = Runtime(settings, settings.build_calendars())
    return found


def lock_record(ctx, key: str) -> None:
    """Hold the row of one ticket's record until commit (see ``StateStore.lock``)."""
    ctx.state(PLUGIN).lock(f"clock:{key}")


def handle_event(event, ctx) -> None:
    """``on_event``: start, update and stop clocks from canonical ticket and comment events."""
    if event.source == PLUGIN or event.type not in TICKET_EVENTS | COMMENT_EVENTS | {DELETED}:
        return
    rt = runtime(ctx.hub)
    store = ctx.state(PLUGIN)
    system = str(event.data.get("system") or event.source)
    if event.type == DELETED:
        _on_deleted(store, ctx, system, ticket_of(event.data))
    elif event.type in COMMENT_EVENTS:
        _on_comment(rt, store, ctx, system, event)
    else:
        _on_ticket(rt, store, ctx, system, event)


def handle_action_done(action, result, ctx) -> None:
    """``on_action_done``: a ticket the hub created itself (e.g. from a banking event) starts its clock now.

    Echo suppression keeps the hub's own writes from coming back as ``ticket.created``, so the created record
    (the action payload plus the id the connector returned) is read here instead.
    """
    if action.operation not in CREATE_OPERATIONS or action.origin == SYNC_ORIGIN:
        # A sync write is a copy of a ticket already measured from its canonical events (they carry the links):
        # a clock of its own would be a second, unlinked clock for the same ticket.
        return
    ticket = dict(ticket_of(action.payload))
    record_id = (result or {}).get("id") or (result or {}).get("ticket_id") or ticket.get("id")
    if record_id is None:
        return
    ticket["id"] = record_id
    created = SimpleNamespace(source=action.system, type="ticket.created", data=ticket, enrichment={})
    _on_ticket(runtime(ctx.hub), ctx.state(PLUGIN), ctx, action.system, created)


def _resolve(store, system: str, record_id: str | None, external_id: str | None) -> str | None:
    if record_id is not None:
        key = store.get(f"alias:{system}:{record_id}")
        if key:
            return key
    if external_id:
        return store.get(f"alias:ext:{external_id}")
    return None


def _on_ticket(rt: Runtime, store, ctx, system: str, event) -> None:
    ticket = ticket_of(event.data)
    if ticket.get("id") is None:
        return
    facts = ticket_facts(system, ticket, event.enrichment)
    if facts["category"] is None:
        decided = ctx.hub.pm.hook.decide_category(ticket=dict(ticket), ctx=ctx)
        facts["category"] = decided.get("category") if isinstance(decided, Mapping) else None
    if facts["priority"] is None:
        facts["priority"] = ctx.hub.pm.hook.decide_priority(ticket={**ticket, **facts}, ctx=ctx)
    key = _resolve(store, system, facts["id"], facts["external_id"])
    if key:
        lock_record(ctx, key)
    record = store.get(f"clock:{key}") if key else None
    now = ctx.now()
    if record is None:
        policy = match_policy(rt.settings.policies, facts)
        if policy is None or facts["status"] in SOLVED_STATUSES:
            return  # nothing to measure; a ticket first seen solved (backfill) gets no clock
        key = f"{system}:{facts['id']}"
        created = event_time(ticket, "created_at", default=now)
        clock = TicketClock.start(key, policy, rt.calendar(policy.calendar), created, rt.settings.warning_share,
                                  status=facts["status"])
        record = {"facts": facts, "records": {}, "written": {}}
        # A ticket first seen long after it was created (backfill, plugin enabled later) records its old
        # warnings and breaches without firing them, so enabling SLA never floods escalation.
        stale = clock.due_events(now - timedelta(minutes=rt.settings.late_start_grace_minutes))
        ctx.audit("sla", "sla.started", key, "ok", policy=policy.name, source_system=system,
                  unfired=[due.key for due in stale])
    else:
        clock = TicketClock.from_dict(record["clock"])
        at = event_time(ticket, "updated_at", default=now)
        policy = match_policy(rt.settings.policies, {**record["facts"], **_known(facts)})
        if policy is not None and clock.retarget(policy, rt.calendar(policy.calendar), at):
            ctx.audit("sla", "sla.retargeted", key, "ok", policy=policy.name)
        if facts["status"] != clock.status and facts["status"] != "new":
            clock.status_changed(at, facts["status"], rt.calendar(clock.calendar))
        record["facts"] = {**record["facts"], **_known(facts)}
    for other, record_id in linked_records(system, ticket).items():
        record["records"].setdefault(other, record_id)
    _save(store, key, record, clock, facts["external_id"])
    _write_due(rt, ctx, key, record, clock)
    store.set(f"clock:{key}", record)


def _on_deleted(store, ctx, system: str, ticket: Mapping) -> None:
    """A deleted ticket stops measuring: its clock, wake-up and aliases go."""
    key = _resolve(store, system, str(ticket.get("id")), ticket.get("external_id"))
    if key is None:
        return
    lock_record(ctx, key)
    record = store.get(f"clock:{key}") or {"records": {}, "facts": {}}
    for other, record_id in record["records"].items():
        store.delete(f"alias:{other}:{record_id}")
    if record["facts"].get("external_id"):
        store.delete(f"alias:ext:{record['facts']['external_id']}")
    store.delete(f"alias:{system}:{ticket.get('id')}")
    store.delete(f"clock:{key}")
    store.delete(f"wake:{key}")
    ctx.audit("sla", "sla.stopped", key, "ok", reason="ticket deleted")


def _on_comment(rt: Runtime, store, ctx, system: str, event) -> None:
    comment = event.data
    kind = comment_kind(comment)
    if kind is None:
        return
    record_id, external_id = comment_ticket_ref(system, comment)
    key = _resolve(store, system, record_id, external_id)
    if key is None:
        return
    lock_record(ctx, key)
    record = store.get(f"clock:{key}")
    if record is None:
        return
    clock = TicketClock.from_dict(record["clock"])
    at = event_time(comment, "created_at", default=ctx.now())
    calendar = rt.calendar(clock.calendar)
    if kind == "agent":
        for target in clock.agent_replied(at, calendar, via=system):
            ctx.audit("sla", "sla.achieved", key, "ok", sla_target=target, via=system, at=isoformat(at),
                      breached=clock.targets[target].breached_at is not None)
    else:
        clock.customer_replied(at, calendar)
    if record_id is not None:
        record["records"].setdefault(system, record_id)
    _save(store, key, record, clock, external_id)
    _write_due(rt, ctx, key, record, clock)
    store.set(f"clock:{key}", record)


def _known(facts: Mapping) -> dict:
    return {k: v for k, v in facts.items() if v is not None}


def _save(store, key: str, record: dict, clock: TicketClock, external_id: str | None) -> None:
    record["clock"] = clock.to_dict()
    for system, record_id in record["records"].items():
        store.set(f"alias:{system}:{record_id}", key)
    if external_id:
        store.set(f"alias:ext:{external_id}", key)
    wake = clock.next_wakeup()
    if wake is None:
        store.delete(f"wake:{key}")
    else:
        store.set(f"wake:{key}", wake.astimezone(timezone.utc).isoformat())


def _write_due(rt: Runtime, ctx, key: str, record: dict, clock: TicketClock) -> None:
    """Emit a field update to each linked record whose due values changed since the last write.

    The help desk gets the titled fields (``due_fields``); a CRM its own field names (``crm_due_fields``) in
    its connector's shape: ``update_case {case_id, fields}`` on Salesforce, ``update_ticket {ticket_id, fields}``
    elsewhere.
    """
    due = clock.due_times()
    for system, record_id in sorted(record["records"].items()):
        names = rt.settings.crm_due_fields.get(system, rt.settings.due_fields)
        values = {name: (isoformat(due[target]) if target in due else None)
                  for target, name in names.items() if target in clock.targets}
        if not values:
            continue
        signature = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]
        if record["written"].get(system) == signature:
            continue
        if system == "salesforce":
            operation, payload = "update_case", {"case_id": record_id, "fields": values}
        else:
            operation, payload = "update_ticket", {"ticket_id": record_id, "fields": values}
        ctx.emit(system, operation, payload, key=f"sla:due:{system}:{record_id}:{signature}",
                 order_key=f"{system}:ticket:{record_id}")
        record["written"][system] = signature


def run_due(hub, now=None) -> int:
    """The job: fire due warnings and breaches as inbox events. Returns how many it stored."""
    from hub.pipeline import EventContext

    now = now or hub_clock.now()
    with hub.db.session() as session:
        due_keys = [key.removeprefix("wake:") for key, at in EventContext(hub, session).state(PLUGIN).items("wake:")
                    if parse_time(at) <= now]
    stored = 0
    for start in range(0, len(due_keys), BATCH):
        fired: list[SlaDue] = []
        # A batch shares one commit (one fsync); each ticket is a savepoint, so a failing ticket is rolled
        # back alone and the others still fire.
        with hub.db.session() as session:
            ctx = EventContext(hub, session)
            for key in due_keys[start:start + BATCH]:
                try:
                    with session.begin_nested():
                        fired += _fire(ctx, key, now)
                except Exception as exc:
                    log.error("SLA check of %s failed: %s", key, exc)
        for due in fired:
            fired_counter(hub).labels(kind=due.kind, target=due.target).inc()
        stored += len(fired)
    return stored


def _fire(ctx, key: str, now) -> list[SlaDue]:
    store = ctx.state(PLUGIN)
    lock_record(ctx, key)
    record = store.get(f"clock:{key}")
    if record is None:
        store.delete(f"wake:{key}")
        return []
    clock = TicketClock.from_dict(record["clock"])
    stored = []
    for due in clock.due_events(now):
        payload = {**due.to_dict(), "ticket_key": key, "facts": record["facts"], "records": record["records"]}
        _, created = ctx.store_event(PLUGIN, due.key, EVENT_TYPES[due.kind], payload)
        if not created:
            continue
        stored.append(due)
        ctx.audit("sla", EVENT_TYPES[due.kind], key, "ok", sla_target=due.target, cycle=due.cycle,
                  due_at=isoformat(due.due_at), policy=due.policy)
        if due.kind == "breach":
            system, record_id = _origin(key, record)
            ctx.emit(system, "add_internal_note",
                     {"ticket_id": record_id,
                      "body": f"SLA {due.target.replace('_', ' ')} target breached at {isoformat(due.due_at)} "
                              f"(policy {due.policy})."},
                     key=f"{due.key}:note", order_key=f"{system}:ticket:{record_id}")
    _save(store, key, record, clock, record["facts"].get("external_id"))
    store.set(f"clock:{key}", record)
    return stored


def _origin(key: str, record: Mapping) -> tuple[str, str]:
    system, _, record_id = key.partition(":")
    return system, record["records"].get(system, record_id)
