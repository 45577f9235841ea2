"""Incidents at work: ``incident.opened`` → one problem ticket and, batch by batch, proactive notices to the
affected customers with their open tickets tagged and a suggested reply; ``incident.resolved`` → the problem
ticket noted and solved, and a resolution notice to everyone who was told of the incident.

Customers are handled in batches of ``notices.per_run``: the first batch straight away (an ``incident.batch``
inbox event stored with the incident), the next ones by the scheduler job, one batch per run — a rate limit on
notices that also keeps each transaction small. Each batch is an inbox event with a deterministic id, so a
batch runs once however often the job looks.

State keys (plugin ``incidents``): ``incident:<id>`` → the record; ``pending:<id>`` → the phase whose next
batch the job should start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hub.clock import isoformat
from plugins.incidents import messages
from plugins.incidents.config import config_of

PLUGIN = "incidents"
BATCH_TYPE = "incident.batch"
BANKING_SOURCES = ("banking", "stripe")


def _part(value) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(value))[:80]


def external_id(incident_id) -> str:
    return f"incident-{_part(incident_id)}"


def incident_tag(incident_id) -> str:
    return f"incident_{_part(incident_id).lower()}"


def order_key(record: Mapping) -> str:
    return f"zendesk:{record['external_id']}"


def new_record(data: Mapping, at: str) -> dict:
    return {"incident_id": str(data["incident_id"]), "external_id": external_id(data["incident_id"]),
            "title": str(data.get("title") or ""), "severity": str(data.get("severity") or ""),
            "status": None, "opened_at": None, "resolved_at": None, "audience": [], "segment": None, "cut": False,
            "phases": {}, "tagged": {}, "events": [], "first_seen": at}


def handle_opened(event, ctx) -> None:
    config = config_of(ctx.hub)
    data, store = event.data, ctx.state(PLUGIN)
    key = f"incident:{data['incident_id']}"
    record = store.get(key) or new_record(data, isoformat(ctx.now()))
    if record["opened_at"] is not None:
        return  # this incident is open already (a redelivery under a new webhook id)
    audience = event.enrichment.get("incident_audience") or {}
    record.update(title=str(data.get("title") or record["title"]), severity=str(data.get("severity") or ""),
                  opened_at=isoformat(ctx.now()), audience=list(audience.get("customers") or []),
                  segment=audience.get("segment"), cut=bool(audience.get("cut")))
    late = record["status"] == "resolved"
    record["status"] = record["status"] or "open"
    _problem_ticket(ctx, config, record, late)
    if not late:
        _start_phase(ctx, config, record, "opened")
    store.set(key, record)
    ctx.audit(PLUGIN, "incident.opened", record["incident_id"], "late" if late else "ok",
              audience=len(record["audience"]), segment=record["segment"])


def _problem_ticket(ctx, config, record: dict, late: bool) -> None:
    options = config.problem_ticket
    severity = record["severity"].strip().lower()
    ticket = {"subject": messages.subject(record), "type": "problem",
              "comment": {"body": messages.problem_comment(record, config.notices.enabled and not late),
                          "public": False},
              "priority": options.severity_priority.get(severity, options.default_priority),
              "tags": [*options.tags, incident_tag(record["incident_id"])]}
    if options.group:
        ticket["group"] = options.group
    if late and options.solve_on_resolve:
        ticket["status"] = "solved"
    ctx.emit("zendesk", "upsert_ticket", {"external_id": record["external_id"], "ticket": ticket},
             key=f"incident-ticket:{record['external_id']}", order_key=order_key(record))
    if late:
        _note(ctx, record, record["external_id"], messages.late_opened_note(record), "late")


def _note(ctx, record: Mapping, ticket_ref, body: str, suffix: str) -> None:
    target = {"external_id": ticket_ref} if isinstance(ticket_ref, str) else {"ticket_id": ticket_ref}
    ctx.emit("zendesk", "add_comment", {**target, "body": body, "public": False},
             key=f"incident-note:{record['incident_id']}:{ticket_ref}:{suffix}",
             order_key=order_key(record) if isinstance(ticket_ref, str) else f"zendesk:ticket:{ticket_ref}")


def handle_resolved(event, ctx) -> None:
    config = config_of(ctx.hub)
    data, store = event.data, ctx.state(PLUGIN)
    key = f"incident:{data['incident_id']}"
    record = store.get(key) or new_record(data, isoformat(ctx.now()))
    if record["status"] == "resolved":
        return
    record.update(status="resolved", resolved_at=isoformat(ctx.now()))
    if record["opened_at"] is not None:  # otherwise the late opened event creates the ticket, solved
        _note(ctx, record, record["external_id"], messages.resolution_note(record), "resolved")
        if config.problem_ticket.solve_on_resolve:
            ctx.emit("zendesk", "update_ticket", {"external_id": record["external_id"], "status": "solved"},
                     key=f"incident-solve:{record['external_id']}", order_key=order_key(record))
        store.delete(f"pending:{record['incident_id']}")  # no "we have an issue" notices after the fix
        _start_phase(ctx, config, record, "resolved")
    store.set(key, record)
    ctx.audit(PLUGIN, "incident.resolved", record["incident_id"], "ok" if record["opened_at"] else "early")


def targets(record: Mapping, phase: str) -> list[str]:
    """Who a phase is for: everyone affected; for the resolution, those who were told of the incident."""
    if phase == "opened":
        return list(record["audience"])
    told = record["phases"].get("opened", {}).get("cursor", 0)
    return list(record["audience"][:told])


def _start_phase(ctx, config, record: dict, phase: str) -> None:
    record["phases"][phase] = {"cursor": 0, "started_at": isoformat(ctx.now())}
    if targets(record, phase) and (config.notices.enabled or config.open_tickets.enabled):
        store_batch(ctx, config, record, phase)


def store_batch(ctx, config, record: Mapping, phase: str) -> bool:
    """Store the phase's next batch as an inbox event (a no-op when that batch was stored before)."""
    cursor = record["phases"][phase]["cursor"]
    customers = targets(record, phase)[cursor:cursor + config.notices.per_run]
    if not customers:
        return False
    event_id = f"batch:{record['incident_id']}:{phase}:{cursor}"
    _, created = ctx.store_event(PLUGIN, event_id, BATCH_TYPE, {
        "id": event_id, "type": BATCH_TYPE, "created_at": isoformat(ctx.now()),
        "data": {"incident_id": record["incident_id"], "phase": phase, "cursor": cursor, "customers": customers}})
    return created


def handle_batch(event, ctx) -> None:
    """One batch of customers: notices, and for the opening phase their open tickets tagged with a draft."""
    config = config_of(ctx.hub)
    data, store = event.data, ctx.state(PLUGIN)
    record = store.get(f"incident:{data.get('incident_id')}")
    phase = data.get("phase")
    if record is None or phase not in record["phases"] or record["phases"][phase]["cursor"] != data.get("cursor"):
        return  # a batch already done, or one the resolution overtook
    if phase == "opened" and record["status"] == "resolved":
        return
    found = event.enrichment.get("incident_tickets") or {}
    customers = [str(c) for c in data.get("customers") or []]
    for customer in customers:
        if config.notices.enabled:
            template = config.notices.opened if phase == "opened" else config.notices.resolved
            ctx.emit("core_banking", "send_notification",
                     {"customer_id": customer, "channel": config.notices.channel, "template": f"incident_{phase}",
                      "message": messages.fill(template, record)},
                     key=f"incident-notice:{record['incident_id']}:{customer}:{phase}")
        if config.open_tickets.enabled:
            if phase == "opened":
                _tag_tickets(ctx, config, record, customer, found.get(customer) or [])
            else:
                for ticket_id in record["tagged"].get(customer, []):
                    _note(ctx, record, ticket_id, messages.draft_note(record, config.open_tickets.resolved_draft,
                                                                      resolved=True), "resolved-draft")
    record["phases"][phase]["cursor"] += len(customers)
    pending = f"pending:{record['incident_id']}"
    if record["phases"][phase]["cursor"] < len(targets(record, phase)):
        store.set(pending, phase)
    else:
        record["phases"][phase]["done_at"] = isoformat(ctx.now())
        store.delete(pending)
    store.set(f"incident:{record['incident_id']}", record)
    ctx.audit(PLUGIN, "incident.batch", record["incident_id"], "ok", phase=phase, cursor=data.get("cursor"),
              customers=len(customers))


def _tag_tickets(ctx, config, record: dict, customer: str, tickets: list) -> None:
    tags = [*config.open_tickets.tags, incident_tag(record["incident_id"])]
    tagged = []
    for ticket in tickets:
        if not isinstance(ticket, Mapping) or ticket.get("id") is None:
            continue
        ticket_id = int(ticket["id"])
        ctx.emit("zendesk", "update_ticket", {"ticket_id": ticket_id, "tags_add": tags},
                 key=f"incident-tag:{record['incident_id']}:{ticket_id}", order_key=f"zendesk:ticket:{ticket_id}")
        _note(ctx, record, ticket_id, messages.draft_note(record, config.open_tickets.reply_draft), "draft")
        tagged.append(ticket_id)
    if tagged:
        record["tagged"][customer] = tagged


def run_batches(hub) -> int:
    """The job: start the next batch of every incident with customers still to handle. Returns how many."""
    from hub.pipeline import EventContext

    config = config_of(hub)
    started = 0
    with hub.db.session() as session:
        ctx = EventContext(hub, session)
        store = ctx.state(PLUGIN)
        for key, phase in store.items("pending:"):
            record = store.get(f"incident:{key.partition(':')[2]}")
            if record is None or phase not in record["phases"]:
                continue
            started += int(store_batch(ctx, config, record, phase))
    return started
