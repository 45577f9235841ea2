"""Fraud alerts end to end: the bank emulator signs ``fraud.alert.created`` to a real hub; the effects are
read back from the Zendesk and bank emulators, the fraud team's webhook receiver and the audit log."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import stripe
from sqlalchemy import select

from hub.db import AuditEntry
from tests.support.banking_stack import STRIPE_SECRET, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def fraud_plugins(auto_freeze: dict | None = None) -> dict:
    return {
        "customer_context": {},
        "fraud_alerts": lambda receiver: {
            "notify": {"webhook_url": receiver.url},
            "ticket": {"group": "Fraud"},
            "auto_freeze": auto_freeze or {"enabled": False},
        },
    }


FREEZE_POLICY = {"enabled": True, "min_risk_score": 0.9, "segments": ["end_user"]}


@pytest.fixture
def make_stack(make_hub):
    started = []

    def factory(auto_freeze: dict | None = None):
        built, running = start_stack(make_hub, fraud_plugins(auto_freeze))
        started.append((built, running))
        return built
    yield factory
    for built, running in started:
        stop_stack(built, running)


@pytest.fixture
def stack(make_stack):
    return make_stack()


@pytest.fixture
def freezing_stack(make_stack):
    return make_stack(FREEZE_POLICY)


def alert(alert_id: str, score: float = 0.72, customer: str = "CUST-0001", **extra) -> dict:
    return {"alert_id": alert_id, "customer_id": customer, "risk_score": score, "reason": "card testing pattern",
            "amount": "59.90", "currency": "EUR", **extra}


def fraud_tickets(stack) -> list[dict]:
    return [t for t in stack.tickets() if (t.get("external_id") or "").startswith("fraud-")]


def audit_rows(hub, action: str) -> list[AuditEntry]:
    with hub.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars().all()
        for row in rows:
            session.expunge(row)
        return rows


def test_alerts_for_one_customer_become_one_urgent_case(stack):
    stack.emit("fraud.alert.created", alert("AL-100"))
    stack.settle()
    [ticket] = fraud_tickets(stack)
    assert ticket["external_id"] == "fraud-CUST-0001-AL-100"
    assert ticket["priority"] == "urgent" and "compliance_fraud" in ticket["tags"]
    assert stack.field_values(ticket)["Risk score"] in (0.72, "0.72")
    requester = stack.http.get(f"{stack.zendesk_api}/users/{ticket['requester_id']}.json",
                               auth=("agent@sandbox.test/token", "sandbox-token"), timeout=10).json()["user"]
    assert requester["external_id"] == "CUST-0001"
    notes = stack.comments(ticket["id"])
    # one write created the ticket: its internal opening comment holds the alert and the customer context note
    assert notes[0]["body"].startswith("Fraud case AL-100 opened by Deskbridge")
    context = [c for c in notes if "Customer context (Deskbridge)" in c["body"]]
    assert context == [notes[0]] and context[0]["public"] is False
    assert "KYC status: verified" in context[0]["body"] and "•••• 0614" in context[0]["body"]
    assert all(not c["public"] for c in notes)

    stack.emit("fraud.alert.created", alert("AL-101", score=0.81, card_last4="0614"))
    stack.settle()
    [same] = fraud_tickets(stack)
    assert same["id"] == ticket["id"]
    follow_ups = [c for c in stack.comments(ticket["id"]) if c["body"].startswith("Further fraud alert")]
    assert len(follow_ups) == 1 and follow_ups[0]["public"] is False and "AL-101" in follow_ups[0]["body"]
    assert stack.field_values(same)["Risk score"] in (0.81, "0.81")
    # the customer's context has not changed: still one context note
    assert len([c for c in stack.comments(ticket["id"]) if "Customer context (Deskbridge)" in c["body"]]) == 1

    # the same alert again, under a new webhook id: nothing more happens
    stack.emit("fraud.alert.created", alert("AL-101", score=0.81, card_last4="0614"))
    stack.settle()
    assert len(stack.comments(ticket["id"])) == len(notes) + 1
    assert len(stack.receiver.bodies) == 1
    message = stack.receiver.bodies[0]
    assert "fraud-CUST-0001-AL-100" in message["text"] and message["blocks"]


def test_another_customer_gets_its_own_case(stack):
    stack.emit("fraud.alert.created", alert("AL-200"))
    stack.emit("fraud.alert.created", alert("AL-201", customer="CUST-0002"))
    stack.settle()
    assert sorted(t["external_id"] for t in fraud_tickets(stack)) == ["fraud-CUST-0001-AL-200",
                                                                    "fraud-CUST-0002-AL-201"]
    assert len(stack.receiver.bodies) == 2


def test_high_score_freezes_the_card_under_policy(freezing_stack):
    stack = freezing_stack
    assert stack.card("CARD-0001-01")["status"] == "active"
    stack.emit("fraud.alert.created", alert("AL-300", score=0.97, card_last4="0614"))
    stack.settle()
    assert stack.card("CARD-0001-01")["status"] == "frozen"
    requested = audit_rows(stack.hub, "card.auto_freeze")
    assert [(r.target, r.outcome) for r in requested] == [("CARD-0001-01", "requested")]
    assert [r.target for r in audit_rows(stack.hub, "card.frozen")] == ["CARD-0001-01"]
    [ticket] = fraud_tickets(stack)
    assert any("•••• 0614 is being frozen" in c["body"] for c in stack.comments(ticket["id"]))


def test_policy_keeps_cards_active_below_threshold_or_outside_segments(freezing_stack):
    stack = freezing_stack
    stack.emit("fraud.alert.created", alert("AL-400", score=0.5, card_last4="0614"))
    stack.emit("fraud.alert.created", alert("AL-401", score=0.99, customer="CUST-0003", card_last4="8758"))
    stack.settle()
    assert stack.card("CARD-0001-01")["status"] == "active"
    assert stack.card("CARD-0003-01")["status"] == "active"  # an investor: not in the policy's segments
    skipped = audit_rows(stack.hub, "card.auto_freeze")
    assert sorted(r.outcome for r in skipped) == ["skipped", "skipped"]


def test_stripe_early_fraud_warning_opens_a_case(stack):
    fixtures = Path(__file__).parents[1] / "fixtures/webhooks/stripe"
    warning = json.loads((fixtures / "openapi_radar.early_fraud_warning.json").read_text())
    warning["metadata"] = {"customer_id": "CUST-0002"}
    event = json.loads((fixtures / "openapi_event.json").read_text())
    event.update(id="evt_e2e_efw_1", type="radar.early_fraud_warning.created", created=int(time.time()),
                 data={"object": warning})
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, STRIPE_SECRET)
    answer = stack.http.post(stack.hub_url + "/webhooks/stripe", data=payload.encode(), timeout=10,
                             headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    stack.settle()
    [ticket] = fraud_tickets(stack)
    assert ticket["external_id"] == f"fraud-CUST-0002-{warning['id']}"
    assert ticket["priority"] == "urgent" and "compliance_fraud" in ticket["tags"]
    assert len(stack.receiver.bodies) == 1
