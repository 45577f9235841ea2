"""Events → analytics facts, written in the event's own transaction (so each event counts exactly once).

A ticket is one row keyed by the first record seen (``<system>:<id>``); every linked record and external id is an
alias of it, so a Zendesk ticket and its Salesforce case are one ticket. First response is the first public
comment by an agent role; resolution is the time from creation to the last move into ``solved``/``closed``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import SimpleNamespace

from hub.clock import isoformat, parse_time
from hub.console import rollup
from hub.console.models import AnalyticsAlias, AnalyticsEvent, AnalyticsTicket
from hub.logs import mask_pans

PLUGIN = "analytics"
CATEGORIES = ("payments", "cards", "disputes", "fees", "kyc_verification", "account_management", "account_access",
              "compliance_fraud")
TICKET_EVENTS = frozenset({"ticket.created", "ticket.updated"})
COMMENT_EVENTS = frozenset({"comment.created"})
CSAT_EVENTS = frozenset({"satisfaction.rated", "satisfaction_rating.created", "csat.rated"})
SLA_EVENTS = frozenset({"sla.warning", "sla.breached"})
SOLVED = frozenset({"solved", "closed"})
BANKING_SOURCES = frozenset({"banking", "stripe"})
CREATE_OPERATIONS = frozenset({"create_ticket", "upsert_ticket", "create_case", "upsert_case"})


def _time(values: Mapping, *names: str, default: datetime) -> datetime:
    for name in names:
        value = values.get(name)
        if isinstance(value, datetime):
            return value
        if isinstance(value, str) and value:
            try:
                return parse_time(value)
            except ValueError:
                continue
    return default


def _ticket_of(data: Mapping) -> Mapping:
    inner = data.get("ticket")
    return inner if isinstance(inner, Mapping) else data


def category_of(ticket: Mapping, enrichment: Mapping) -> str | None:
    """From enrichment (the categorisation plugin), the ticket's own field, or a category tag."""
    found = enrichment.get("category")
    if isinstance(found, Mapping):
        found = found.get("category")
    if isinstance(found, str) and found in CATEGORIES:
        return found
    fields = ticket.get("fields") if isinstance(ticket.get("fields"), Mapping) else {}
    for value in (ticket.get("category"), fields.get("category"), fields.get("Category")):
        if isinstance(value, str) and value in CATEGORIES:
            return value
    for tag in ticket.get("tags") or ():
        if tag in CATEGORIES:
            return tag
    return None


def customer_of(ticket: Mapping, enrichment: Mapping) -> str | None:
    for source in (ticket, ticket.get("customer") or {}, ticket.get("requester") or {}, enrichment,
                   enrichment.get("customer") or {}):
        if isinstance(source, Mapping):
            value = source.get("customer_id") or source.get("bank_customer_id")
            if value:
                return str(value)[:64]
    return None


def csat_of(value) -> str | None:
    """``good``/``bad`` from a Zendesk-style rating (``{"score": "good"}``), a word, or a 1–5 score."""
    if isinstance(value, Mapping):
        value = value.get("score")
    if isinstance(value, str):
        value = value.strip().lower()
        if value in ("good", "bad"):
            return value
        if value.isdigit():
            value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 5:
        return "good" if value >= 4 else "bad"
    return None


def resolve(session, aliases: list[str]) -> str | None:
    for alias in aliases:
        found = session.get(AnalyticsAlias, alias)
        if found is not None:
            return found.ticket_key
    return None


def _aliases(system: str, ticket: Mapping) -> list[str]:
    found = [f"{system}:{ticket.get('id')}"]
    links = ticket.get("links")
    if isinstance(links, Mapping):
        found += [f"{other}:{record_id}" for other, record_id in links.items() if record_id]
    if ticket.get("external_id"):
        found.append(f"ext:{ticket['external_id']}")
    return [a[:300] for a in found]


def _remember(session, key: str, aliases: list[str]) -> None:
    for alias in aliases:
        if session.get(AnalyticsAlias, alias) is None:
            session.add(AnalyticsAlias(alias=alias, ticket_key=key))
    session.flush()


def _log(session, event, key: str | None, customer: str | None, summary: str, at: datetime) -> None:
    data = event.payload.get("data") if isinstance(event.payload, Mapping) else None
    data = data if isinstance(data, Mapping) else (event.payload if isinstance(event.payload, Mapping) else {})
    # A change found by polling is shown under the system it came from, not as "sync".
    source = str(data.get("system") or event.source)[:32] if event.source == "sync" else event.source
    session.add(AnalyticsEvent(inbox_id=event.id if isinstance(getattr(event, "id", None), int) else None,
                               ticket_key=key, customer_id=customer, source=source, type=event.type,
                               at=at, summary=mask_pans(summary)[:255]))


FLOW_MINUTES = 60


def record_flow(ctx, direction: str, system: str, at: datetime) -> None:
    """Per system: last event in (``in``) or last successful action out (``out``, with per-minute counts for the
    last hour), so the console's sync health never scans the inbox or outbox."""
    store = ctx.state(PLUGIN)
    key = f"flow:{direction}:{system}"[:255]
    value = store.get(key) or {}
    entry = {"last": isoformat(max(at, parse_time(value["last"])) if value.get("last") else at)}
    if direction == "out":
        cutoff = (at - timedelta(minutes=FLOW_MINUTES)).strftime("%Y-%m-%dT%H:%M")
        minutes = {m: n for m, n in (value.get("minutes") or {}).items() if m > cutoff}
        minute = at.strftime("%Y-%m-%dT%H:%M")
        minutes[minute] = minutes.get(minute, 0) + 1
        entry["minutes"] = minutes
    store.set(key, entry)


def record_event(event, ctx) -> None:
    session = ctx.session
    data = event.data if isinstance(event.data, Mapping) else {}
    record_flow(ctx, "in", str(data.get("system") or event.source) if event.source == "sync" else event.source,
                event.received_at)
    at = _time(data, "updated_at", "created_at", "at", default=event.received_at)
    if event.type in TICKET_EVENTS:
        record_ticket(session, str(data.get("system") or event.source), data, event.enrichment or {}, event, at)
    elif event.type in COMMENT_EVENTS:
        _comment(ctx, str(data.get("system") or event.source), data, event)
    elif event.type in CSAT_EVENTS:
        _csat(session, str(data.get("system") or event.source), data, event, at)
    elif event.type in SLA_EVENTS:
        _sla(session, data, event, at)
    elif event.type == "ticket.deleted":
        ticket = _ticket_of(data)
        key = resolve(session, _aliases(str(data.get("system") or event.source), ticket))
        if key is not None:
            row = session.get(AnalyticsTicket, key)
            before = rollup.contribution(row)
            row.status = "deleted"
            rollup.apply(session, before, None)
            _log(session, event, key, None, "ticket deleted", at)
    elif event.source in BANKING_SOURCES:
        customer = data.get("customer_id")
        detail = data.get("reason") or data.get("status") or data.get("failure_code") or data.get("title") or ""
        _log(session, event, None, str(customer)[:64] if customer else None,
             f"{event.type} {detail}".strip(), _time(event.payload if isinstance(event.payload, Mapping) else {},
                                                      "created_at", default=event.received_at))


def record_ticket(session, system: str, data: Mapping, enrichment: Mapping, event, at: datetime,
                  log: bool = True) -> str | None:
    """Create or update the ticket's row (and running sums); ``log`` adds a timeline entry."""
    ticket = _ticket_of(data)
    if ticket.get("id") in (None, ""):
        return None
    aliases = _aliases(system, ticket)
    key = resolve(session, aliases) or aliases[0][:160]
    row = session.get(AnalyticsTicket, key)
    before = rollup.contribution(row)
    created = _time(ticket, "created_at", default=at)
    if row is None:
        row = AnalyticsTicket(key=key, system=system, record_id=str(ticket["id"])[:64], created_at=created,
                              created_day=created.strftime("%Y-%m-%d"), updated_at=at, status="new",
                              sla_state="running", subject="", links="{}")
        session.add(row)
    elif at < row.updated_at:
        # An older change seen late (sync overlap) must not undo a newer one; it still joins the timeline.
        _remember(session, key, aliases)
        if log:
            _log(session, event, key, row.customer_id, f"{event.type} (older change)", at)
        return key
    row.updated_at = at
    row.external_id = str(ticket["external_id"])[:255] if ticket.get("external_id") else row.external_id
    row.subject = mask_pans(str(ticket.get("subject") or row.subject or ""))[:255]
    row.customer_id = customer_of(ticket, enrichment) or row.customer_id
    row.category = category_of(ticket, enrichment) or row.category
    if ticket.get("priority"):
        row.priority = str(ticket["priority"]).lower()[:16]
    status = str(ticket.get("status") or row.status or "new").lower()[:16]
    _set_status(row, status, at)
    rating = csat_of(ticket.get("satisfaction_rating"))
    if rating:
        row.csat, row.csat_at = rating, row.csat_at or at
    links = json.loads(row.links or "{}")
    links.update({a.split(":", 1)[0]: a.split(":", 1)[1] for a in aliases if not a.startswith("ext:")})
    row.links = json.dumps(links, sort_keys=True)
    rollup.apply(session, before, rollup.contribution(row))
    _remember(session, key, aliases)
    if log:
        detail = "".join(f", {v}" for v in (row.priority, row.category) if v)
        _log(session, event, key, row.customer_id, f"{event.type}: {status}{detail}", at)
    return key


def _set_status(row: AnalyticsTicket, status: str, at: datetime) -> None:
    if status in SOLVED and row.solved_at is None:
        row.solved_at = max(at, row.created_at)
        row.resolution_seconds = int((row.solved_at - row.created_at).total_seconds())
        if row.sla_state in ("running", "at_risk"):
            row.sla_state = "met"
    elif status not in SOLVED and row.solved_at is not None:
        row.solved_at = None  # reopened: resolution is measured again at the next solve
        row.resolution_seconds = None
        if row.sla_state == "met":
            row.sla_state = "running"
    row.status = status


def _comment(ctx, system: str, data: Mapping, event) -> None:
    session = ctx.session
    comment = data.get("comment") if isinstance(data.get("comment"), Mapping) else data
    ticket = comment.get("ticket") if isinstance(comment.get("ticket"), Mapping) else {}
    ticket_id = comment.get("ticket_id") or ticket.get("id")
    external = comment.get("ticket_external_id") or ticket.get("external_id")
    aliases = ([f"{system}:{ticket_id}"] if ticket_id is not None else []) + ([f"ext:{external}"] if external else [])
    key = resolve(session, aliases)
    at = _time(comment, "created_at", default=event.received_at)
    role = str(comment.get("author_role") or "").lower()
    public = comment.get("public", True) is not False
    agent_roles = {r.lower() for r in _config(ctx).agent_roles}
    row = session.get(AnalyticsTicket, key) if key else None
    if row is not None and role in agent_roles and public and row.first_response_at is None:
        before = rollup.contribution(row)
        row.first_response_at = max(at, row.created_at)
        row.frt_seconds = int((row.first_response_at - row.created_at).total_seconds())
        rollup.apply(session, before, rollup.contribution(row))
    who = "agent" if role in agent_roles else (role or "unknown")
    _log(session, event, key or (aliases[0][:160] if aliases else None), row.customer_id if row else None,
         f"{'public' if public else 'internal'} comment by {who}", at)


def _csat(session, system: str, data: Mapping, event, at: datetime) -> None:
    rating = data.get("satisfaction_rating") if isinstance(data.get("satisfaction_rating"), Mapping) else data
    ticket_id = rating.get("ticket_id") or data.get("ticket_id")
    aliases = [f"{system}:{ticket_id}"] if ticket_id is not None else []
    if rating.get("external_id") or data.get("ticket_external_id"):
        aliases.append(f"ext:{rating.get('external_id') or data.get('ticket_external_id')}")
    key = resolve(session, aliases)
    score = csat_of(rating.get("score") if "score" in rating else rating.get("rating"))
    row = session.get(AnalyticsTicket, key) if key else None
    if row is not None and score:
        before = rollup.contribution(row)
        row.csat, row.csat_at = score, at
        rollup.apply(session, before, rollup.contribution(row))
    _log(session, event, key, row.customer_id if row else None, f"satisfaction rated {score or 'unreadable'}", at)


def _sla(session, data: Mapping, event, at: datetime) -> None:
    records = data.get("records") if isinstance(data.get("records"), Mapping) else {}
    aliases = [f"{s}:{i}" for s, i in records.items()] + ([str(data["ticket_key"])] if data.get("ticket_key") else [])
    key = resolve(session, aliases)
    row = session.get(AnalyticsTicket, key) if key else None
    if row is not None:
        before = rollup.contribution(row)
        if event.type == "sla.breached":
            row.sla_state = "breached"
        elif row.sla_state == "running":
            row.sla_state = "at_risk"
        rollup.apply(session, before, rollup.contribution(row))
    target = str(data.get("target") or "").replace("_", " ")
    _log(session, event, key, row.customer_id if row else None,
         f"SLA {target} {'breached' if event.type == 'sla.breached' else 'warning'}".replace("  ", " "), at)


def record_created_by_hub(action, result, ctx) -> None:
    if action.operation not in CREATE_OPERATIONS:
        return
    ticket = dict(_ticket_of(action.payload))
    if action.payload.get("external_id"):
        ticket.setdefault("external_id", action.payload["external_id"])
    record_id = (result or {}).get("id") or (result or {}).get("ticket_id") or ticket.get("id")
    if record_id is None:
        return
    ticket["id"] = record_id
    now = ctx.now()
    cause = []
    if action.inbox_id:
        cause = ctx.session.query(AnalyticsEvent).filter(AnalyticsEvent.inbox_id == action.inbox_id).all()
    if not ticket.get("customer_id"):
        ticket["customer_id"] = next((e.customer_id for e in cause if e.customer_id), None)
    done = SimpleNamespace(id=None, source=action.system, type=f"{action.system}.{action.operation}",
                           payload=ticket, received_at=now)
    # No timeline entry of its own: the outbox action itself is on the timeline.
    key = record_ticket(ctx.session, action.system, {**ticket, "created_at": ticket.get("created_at") or now},
                        {}, done, now, log=False)
    for event in cause:  # the banking event that caused this ticket belongs on its timeline
        if event.ticket_key is None and key:
            event.ticket_key = key


def _config(ctx):
    from plugins.analytics import Config
    found = ctx.hub.plugin_config(PLUGIN)
    return found if isinstance(found, Config) else Config.model_validate(found or {})
