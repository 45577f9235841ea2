"""Unit-test harness for event plugins: a migrated hub with fake connectors, events run through the real
pipeline (enrich → on_event in one transaction), and the outbox read back as plain dicts."""

from __future__ import annotations

import copy
import json
from itertools import count

from sqlalchemy import select

from hub.db import AuditEntry, OutboxAction
from hub.hookspecs import hookimpl
from hub.inbox import store_event
from hub.pipeline import StateStore, process_next_event

SUMMARY = {
    "object": "customer_summary", "customer_id": "CUST-0001", "status": "active", "name": "Fatima Garcia",
    "segment": "end_user", "kyc_status": "verified", "organisation": None,
    "accounts": [{"id": "ACC-0001-01", "status": "active", "currency": "EUR", "balance": "100.00"}],
    "cards": [{"id": "CARD-0001-01", "last4": "0614", "brand": "visa", "status": "active"}],
    "recent_failed_payments": [], "open_disputes": [], "lifetime_value": "1200.00",
    "as_of": "2026-11-28T12:00:00Z",
}


class FakeBank:
    name = "core_banking"

    def __init__(self):
        self.summaries = {"CUST-0001": copy.deepcopy(SUMMARY)}
        self.reads: list[str] = []
        self.fail_with: Exception | None = None

    def customer_summary(self, customer_id):
        self.reads.append(customer_id)
        if self.fail_with is not None:
            raise self.fail_with
        return copy.deepcopy(self.summaries.get(customer_id))

    def get_customer(self, customer_id):
        return {"id": customer_id, "email": f"{customer_id.lower()}@example.org"}

    def find_customer_by_email(self, email):
        return next(({"id": cid} for cid in self.summaries if email.startswith(cid.lower())), None)

    def execute(self, operation, payload, idempotency_key):
        return {}

    def check(self):
        return {"ok": True, "detail": "fake"}


class FakeZendesk:
    name = "zendesk"

    def __init__(self):
        self.users = {"CUST-0001": {"id": 501, "external_id": "CUST-0001", "email": "cust-0001@example.org"}}
        self.requested: dict[int, list[dict]] = {}
        self.client = self

    def find(self, object, external_id):
        return self.users.get(external_id)

    def get(self, object, id):
        return next((u for u in self.users.values() if u["id"] == int(id)), None)

    def pages(self, path, resource, params=None):
        user_id = int(path.split("/")[1])
        yield list(self.requested.get(user_id, []))

    def execute(self, operation, payload, idempotency_key):
        return {}

    def check(self):
        return {"ok": True, "detail": "fake"}


class FakeConnectors:
    def __init__(self):
        self.bank, self.zendesk = FakeBank(), FakeZendesk()

    @hookimpl
    def register_connectors(self, hub):
        return [self.bank, self.zendesk]


class Harness:
    def __init__(self, make_hub, plugins: dict, extra=()):
        self.fakes = FakeConnectors()
        self.hub = make_hub(overrides={"plugins": plugins}, plugins=[self.fakes, *extra])
        self._ids = count(1)

    def run(self, event_type: str, data: dict, source: str = "banking", created_at: str = "2026-11-28T12:00:00Z",
            event_id: str | None = None) -> None:
        """Store one event in the inbox and process it now."""
        event_id = event_id or f"evt_{next(self._ids)}"
        payload = {"id": event_id, "type": event_type, "created_at": created_at, "data": data}
        with self.hub.db.session() as session:
            store_event(session, source, event_id, event_type, payload)
        while process_next_event(self.hub, "unit"):
            pass

    def actions(self, system: str | None = None, operation: str | None = None) -> list[dict]:
        with self.hub.db.session() as session:
            rows = session.execute(select(OutboxAction).order_by(OutboxAction.id)).scalars().all()
            found = [{"key": r.key, "system": r.system, "operation": r.operation, "order_key": r.order_key,
                      "payload": json.loads(r.payload)} for r in rows]
        return [a for a in found if system in (None, a["system"]) and operation in (None, a["operation"])]

    def audit(self, action: str) -> list[dict]:
        with self.hub.db.session() as session:
            rows = session.execute(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)).scalars().all()
            return [{"target": r.target, "outcome": r.outcome, "detail": json.loads(r.detail)} for r in rows]

    def state(self, plugin: str, key: str):
        with self.hub.db.session() as session:
            return StateStore(session, plugin).get(key)

    def inbox_status(self) -> list[str]:
        from hub.db import InboxEvent
        with self.hub.db.session() as session:
            return [r.status for r in session.execute(select(InboxEvent).order_by(InboxEvent.id)).scalars()]
