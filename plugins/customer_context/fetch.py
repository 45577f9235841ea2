"""``enrich_event``: the customer's context from core banking, and their help-desk tickets (reads only)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from hub.errors import PermanentError, RetryableError

log = logging.getLogger(__name__)
OPEN_STATUSES = ("new", "open", "pending", "hold")
SUMMARY_KEYS = ("name", "status", "segment", "kyc_status", "organisation", "accounts", "cards",
                "recent_failed_payments", "open_disputes", "lifetime_value", "as_of")


def ticket_of(data: Mapping) -> Mapping:
    """The ticket inside a ticket event's data (canonical events nest it under ``ticket``)."""
    ticket = data.get("ticket")
    return ticket if isinstance(ticket, Mapping) else data


def customer_ref(event) -> tuple[str | None, str | None, int | None]:
    """``(customer_id, email, zendesk requester id)`` named by an event, any of them None."""
    data = event.data if isinstance(event.data, Mapping) else {}
    if not event.type.startswith("ticket."):
        customer = data.get("customer_id")
        return (str(customer) if customer else None), None, None
    ticket = ticket_of(data)
    requester = ticket.get("requester") if isinstance(ticket.get("requester"), Mapping) else {}
    customer = ticket.get("customer_id") or requester.get("customer_id") or requester.get("external_id")
    email = ticket.get("requester_email") or requester.get("email")
    system = str(data.get("system") or ticket.get("system") or event.source)
    requester_id = ticket.get("requester_id") if system in ("zendesk", "sync") else None
    try:
        requester_id = int(requester_id) if requester_id is not None else None
    except (TypeError, ValueError):
        requester_id = None
    return (str(customer) if customer else None), (str(email) if email else None), requester_id


def zendesk_user(zendesk, customer_id: str) -> dict | None:
    return zendesk.find("customer", customer_id) if zendesk is not None else None


def requested_tickets(zendesk, user_id: int) -> list[dict]:
    """The user's tickets in the help desk, newest update first, trimmed to what plugins decide on."""
    # The connector's contract has no "tickets of a requester" read; its client pages any v2 list endpoint.
    found = [t for page in zendesk.client.pages(f"users/{int(user_id)}/tickets/requested.json", "tickets")
             for t in page]
    found.sort(key=lambda t: (t.get("updated_at") or "", t.get("id") or 0), reverse=True)
    return [{"id": t.get("id"), "external_id": t.get("external_id"), "status": t.get("status"),
             "priority": t.get("priority"), "subject": t.get("subject"), "tags": list(t.get("tags") or []),
             "updated_at": t.get("updated_at")} for t in found]


def build_context(bank, zendesk, customer_id: str | None, email: str | None, requester_id: int | None,
                  with_tickets: bool) -> dict:
    """The enrichment dict: ``{"customer": {...}}`` plus ``customer_tickets`` when asked for."""
    zd_user = None
    if customer_id is None and requester_id is not None and zendesk is not None:
        zd_user = zendesk.get("customer", requester_id)
        customer_id = (zd_user or {}).get("external_id") or None
        email = email or (zd_user or {}).get("email")
    if customer_id is None and email and bank is not None:
        found = bank.find_customer_by_email(email)
        customer_id = (found or {}).get("id")
    if customer_id is None:
        return {}
    context: dict = {"customer_id": customer_id, "found": False}
    summary = bank.customer_summary(customer_id) if bank is not None else None
    if summary:
        context.update({k: summary.get(k) for k in SUMMARY_KEYS})
        context["found"] = True
    if zendesk is not None:
        zd_user = zd_user if (zd_user or {}).get("external_id") == customer_id else zendesk_user(zendesk, customer_id)
    context["zendesk_user_id"] = (zd_user or {}).get("id")
    if context["found"] and context["zendesk_user_id"] is None and bank is not None:
        # Only needed to create the requester of a new ticket; the summary carries no e-mail address.
        person = bank.get_customer(customer_id) or {}
        context["email"] = person.get("email")
    enrichment = {"customer": context}
    if with_tickets:
        user_id = context["zendesk_user_id"]
        enrichment["customer_tickets"] = requested_tickets(zendesk, user_id) if user_id is not None else []
    return enrichment


def enrich(event, ctx, config) -> dict | None:
    """The hook body: skip events it has no business with; degrade to no context after repeated outages."""
    if event.type not in config.event_types:
        return None
    customer_id, email, requester_id = customer_ref(event)
    if not (customer_id or email or requester_id):
        return None
    connectors = ctx.hub.connectors
    bank, zendesk = connectors.get("core_banking"), connectors.get("zendesk")
    try:
        return build_context(bank, zendesk, customer_id, email, requester_id,
                             with_tickets=event.type in config.ticket_lookup_types)
    except RetryableError as exc:
        if event.attempts < config.retry_attempts:
            raise
        log.warning("event %s proceeds without customer context after %d attempts: %s",
                    event.id, event.attempts, exc)
        return {"customer": {"customer_id": customer_id, "found": False, "unavailable": str(exc)[:200]}}
    except PermanentError as exc:
        log.warning("event %s: customer context unavailable: %s", event.id, exc)
        return {"customer": {"customer_id": customer_id, "found": False, "unavailable": str(exc)[:200]}}
