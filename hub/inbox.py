"""The inbox: every inbound event stored once, deduplicated by (source, event id), before anyone acks it."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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

    On SQLite and PostgreSQL this is one ``INSERT … ON CONFLICT (source, event_id) DO NOTHING RETURNING id``
    (no read before, no savepoint): the unique constraint decides, also between concurrent deliveries, and a
    duplicate answers with the stored row's id. Other databases take the ORM path with a savepoint.
    """
    event_id = str(event_id)[:255]
    now = received_at or clock.now()
    # PCI DSS 3.5.1: no full card number is ever stored, not even in the raw inbound payload.
    values = {"source": source, "event_id": event_id, "type": type[:100], "payload": dumps(mask_pans_deep(payload)),
              "received_at": now, "status": "pending", "attempts": 0, "available_at": now}
    statement = _INSERTS.get(session.get_bind().dialect.name)
    if statement is not None:
        row_id = session.execute(statement, values).scalar()
        if row_id is None:
            return _existing_id(session, source, event_id), False
        wakeups.after_commit(session, "inbox")
        return row_id, True
    if (existing := session.execute(_EXISTING, {"source": source, "event_id": event_id}).scalar()) is not None:
        return existing, False
    row = InboxEvent(**values)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # a concurrent delivery of the same id won the race
        return _existing_id(session, source, event_id), False
    wakeups.after_commit(session, "inbox")
    return row.id, True


def _insert_ignoring_duplicates(insert):
    table = InboxEvent.__table__
    return insert(table).on_conflict_do_nothing(index_elements=["source", "event_id"]).returning(table.c.id)


_INSERTS = {"sqlite": _insert_ignoring_duplicates(sqlite_insert),
            "postgresql": _insert_ignoring_duplicates(postgresql_insert)}
_EXISTING = select(InboxEvent.id).where(InboxEvent.source == bindparam("source"),
                                        InboxEvent.event_id == bindparam("event_id"))


def _existing_id(session: Session, source: str, event_id: str) -> int:
    return session.execute(_EXISTING, {"source": source, "event_id": event_id}).scalar_one()


def load_payload(row: InboxEvent) -> dict:
    return json.loads(row.payload)
