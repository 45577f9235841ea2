"""Pipeline driver for time-bound plugins (SLA, escalation): a hub on a controlled clock, events sent through the
real pipeline, and the outbox, inbox and audit log read back as plain tuples and dicts."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from hub import clock
from hub.db import AuditEntry, InboxEvent, OutboxAction
from hub.inbox import store_event
from hub.pipeline import process_next_event

T0 = datetime(2026, 1, 13, 10, 0, tzinfo=timezone.utc)  # Tuesday, GMT


class Driver:
    """Sends events to one hub and reads back what they caused; `at()` moves the controlled clock."""

    def __init__(self, hub, now):
        self.hub = hub
        self._now = now
        self._seq = 0

    def at(self, moment: datetime) -> None:
        self._now[0] = moment

    def send(self, type_: str, data: dict, source: str = "zendesk") -> None:
        self._seq += 1
        with self.hub.db.session() as session:
            store_event(session, source, f"e{self._seq}", type_, {"data": data})
        self.drain()

    def drain(self) -> None:
        while process_next_event(self.hub, "test"):
            pass

    def outbox(self, operation: str | None = None) -> list[tuple[str, str, str, dict]]:
        with self.hub.db.session() as session:
            rows = session.execute(select(OutboxAction).order_by(OutboxAction.id)).scalars()
            found = [(r.system, r.operation, r.key, json.loads(r.payload)) for r in rows]
        return [row for row in found if operation is None or row[1] == operation]

    def inbox(self, source: str) -> list[tuple[str, str, str]]:
        with self.hub.db.session() as session:
            rows = session.execute(select(InboxEvent).where(InboxEvent.source == source).order_by(InboxEvent.id))
            return [(r.type, r.event_id, r.status) for r in rows.scalars()]

    def audit(self, action: str) -> list[dict]:
        with self.hub.db.session() as session:
            rows = session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars()
            return [{"target": r.target, **json.loads(r.detail)} for r in rows]


@pytest.fixture
def controlled_clock():
    """`hub.clock` pinned to a settable moment (starts at T0); yields the one-item list holding it."""
    now = [T0]
    clock.set_clock(lambda: now[0])
    yield now
    clock.set_clock(None)


@pytest.fixture
def drive(make_hub, controlled_clock):
    """Factory: `drive({plugin: config})` builds a hub with those plugins and returns its Driver."""
    def factory(plugins: dict) -> Driver:
        return Driver(make_hub({"plugins": plugins}), controlled_clock)
    return factory
