"""Drives the plugins under test: events through the real pipeline, the outbox and plugin state read back."""

from __future__ import annotations

import json
from itertools import count

from sqlalchemy import select

from hub.db import OutboxAction
from hub.inbox import store_event
from hub.pipeline import StateStore, process_next_event


class Driver:
    def __init__(self, hub):
        self.hub = hub
        self._ids = count(1)

    def send(self, event_type: str, data: dict, source: str = "sync", event_id: str | None = None) -> None:
        event_id = event_id or f"e{next(self._ids)}"
        with self.hub.db.session() as session:
            store_event(session, source, event_id, event_type, {"id": event_id, "type": event_type, "data": data})
        while process_next_event(self.hub, "test"):
            pass

    def actions(self, operation: str | None = None) -> list[dict]:
        with self.hub.db.session() as session:
            rows = session.execute(select(OutboxAction).order_by(OutboxAction.id)).scalars().all()
            found = [{"key": r.key, "system": r.system, "operation": r.operation, "payload": json.loads(r.payload)}
                     for r in rows]
        return [a for a in found if operation in (None, a["operation"])]

    def state(self, plugin: str, key: str):
        with self.hub.db.session() as session:
            return StateStore(session, plugin).get(key)

    def csat_summary(self) -> dict:
        from plugins.sentiment.csat import summary
        with self.hub.db.session() as session:
            return summary(StateStore(session, "sentiment"))
