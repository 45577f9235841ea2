"""The inbox: every inbound event stored once, deduplicated by (source, event id), before anyone acks it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

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
    values = _values(source, event_id, type, payload, received_at or clock.now())
    event_id = values["event_id"]
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


def _values(source: str, event_id: str, type: str, payload: dict, now: datetime) -> dict:
    # PCI DSS 3.5.1: no full card number is ever stored, not even in the raw inbound payload.
    return {"source": source, "event_id": str(event_id)[:255], "type": type[:100],
            "payload": dumps(mask_pans_deep(payload)), "received_at": now, "status": "pending", "attempts": 0,
            "available_at": now}


def store_batch(db, items: Sequence[tuple[str, str, str, dict]]) -> list[tuple[int, bool]]:
    """Store ``(source, event_id, type, payload)`` items in one committed transaction (the webhook group commit).

    :return: ``(row_id, created)`` per item, in order; a repeated (source, event id), also within ``items``,
        is ``created=False`` with the stored row's id. Committed before it returns; workers are woken after.

    On SQLite (the embedded default) the rows go through the raw DB-API connection: the same
    ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` as ``store_event``, with the column types' own bind
    conversions, but without the ORM/Core execution layers, which cost more than the insert itself.
    """
    if not items:
        return []
    now = clock.now()
    if not db.is_sqlite:
        with db.session() as session:
            return [store_event(session, source, event_id, type, payload, now)
                    for source, event_id, type, payload in items]
    rows = [_values(source, event_id, type, payload, now) for source, event_id, type, payload in items]
    convert = _sqlite_converters(db.engine.dialect)
    results = []
    with db.sqlite_write() as conn:
        cursor = conn.cursor()
        try:
            for row in rows:
                cursor.execute(_SQLITE_INSERT, [convert[name](row[name]) for name in _COLUMNS])
                found = cursor.fetchall()  # to the end: no statement may be in progress at COMMIT
                if found:
                    results.append((found[0][0], True))
                    continue
                cursor.execute(_SQLITE_EXISTING, (row["source"], row["event_id"]))
                results.append((cursor.fetchall()[0][0], False))
        finally:
            cursor.close()
    if any(created for _, created in results):
        wakeups.notify("inbox")
    return results


_COLUMNS = ("source", "event_id", "type", "payload", "received_at", "status", "attempts", "available_at")
_SQLITE_INSERT = (f"INSERT INTO inbox ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
                  "ON CONFLICT (source, event_id) DO NOTHING RETURNING id")
_SQLITE_EXISTING = "SELECT id FROM inbox WHERE source = ? AND event_id = ?"


@lru_cache(maxsize=4)
def _sqlite_converters(dialect) -> dict:
    """Each column's bind conversion on this dialect (``UTCDateTime`` → the text SQLAlchemy stores)."""
    identity = lambda value: value  # noqa: E731
    columns = InboxEvent.__table__.c
    return {name: columns[name].type.bind_processor(dialect) or identity for name in _COLUMNS}


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
