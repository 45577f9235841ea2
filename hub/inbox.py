"""The inbox: every inbound event stored once, deduplicated by (source, event id), before anyone acks it."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub import clock, wakeups
from hub.db import InboxEvent, dumps
from hub.logs import mask_pans_deep


def store_event(session: Session, source: str, event_id: str, type: str, payload: dict,
                received_at: datetime | None = None) -> tuple[int, bool]:
    """Insert an event unless (source, event_id) is already stored.

    :return: ``(row_id, created)``; ``created`` is False for a duplicate, which must cause no second effect.
    The caller commits (``Database.session()`` does) before acknowledging the sender.
    """
    existing = session.execute(
        select(InboxEvent.id).where(InboxEvent.source == source, InboxEvent.event_id == event_id)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    now = received_at or clock.now()
    # PCI DSS 3.5.1: no full card number is ever stored, not even in the raw inbound payload.
    row = InboxEvent(source=source, event_id=str(event_id)[:255], type=type[:100], payload=dumps(mask_pans_deep(payload)),
                     received_at=now, status="pending", attempts=0, available_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # a concurrent delivery of the same id won the race
        existing = session.execute(
            select(InboxEvent.id).where(InboxEvent.source == source, InboxEvent.event_id == event_id)
        ).scalar_one()
        return existing, False
    wakeups.after_commit(session, "inbox")
    return row.id, True


def load_payload(row: InboxEvent) -> dict:
    return json.loads(row.payload)
