"""A migrated hub with the incidents plugin, fake bank and Zendesk readers; events run through the pipeline."""

from __future__ import annotations

import json
from itertools import count

import pytest
from sqlalchemy import select

from hub.db import OutboxAction
from hub.hookspecs import hookimpl
from hub.inbox import store_event
from hub.pipeline import StateStore, process_next_event

CUSTOMERS = [{"id": f"CUST-{n:04d}", "segment": "merchant" if n % 2 else "end_user",
              "status": "closed" if n == 9 else "active"} for n in range(1, 13)]


class FakeBank:
    name = "core_banking"

    def __init__(self):
        self.client = self
        self.listed = 0

    def pages(self, path, params=None):
        assert path == "customers"
        for start in range(0, len(CUSTOMERS), 5):
            self.listed += 1
            yield [dict(c) for c in CUSTOMERS[start:start + 5]]

    def execute(self, operation, payload, idempotency_key):
        return {}

    def check(self):
        return {"ok": True, "detail": "fake"}


class FakeZendesk:
    """Users CUST-0001..3 exist; CUST-0001 has an open and a solved ticket, CUST-0003 one pending."""

    name = "zendesk"
    TICKETS = {101: [{"id": 11, "status": "open", "subject": "card declined"},
                     {"id": 12, "status": "solved", "subject": "old"},
                     {"id": 13, "status": "open", "external_id": "incident-INC-1", "subject": "ours"}],
               102: [], 103: [{"id": 31, "status": "pending", "subject": "app down?"}]}

    def __init__(self):
        self.client = self

    def find(self, object, external_id):
        number = int(external_id.split("-")[1])
        return {"id": 100 + number, "external_id": external_id} if number <= 3 else None

    def pages(self, path, resource):
        yield [dict(t) for t in self.TICKETS[int(path.split("/")[1])]]

    def execute(self, operation, payload, idempotency_key):
        return {}

    def check(self):
        return {"ok": True, "detail": "fake"}


class Connectors:
    @hookimpl
    def register_connectors(self, hub):
        return [FakeBank(), FakeZendesk()]


class Harness:
    def __init__(self, make_hub, config: dict | None = None):
        self.hub = make_hub(overrides={"plugins": {"incidents": config or {}}}, plugins=[Connectors()])
        self.ids = count(1)

    def run(self, event_type: str, data: dict, event_id: str | None = None) -> None:
        event_id = event_id or f"evt_{next(self.ids)}"
        with self.hub.db.session() as session:
            store_event(session, "banking", event_id, event_type,
                        {"id": event_id, "type": event_type, "created_at": "2026-11-28T12:00:00Z", "data": data})
        self.drain()

    def drain(self) -> None:
        while process_next_event(self.hub, "unit"):
            pass

    def actions(self, system: str | None = None, operation: str | None = None) -> list[dict]:
        with self.hub.db.session() as session:
            rows = session.execute(select(OutboxAction).order_by(OutboxAction.id)).scalars().all()
            found = [{"key": r.key, "system": r.system, "operation": r.operation, "order_key": r.order_key,
                      "payload": json.loads(r.payload)} for r in rows]
        return [a for a in found if system in (None, a["system"]) and operation in (None, a["operation"])]

    def notified(self, phase: str = "opened") -> list[str]:
        return [a["payload"]["customer_id"] for a in self.actions("core_banking", "send_notification")
                if a["payload"]["template"] == f"incident_{phase}"]

    def state(self, key: str):
        with self.hub.db.session() as session:
            return StateStore(session, "incidents").get(key)

    def inbox(self) -> list[tuple[str, str]]:
        from hub.db import InboxEvent
        with self.hub.db.session() as session:
            return [(r.type, r.status) for r in session.execute(select(InboxEvent).order_by(InboxEvent.id)).scalars()]


def incident(affected=None, incident_id: str = "INC-1", **extra) -> dict:
    data = {"incident_id": incident_id, "title": "card payments", "severity": "critical", **extra}
    if affected is not None:
        data["affected"] = affected
    return data


@pytest.fixture
def harness(make_hub):
    return lambda config=None: Harness(make_hub, config)
