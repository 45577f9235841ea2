"""A migrated hub with the disputes plugin and recording fake connectors; events run through the real pipeline."""

from __future__ import annotations

import json
from itertools import count

import pytest
from sqlalchemy import select

from hub.db import AuditEntry, OutboxAction
from hub.hookspecs import hookimpl
from hub.inbox import store_event
from hub.pipeline import StateStore, process_next_event


class FakeConnector:
    """Answers each operation from ``results`` (a dict, or an exception to raise); records what it was sent."""

    def __init__(self, name: str):
        self.name = name
        self.results: dict = {}
        self.calls: list[tuple[str, dict, str]] = []

    def execute(self, operation, payload, idempotency_key):
        self.calls.append((operation, payload, idempotency_key))
        answer = self.results.get(operation, {})
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)

    def check(self):
        return {"ok": True, "detail": "fake"}


class Connectors:
    def __init__(self):
        self.zendesk, self.bank = FakeConnector("zendesk"), FakeConnector("core_banking")

    @hookimpl
    def register_connectors(self, hub):
        return [self.zendesk, self.bank]


class RefundGate:
    """Stands in for the identity plugin: refuses refunds until ``verified`` holds the customer."""

    def __init__(self):
        self.verified: set[str] = set()

    @hookimpl
    def decide_action_allowed(self, system, operation, payload, ctx):
        if (system, operation) == ("core_banking", "create_refund") and payload.get("customer_id") not in self.verified:
            return f"identity not verified for {payload.get('customer_id')}"
        return None


class Harness:
    def __init__(self, make_hub, config: dict | None = None, gate: RefundGate | None = None,
                 others: dict | None = None):
        self.connectors = Connectors()
        extra = [self.connectors] + ([gate] if gate else [])
        self.hub = make_hub(overrides={"plugins": {"disputes": config or {}, **(others or {})}}, plugins=extra)
        self.ids = count(1)

    def run(self, event_type: str, data: dict, created_at: str = "2026-11-28T12:00:00Z", source: str = "banking",
            event_id: str | None = None) -> None:
        event_id = event_id or f"evt_{next(self.ids)}"
        payload = {"id": event_id, "type": event_type, "created_at": created_at, "data": data}
        with self.hub.db.session() as session:
            store_event(session, source, event_id, event_type, payload)
        self.drain()

    def drain(self) -> None:
        while process_next_event(self.hub, "unit"):
            pass

    def execute_outbox(self) -> None:
        from hub.pipeline import process_next_action
        while process_next_action(self.hub, "unit"):
            pass
        self.drain()

    def actions(self, system: str | None = None, operation: str | None = None) -> list[dict]:
        with self.hub.db.session() as session:
            rows = session.execute(select(OutboxAction).order_by(OutboxAction.id)).scalars().all()
            found = [{"id": r.id, "key": r.key, "system": r.system, "operation": r.operation,
                      "order_key": r.order_key, "payload": json.loads(r.payload)} for r in rows]
        return [a for a in found if system in (None, a["system"]) and operation in (None, a["operation"])]

    def notes(self) -> list[str]:
        return [a["payload"]["body"] for a in self.actions("zendesk", "add_comment")]

    def state(self, key: str):
        with self.hub.db.session() as session:
            return StateStore(session, "disputes").get(key)

    def audit(self, action: str) -> list[dict]:
        with self.hub.db.session() as session:
            rows = session.execute(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)).scalars().all()
            return [{"target": r.target, "outcome": r.outcome, "detail": json.loads(r.detail)} for r in rows]

    def inbox_status(self) -> list[str]:
        from hub.db import InboxEvent
        with self.hub.db.session() as session:
            return [r.status for r in session.execute(select(InboxEvent).order_by(InboxEvent.id)).scalars()]


def dispute(status: str = "needs_response", dispute_id: str = "DSP-1", **extra) -> dict:
    return {"dispute_id": dispute_id, "customer_id": "CUST-0001", "transaction_id": "TXN-0001-01",
            "amount": "59.90", "currency": "EUR", "status": status,
            "evidence_due_by": "2026-12-19T12:00:00Z", **extra}


@pytest.fixture
def harness(make_hub):
    return lambda config=None, gate=None, others=None: Harness(make_hub, config, gate, others)
