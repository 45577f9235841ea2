"""Cursors per (system, object): saved in the same transaction as the page they follow, so a crash resumes."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import clock
from hub.db import dumps
from hub.sync.models import SyncCursor


def load(session: Session, system: str, object: str) -> dict | None:
    row = session.get(SyncCursor, (system, object))
    return json.loads(row.cursor) if row else None


def save(session: Session, system: str, object: str, cursor: dict) -> None:
    row = session.get(SyncCursor, (system, object))
    if row is None:
        session.add(SyncCursor(system=system, object=object, cursor=dumps(cursor), updated_at=clock.now()))
    else:
        row.cursor = dumps(cursor)
        row.updated_at = clock.now()


def all_cursors(session: Session) -> list[dict]:
    rows = session.execute(select(SyncCursor).order_by(SyncCursor.system, SyncCursor.object)).scalars()
    return [{"system": r.system, "object": r.object, "updated_at": json.loads(r.cursor).get("updated_at"),
             "saved_at": clock.isoformat(r.updated_at)} for r in rows]
