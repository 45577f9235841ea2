"""``enrich_event`` reads for incidents (outside the write transaction): who is affected, and the open
help-desk tickets of the customers in a batch."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from hub.errors import PermanentError

log = logging.getLogger(__name__)
OPEN_STATUSES = ("new", "open", "pending", "hold")
GONE = ("closed", "erased")


def segment_of(affected) -> str | None:
    if isinstance(affected, str):
        return affected.strip() or None
    if isinstance(affected, Mapping) and isinstance(affected.get("segment"), str):
        return affected["segment"].strip() or None
    return None


def listed_ids(affected) -> list[str]:
    """Customer ids named in the event, in order, without repeats."""
    if not isinstance(affected, list):
        return []
    seen: dict[str, None] = {}
    for item in affected:
        if isinstance(item, str) and item.strip():
            seen.setdefault(item.strip(), None)
    return list(seen)


def segment_members(bank, segment: str, limit: int) -> tuple[list[str], bool]:
    """Active customers of a segment, by id; and whether the list was cut at ``limit``."""
    found: list[str] = []
    # The bank API has no segment filter: its customer list is paged and filtered here.
    for page in bank.client.pages("customers", {"segment": segment}):
        for customer in page:
            if customer.get("segment") == segment and customer.get("status") not in GONE and customer.get("id"):
                if len(found) >= limit:
                    return found, True
                found.append(str(customer["id"]))
    return found, False


def open_tickets(zendesk, customer_id: str) -> list[dict]:
    """The customer's open tickets in Zendesk (not the hub's own incident tickets)."""
    user = zendesk.find("customer", customer_id)
    if not user:
        return []
    tickets = [t for page in zendesk.client.pages(f"users/{int(user['id'])}/tickets/requested.json", "tickets")
               for t in page]
    return [{"id": t["id"], "external_id": t.get("external_id"), "subject": t.get("subject")}
            for t in sorted(tickets, key=lambda t: t["id"])
            if t.get("status") in OPEN_STATUSES and not str(t.get("external_id") or "").startswith("incident-")]


def enrich(event, ctx, config) -> dict | None:
    connectors = ctx.hub.connectors
    data = event.data
    if event.type == "incident.opened":
        segment = segment_of(data.get("affected"))
        if segment is None:
            return {"incident_audience": {"customers": listed_ids(data.get("affected")), "segment": None,
                                          "cut": False}}
        bank = connectors.get("core_banking")
        if bank is None:
            raise PermanentError("incidents: a segment audience needs the core_banking connector")
        members, cut = segment_members(bank, segment, config.notices.max_audience)
        return {"incident_audience": {"customers": members, "segment": segment, "cut": cut}}
    if event.type == "incident.batch" and data.get("phase") == "opened" and config.open_tickets.enabled:
        zendesk = connectors.get("zendesk")
        if zendesk is None:
            return None
        return {"incident_tickets": {cid: open_tickets(zendesk, cid) for cid in data.get("customers") or []}}
    return None
