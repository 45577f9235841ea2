"""Reading canonical ticket and comment events into the facts the SLA clock needs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hub.clock import parse_time

CATEGORIES = (
    "payments", "cards", "disputes", "fees", "kyc_verification", "account_management", "account_access",
    "compliance_fraud",
)
TICKET_EVENTS = frozenset({"ticket.created", "ticket.updated"})
COMMENT_EVENTS = frozenset({"comment.created"})
AGENT_ROLES = frozenset({"agent", "admin", "staff"})
CUSTOMER_ROLES = frozenset({"end-user", "end_user", "customer", "requester", "contact"})


def ticket_of(data: Mapping) -> Mapping:
    """The ticket dict of an event body (``data`` itself or ``data["ticket"]``)."""
    inner = data.get("ticket")
    return inner if isinstance(inner, Mapping) else data


def category_of(ticket: Mapping, enrichment: Mapping) -> str | None:
    found = enrichment.get("category")
    if isinstance(found, Mapping):
        found = found.get("category")
    if isinstance(found, str) and found:
        return found
    if ticket.get("category"):
        return str(ticket["category"])
    for tag in ticket.get("tags") or ():
        if tag in CATEGORIES:
            return tag
    return None


def segment_of(ticket: Mapping, enrichment: Mapping) -> str | None:
    if ticket.get("segment"):
        return str(ticket["segment"])
    for source in (enrichment, enrichment.get("customer") or {}, ticket.get("customer") or {}):
        if isinstance(source, Mapping) and source.get("segment"):
            return str(source["segment"])
    return None


def ticket_facts(system: str, ticket: Mapping, enrichment: Mapping) -> dict:
    """The canonical fields policies and escalation rules look at."""
    return {
        "system": system,
        "id": str(ticket.get("id")),
        "external_id": ticket.get("external_id"),
        "status": str(ticket.get("status") or "new").lower(),
        "priority": (str(ticket["priority"]).lower() if ticket.get("priority") else None),
        "category": category_of(ticket, enrichment),
        "segment": segment_of(ticket, enrichment),
        "channel": ticket.get("channel"),
    }


def linked_records(system: str, ticket: Mapping) -> dict[str, str]:
    """This record and the linked ones the event names (``links: {system: id}``)."""
    records = {system: str(ticket.get("id"))}
    links = ticket.get("links")
    if isinstance(links, Mapping):
        for other, record_id in links.items():
            if record_id:
                records.setdefault(str(other), str(record_id))
    return records


def comment_ticket_ref(system: str, comment: Mapping) -> tuple[str | None, str | None]:
    """(ticket id in ``system``, ticket external id) of a canonical comment."""
    ticket = comment.get("ticket") if isinstance(comment.get("ticket"), Mapping) else {}
    ticket_id = comment.get("ticket_id") or ticket.get("id")
    external = comment.get("ticket_external_id") or ticket.get("external_id")
    return (str(ticket_id) if ticket_id is not None else None), (str(external) if external else None)


def comment_kind(comment: Mapping) -> str | None:
    """``agent`` for a public agent reply, ``customer`` for a customer message, None otherwise."""
    role = str(comment.get("author_role") or "").lower()
    if role in AGENT_ROLES:
        return "agent" if comment.get("public", True) else None
    if role in CUSTOMER_ROLES:
        return "customer"
    return None


def event_time(values: Mapping, *names: str, default: datetime) -> datetime:
    """The first parseable time among ``names``; ``default`` when none is given or readable."""
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
