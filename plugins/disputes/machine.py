"""The dispute state machine, pure: bank (or Stripe) statuses mapped onto the hub's states, and events applied
so that any delivery order converges on the same record.

States: ``opened → evidence_required → submitted → won | lost | closed``. A state only moves forward: an event
applies its status when ``(rank, created_at, status)`` is greater than the record's, so the result is the
maximum over all events seen — the same whatever order they arrive in. Data fields (evidence due, amount) come
from the event latest by ``(created_at, rank, event id)``, again an order-free maximum. Money moved back is a
separate track: ``refund.state`` is ``provisional_credit``, ``refund_requested``, ``refund_issued``,
``refund_refused`` or ``refund_failed``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hub.clock import isoformat, parse_time

RANK = {"opened": 0, "evidence_required": 1, "submitted": 2, "won": 3, "lost": 3, "closed": 3}
FINAL = ("won", "lost", "closed")
STATUS_OF = {
    "open": "opened", "opened": "opened", "new": "opened",
    "needs_response": "evidence_required", "warning_needs_response": "evidence_required",
    "evidence_required": "evidence_required",
    "under_review": "submitted", "warning_under_review": "submitted", "submitted": "submitted",
    "won": "won", "lost": "lost", "closed": "closed", "warning_closed": "closed", "charge_refunded": "closed",
}
# Hub state → the bank status that states it (for write-back comparisons).
BANK_STATUS = {"evidence_required": "needs_response", "submitted": "under_review", "won": "won", "lost": "lost"}
LABELS = {"opened": "Opened", "evidence_required": "Evidence required", "submitted": "Evidence submitted",
          "won": "Won", "lost": "Lost", "closed": "Closed"}
REFUND_LABELS = {"provisional_credit": "provisional credit", "refund_requested": "refund requested",
                 "refund_issued": "refund issued", "refund_refused": "refund waiting for identity check",
                 "refund_failed": "refund failed"}
DATA_FIELDS = ("customer_id", "transaction_id", "amount", "currency", "evidence_due_by")
MAX_EVENTS = 100


def external_id(dispute_id) -> str:
    """The hub's deterministic external id of a dispute's ticket."""
    return "dispute-" + re.sub(r"[^A-Za-z0-9_.-]", "_", str(dispute_id))[:80]


def hub_status(event_type: str, data: Mapping) -> str | None:
    """The hub state an event states (None: the status is unknown and the event carries data only)."""
    raw = str(data.get("status") or "").strip().lower()
    outcome = str(data.get("outcome") or "").strip().lower()
    mapped = STATUS_OF.get(raw)
    if event_type == "dispute.closed":
        if outcome in ("won", "lost"):
            return outcome
        return mapped if mapped in FINAL else "closed"
    if outcome in ("won", "lost") and mapped in FINAL:
        return outcome
    if mapped is None and event_type == "dispute.opened":
        return "opened"
    return mapped


def normal_time(value, fallback: str) -> str:
    try:
        return isoformat(parse_time(value)) if isinstance(value, str) else fallback
    except ValueError:
        return fallback


def new_record(dispute_id) -> dict:
    return {"dispute_id": str(dispute_id), "external_id": external_id(dispute_id), "status": None,
            "status_key": None, "data_key": None, "customer_id": None, "transaction_id": None, "amount": None,
            "currency": None, "evidence_due_by": None, "history": [], "events": [], "refund": None, "rev": 0,
            "ticket_id": None, "writeback": None, "reminded_for": None}


def apply(record: dict, event_id: str, event_type: str, data: Mapping, at: str) -> dict:
    """Apply one event to ``record`` in place.

    :param at: the event's ``created_at``, normalised (``normal_time``).
    :return: ``{"duplicate", "status_changed", "previous", "data_changed"}``.
    """
    outcome = {"duplicate": False, "status_changed": False, "previous": record["status"], "data_changed": False}
    if event_id in record["events"]:
        outcome["duplicate"] = True
        return outcome
    record["events"] = (record["events"] + [event_id])[-MAX_EVENTS:]
    status = hub_status(event_type, data)
    if status is not None:
        key = [RANK[status], at, status]
        if record["status_key"] is None or key > record["status_key"]:
            record["status_key"] = key
            if status != record["status"]:
                record["status"] = status
                record["history"].append({"status": status, "at": at, "event_id": event_id})
                outcome["status_changed"] = True
    data_key = [at, RANK.get(status or "", -1), event_id]
    if record["data_key"] is None or data_key > record["data_key"]:
        record["data_key"] = data_key
        for name in DATA_FIELDS:
            value = data.get(name)
            if name == "evidence_due_by":
                value = normal_time(value, None) if value else None
            elif value is not None:
                value = str(value)
            if value is None and name != "evidence_due_by":
                continue  # an event without the field keeps what is known
            if record.get(name) != value:
                record[name] = value
                outcome["data_changed"] = True
    return outcome


def display_status(record: Mapping) -> str:
    """What the "Dispute status" field shows: the state, and the money track when there is one."""
    status = record.get("status") or "opened"
    refund = (record.get("refund") or {}).get("state")
    return f"{status}; {refund}" if refund else status


def is_final(record: Mapping) -> bool:
    return record.get("status") in FINAL


def bank_rank(bank_status: str) -> int:
    return RANK[STATUS_OF[bank_status]]
