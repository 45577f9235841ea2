"""``dispute.*`` and ``incident.*`` kept in plugin state for the dispute and incident plugins to read.

State keys (plugin ``banking_events``): ``dispute:<dispute id>`` and ``incident:<incident id>`` →
``{"id", "type" (last event type), "status", "data" (latest data), "updated_at", "events": [...]}``;
the latest event by ``created_at`` wins, so a late redelivery never rolls a record back.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.clock import isoformat, parse_time

PLUGIN = "banking_events"
MAX_HISTORY = 50
INCIDENT_STATUS = {"incident.opened": "open", "incident.resolved": "resolved"}


def _created_at(event) -> str:
    raw = event.payload.get("created_at") if isinstance(event.payload, Mapping) else None
    try:
        return isoformat(parse_time(raw)) if isinstance(raw, str) else isoformat(event.received_at)
    except ValueError:
        return isoformat(event.received_at)


def keep(event, ctx) -> dict | None:
    """Store a dispute or incident event; returns the updated record (None for other types)."""
    kind, _, _ = event.type.partition(".")
    if kind not in ("dispute", "incident"):
        return None
    data = event.data
    record_id = data.get(f"{kind}_id")
    if not record_id:
        return None
    store = ctx.state(PLUGIN)
    key = f"{kind}:{record_id}"
    record = store.get(key) or {"id": str(record_id), "kind": kind, "type": None, "status": None, "data": {},
                                "updated_at": None, "events": []}
    if any(e["event_id"] == event.event_id for e in record["events"]):
        return record
    at = _created_at(event)
    status = data.get("status") if kind == "dispute" else INCIDENT_STATUS.get(event.type)
    record["events"] = (record["events"] + [{"event_id": event.event_id, "type": event.type, "status": status,
                                             "at": at}])[-MAX_HISTORY:]
    if record["updated_at"] is None or at >= record["updated_at"]:
        record.update(type=event.type, status=status, data=dict(data), updated_at=at)
        if kind == "dispute":
            record["customer_id"] = data.get("customer_id")
    store.set(key, record)
    return record
