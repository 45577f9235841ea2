"""The escalation plugin at work: keep per-ticket escalation state, react to ticket and SLA events and to
level timers, and turn fired levels into outbox actions, each recorded once (internal note + audit entry).

State keys (plugin ``escalation``): ``ticket:<key>`` the ``TicketState`` plus linked records,
``alias:<system>:<id>`` / ``alias:ext:<external id>`` → ``<key>``, ``wake:<key>`` → next level timer,
``contacts:<customer hash>`` → times of that customer's tickets (for repeated-contact rules).
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from collections.abc import Mapping
from datetime import timedelta, timezone
from types import SimpleNamespace

from prometheus_client import Counter

from hub import clock as hub_clock
from hub.clock import parse_time
from plugins.escalation.rules import Action, EscalationSettings, TicketState, Trigger, evaluate

PLUGIN = "escalation"
SLA_TYPES = {"sla.warning", "sla.breached"}
TICKET_TYPES = {"ticket.created", "ticket.updated", "ticket.deleted"}
BATCH = 50  # tickets per job transaction
CREATE_OPERATIONS = frozenset({"create_ticket", "upsert_ticket", "create_case", "upsert_case"})
SYNC_ORIGIN = "sync"  # the origin of outbox writes made by the sync engine
CATEGORIES = (
    "payments", "cards", "disputes", "fees", "kyc_verification", "account_management", "account_access",
    "compliance_fraud",
)
log = logging.getLogger(__name__)
_counters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fired_counter(hub) -> Counter:
    """``deskbridge_escalations_total{rule, level}`` on the hub's own metrics registry."""
    counter = _counters.get(hub)
    if counter is None:
        counter = _counters[hub] = Counter("deskbridge_escalations_total", "Escalation levels fired",
                                           ["rule", "level"], registry=hub.metrics.registry)
    return counter


def settings_of(hub) -> EscalationSettings:
    return hub.plugin_config(PLUGIN)  # validated once per hub by the runtime


def lock_record(ctx, key: str) -> None:
    """Hold the row of one ticket's record until commit (see ``StateStore.lock``)."""
    ctx.state(PLUGIN).lock(f"ticket:{key}")


def handle_event(event, ctx) -> None:
    """``on_event``: evaluate rules on ticket changes and on SLA warnings/breaches."""
    if event.source == "sla" and event.type in SLA_TYPES:
        data = event.payload
        key, record = _load_for_sla(ctx, data)
        trigger = Trigger(event.type, parse_time(data["at"]), data.get("target"))
    elif event.type in TICKET_TYPES and event.source != "sla":
        key, record, trigger = _load_for_ticket(ctx, event)
        if key is None:
            return
        if event.type == "ticket.deleted":
            # A deleted ticket is closed like a solved one: nothing further fires for it.
            record["state"]["closed"] = True
    else:
        return
    _evaluate_and_act(ctx, key, record, trigger)


def handle_action_done(action, result, ctx) -> None:
    """``on_action_done``: rules also apply to tickets the hub created itself (echo suppression hides them)."""
    if action.operation not in CREATE_OPERATIONS or action.origin == SYNC_ORIGIN:
        # A sync write is a copy of a ticket already escalated from its canonical events (they carry the links);
        # state of its own would escalate the same ticket twice and count it as another contact.
        return
    data = action.payload.get("ticket") if isinstance(action.payload.get("ticket"), Mapping) else action.payload
    record_id = (result or {}).get("id") or (result or {}).get("ticket_id") or data.get("id")
    if record_id is None:
        return
    created = SimpleNamespace(source=action.system, type="ticket.created", enrichment={},
                              data={**data, "id": record_id, "system": action.system})
    key, record, trigger = _load_for_ticket(ctx, created)
    if key is not None:
        _evaluate_and_act(ctx, key, record, trigger)


def _resolve(store, records: Mapping[str, str], external_id: str | None) -> str | None:
    for system, record_id in records.items():
        key = store.get(f"alias:{system}:{record_id}")
        if key:
            return key
    return store.get(f"alias:ext:{external_id}") if external_id else None


def _load_for_sla(ctx, data: Mapping) -> tuple[str, dict]:
    store = ctx.state(PLUGIN)
    records = dict(data.get("records") or {})
    facts = dict(data.get("facts") or {})
    key = _resolve(store, records, facts.get("external_id")) or data["ticket_key"]
    lock_record(ctx, key)
    record = store.get(f"ticket:{key}") or {"state": TicketState(key).to_dict(), "records": {}}
    state = record["state"]
    # What escalation already knows wins (it may have raised the priority since the SLA clock saw it).
    state["facts"] = {**{k: v for k, v in facts.items() if v is not None}, **state["facts"]}
    for system, record_id in records.items():
        record["records"].setdefault(system, record_id)
    return key, record


def _load_for_ticket(ctx, event):
    data = event.data
    ticket = data.get("ticket") if isinstance(data.get("ticket"), Mapping) else data
    if ticket.get("id") is None:
        return None, None, None
    system = str(data.get("system") or ticket.get("system") or event.source)
    facts = _facts(system, ticket, event.enrichment)
    records = {system: facts["id"]}
    if isinstance(ticket.get("links"), Mapping):
        records.update({str(k): str(v) for k, v in ticket["links"].items() if v and str(k) not in records})
    store = ctx.state(PLUGIN)
    key = _resolve(store, records, facts.get("external_id")) or f"{system}:{facts['id']}"
    lock_record(ctx, key)
    record = store.get(f"ticket:{key}") or {"state": TicketState(key).to_dict(), "records": {}}
    known = {k: v for k, v in facts.items() if v is not None}
    record["state"]["facts"] = {**record["state"]["facts"], **known}
    for other, record_id in records.items():
        record["records"].setdefault(other, record_id)
    at = ctx.now()
    customer = _customer_key(ticket)
    if customer is not None:
        # Counted per ticket (its key), not per record: one ticket seen from three systems is one contact.
        record["state"]["contacts"] = _contacts(ctx, store, customer, key, event.type, at)
    return key, record, Trigger("ticket", at)


def _facts(system: str, ticket: Mapping, enrichment: Mapping) -> dict:
    category = enrichment.get("category")
    if isinstance(category, Mapping):
        category = category.get("category")
    if not category:
        category = ticket.get("category") or next((t for t in ticket.get("tags") or () if t in CATEGORIES), None)
    customer = enrichment.get("customer") if isinstance(enrichment.get("customer"), Mapping) else {}
    return {
        "system": system,
        "id": str(ticket["id"]),
        "external_id": ticket.get("external_id"),
        "status": str(ticket.get("status") or "").lower() or None,
        "priority": str(ticket["priority"]).lower() if ticket.get("priority") else None,
        "category": category,
        "segment": ticket.get("segment") or enrichment.get("segment") or customer.get("segment"),
        "channel": ticket.get("channel"),
        "amount": ticket.get("amount") if ticket.get("amount") is not None else enrichment.get("amount"),
        "url": ticket.get("url"),
    }


def _customer_key(ticket: Mapping) -> str | None:
    requester = ticket.get("requester") if isinstance(ticket.get("requester"), Mapping) else {}
    raw = ticket.get("customer_id") or ticket.get("requester_email") or requester.get("email") or \
        ticket.get("requester_id")
    if not raw:
        return None
    # Hashed: the state store needs no e-mail addresses to count contacts.
    return hashlib.sha256(str(raw).strip().lower().encode()).hexdigest()[:32]


def _contacts(ctx, store, customer: str, ticket_id: str, event_type: str, at) -> list[str]:
    window = timedelta(hours=settings_of(ctx.hub).max_contact_window_hours)
    entries = store.get(f"contacts:{customer}") or {}
    if event_type == "ticket.created" or ticket_id not in entries:
        entries.setdefault(ticket_id, at.astimezone(timezone.utc).isoformat())
    entries = {t: when for t, when in entries.items() if parse_time(when) >= at - window}
    store.set(f"contacts:{customer}", entries)
    return sorted(entries.values())


def _evaluate_and_act(ctx, key: str, record: dict, trigger: Trigger, now=None) -> None:
    state = TicketState.from_dict(record["state"])
    actions = evaluate(settings_of(ctx.hub).rules, state, trigger, now or ctx.now())
    record["state"] = state.to_dict()
    _act(ctx, key, record, state, actions)
    _save(ctx.state(PLUGIN), key, record, state)


def _save(store, key: str, record: dict, state: TicketState) -> None:
    for system, record_id in record["records"].items():
        store.set(f"alias:{system}:{record_id}", key)
    if state.facts.get("external_id"):
        store.set(f"alias:ext:{state.facts['external_id']}", key)
    wake = state.next_timer()
    if wake is None:
        store.delete(f"wake:{key}")
    else:
        store.set(f"wake:{key}", wake.astimezone(timezone.utc).isoformat())
    store.set(f"ticket:{key}", record)


def _target(key: str, record: Mapping) -> tuple[str, str]:
    system, _, record_id = key.partition(":")
    return system, record["records"].get(system, record_id)


def _act(ctx, key: str, record: Mapping, state: TicketState, actions: list[Action]) -> None:
    system, record_id = _target(key, record)
    update_op = "update_case" if system == "salesforce" else "update_ticket"
    order = f"{system}:ticket:{record_id}"
    levels: dict[tuple[str, int], list[str]] = {}
    for action in actions:
        levels.setdefault((action.rule, action.level), []).append(_describe(action))
        if action.kind == "reassign":
            payload = {"ticket_id": record_id}
            if "group" in action.params:
                payload["group"] = action.params["group"]
            if "tier" in action.params:
                payload["fields"] = {"Escalation tier": action.params["tier"]}
                payload["tags_add"] = [f"escalation_{action.params['tier']}".replace(" ", "_").lower()]
            ctx.emit(system, update_op, payload, key=action.key, order_key=order)
        elif action.kind == "raise_priority":
            ctx.emit(system, update_op, {"ticket_id": record_id, "priority": action.params["priority"]},
                     key=action.key, order_key=order)
        elif action.kind == "add_followers":
            ctx.emit(system, update_op, {"ticket_id": record_id, "followers_add": action.params["followers"]},
                     key=action.key, order_key=order)
        elif action.kind == "notify_webhook":
            ctx.emit("notify", "notify_webhook", action.params, key=action.key)
        else:
            ctx.emit("notify", "send_email", action.params, key=action.key)
    for (rule, level), done in levels.items():
        reason = state.levels[f"{rule}#{level}"]["reason"]
        note = f"Escalation level {level} ({rule}): {reason}. Actions: {'; '.join(done)}."
        note_key = f"esc:{state.ticket}:{rule}:{level}:note"
        ctx.emit(system, "add_internal_note", {"ticket_id": record_id, "body": note}, key=note_key, order_key=order)
        ctx.audit("escalation", "escalation.fired", key, "ok", rule=rule, level=level, reason=reason,
                  actions=[a.kind for a in actions if (a.rule, a.level) == (rule, level)])
        # Counted inside the transaction: a rollback after this point (rare) over-counts by one.
        fired_counter(ctx.hub).labels(rule=rule, level=str(level)).inc()


def _describe(action: Action) -> str:
    params = action.params
    if action.kind == "reassign":
        return "reassigned to " + ", ".join(f"{k} {v}" for k, v in params.items())
    if action.kind == "raise_priority":
        return f"priority raised to {params['priority']}"
    if action.kind == "add_followers":
        return f"{len(params['followers'])} follower(s) added"
    if action.kind == "notify_webhook":
        return "webhook notified"
    return f"e-mail sent to {len(params['to'])} recipient(s)"


def _fire_timers(ctx, key: str, now) -> None:
    lock_record(ctx, key)
    record = ctx.state(PLUGIN).get(f"ticket:{key}")
    if record is None:
        ctx.state(PLUGIN).delete(f"wake:{key}")
        return
    _evaluate_and_act(ctx, key, record, Trigger("tick", now), now)


def run_timers(hub, now=None) -> int:
    """The job: fire levels whose timers have run out. Returns how many tickets it evaluated."""
    from hub.pipeline import EventContext

    now = now or hub_clock.now()
    with hub.db.session() as session:
        due = [key.removeprefix("wake:") for key, at in EventContext(hub, session).state(PLUGIN).items("wake:")
               if parse_time(at) <= now]
    for start in range(0, len(due), BATCH):
        # One commit per batch; a savepoint per ticket so one failure leaves the others done.
        with hub.db.session() as session:
            ctx = EventContext(hub, session)
            for key in due[start:start + BATCH]:
                try:
                    with session.begin_nested():
                        _fire_timers(ctx, key, now)
                except Exception as exc:
                    log.error("escalation timers of %s failed: %s", key, exc)
    return len(due)
