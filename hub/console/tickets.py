"""Tickets across systems (search and filters over the analytics store) and one ticket's timeline across
help desk, CRM and banking events (inbox events, outbox actions and what the analytics plugin recorded)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import or_, select

from hub import clock
from hub.console.models import AnalyticsAlias, AnalyticsEvent, AnalyticsTicket
from hub.db import InboxEvent, OutboxAction
from hub.logs import redact_value

PAGE_SIZE = 50
BANKING_SOURCES = ("banking", "stripe")


@dataclass
class TicketQuery:
    q: str = ""
    category: str = ""
    sla: str = ""
    system: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "TicketQuery":
        try:
            page = max(1, min(int(args.get("page", 1)), 10_000))
        except ValueError:
            page = 1
        return cls(q=args.get("q", "").strip()[:100], category=args.get("category", "")[:40],
                   sla=args.get("sla", "")[:16], system=args.get("system", "")[:32], page=page)


def search_tickets(db, query: TicketQuery) -> tuple[list[dict], bool]:
    """One page of tickets, newest first, and whether there is a next page."""
    t = AnalyticsTicket
    stmt = select(t)
    if query.q:
        like = f"%{query.q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(t.subject.ilike(like), t.key.ilike(like), t.record_id == query.q,
                              t.customer_id == query.q, t.external_id == query.q, t.links.ilike(like)))
    if query.category:
        stmt = stmt.where(t.category.is_(None) if query.category == "uncategorised" else t.category == query.category)
    if query.sla:
        stmt = stmt.where(t.sla_state == query.sla)
    if query.system:
        stmt = stmt.where(or_(t.system == query.system, t.links.like(f'%"{query.system}"%')))
    rows = db.execute(stmt.order_by(t.created_at.desc(), t.key).offset((query.page - 1) * PAGE_SIZE)
                      .limit(PAGE_SIZE + 1)).scalars().all()
    return [ticket_row(r) for r in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


def ticket_row(row: AnalyticsTicket) -> dict:
    return {"key": row.key, "system": row.system, "record_id": row.record_id, "subject": row.subject,
            "category": row.category, "priority": row.priority, "status": row.status, "sla_state": row.sla_state,
            "customer_id": row.customer_id, "csat": row.csat, "links": json.loads(row.links or "{}"),
            "created_at": clock.isoformat(row.created_at),
            "first_response_minutes": round(row.frt_seconds / 60, 1) if row.frt_seconds is not None else None,
            "resolution_hours": round(row.resolution_seconds / 3600, 1) if row.resolution_seconds is not None
            else None}


def timeline(db, key: str, limit: int = 200) -> tuple[dict | None, list[dict]]:
    """The ticket and its entries, oldest first: its events, the actions they caused, banking events of its
    customer, and actions ordered on any of its records."""
    row = db.get(AnalyticsTicket, key)
    if row is None:
        alias = db.get(AnalyticsAlias, key)
        row = db.get(AnalyticsTicket, alias.ticket_key) if alias else None
    if row is None:
        return None, []
    ticket = ticket_row(row)
    seen = db.execute(select(AnalyticsEvent).where(AnalyticsEvent.ticket_key == row.key)
                      .order_by(AnalyticsEvent.at).limit(limit)).scalars().all()
    banking = []
    if row.customer_id:
        banking = db.execute(select(AnalyticsEvent).where(AnalyticsEvent.customer_id == row.customer_id,
                                                          AnalyticsEvent.source.in_(BANKING_SOURCES),
                                                          AnalyticsEvent.ticket_key.is_(None))
                             .order_by(AnalyticsEvent.at.desc()).limit(50)).scalars().all()
    entries = [_event_entry(e) for e in list(seen) + list(banking)]
    inbox_ids = {e.inbox_id for e in list(seen) + list(banking) if e.inbox_id}
    inbox = {i.id: i for i in db.execute(select(InboxEvent).where(InboxEvent.id.in_(inbox_ids))).scalars()} \
        if inbox_ids else {}
    for entry in entries:
        found = inbox.get(entry.pop("inbox_id"))
        if found is not None:
            entry["state"] = found.status
            entry["received_at"] = clock.isoformat(found.received_at)
    order_keys = [f"{system}:ticket:{record}" for system, record in ticket["links"].items()]
    order_keys += [f"{system}:case:{record}" for system, record in ticket["links"].items()]
    conditions = [OutboxAction.order_key.in_(order_keys)]
    if inbox_ids:
        conditions.append(OutboxAction.inbox_id.in_(inbox_ids))
    actions = db.execute(select(OutboxAction).where(or_(*conditions)).order_by(OutboxAction.id).limit(limit)).scalars()
    for action in actions:
        entries.append({"at": clock.isoformat(action.done_at or action.created_at), "kind": "action",
                        "system": action.system, "type": action.operation, "state": action.status,
                        "summary": _action_summary(action)})
    entries.sort(key=lambda e: e["at"])
    return ticket, entries


def _event_entry(event: AnalyticsEvent) -> dict:
    kind = "banking" if event.source in BANKING_SOURCES else "event"
    return {"at": clock.isoformat(event.at), "kind": kind, "system": event.source, "type": event.type,
            "summary": event.summary, "state": None, "inbox_id": event.inbox_id}


def _action_summary(action: OutboxAction) -> str:
    """A short, redacted view of what the action sent (keys only for bodies; no customer text on screen)."""
    try:
        payload = redact_value(json.loads(action.payload))
    except ValueError:
        return ""
    shown = [f"{k}={v}" for k, v in payload.items() if isinstance(v, (str, int, float)) and len(str(v)) <= 40
             and k not in ("body", "description", "comment", "html_body")]
    others = [k for k, v in payload.items() if not (isinstance(v, (str, int, float)) and len(str(v)) <= 40)]
    text = ", ".join(shown[:6]) + (f" (+{', '.join(others[:4])})" if others else "")
    if action.last_error:
        text += f" — last error: {action.last_error[:120]}"
    return text[:300]
