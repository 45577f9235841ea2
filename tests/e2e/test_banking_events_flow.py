"""Banking events end to end: the bank emulator's own actions (a failed payment, a freeze, a KYC decision)
emit signed events to a real hub; tickets and notes are read back from the Zendesk emulator."""

from __future__ import annotations

import pytest

from hub.pipeline import StateStore
from tests.support.banking_stack import start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BANK = {"Authorization": "Bearer sandbox-key"}


@pytest.fixture
def stack(make_hub):
    built, running = start_stack(make_hub, {"customer_context": {}, "banking_events": {}})
    yield built
    stop_stack(built, running)


def fail_payment(stack, customer: str, amount: str = "42.00", code: str = "insufficient_funds") -> str:
    answer = stack.http.post(f"{stack.sandbox.url}/_sandbox/bank/payments", timeout=10,
                             json={"customer_id": customer, "amount": amount, "failure_code": code})
    answer.raise_for_status()
    return answer.json()["id"]


def bank_post(stack, path: str, body: dict) -> dict:
    answer = stack.http.post(f"{stack.sandbox.url}/bank/v1/{path}", json=body, headers=BANK, timeout=10)
    answer.raise_for_status()
    return answer.json()


def hub_tickets(stack, prefix: str) -> list[dict]:
    return [t for t in stack.tickets() if (t.get("external_id") or "").startswith(prefix)]


def context_notes(stack, ticket_id: int) -> list[str]:
    """The customer context notes on a ticket: the one inside the create's first comment, then later ones."""
    title = "Customer context (Deskbridge)"
    notes = [c["body"][c["body"].index(title):] for c in stack.comments(ticket_id) if title in c["body"]]
    return notes


def test_failed_payments_open_one_ticket_then_add_notes(stack):
    first = fail_payment(stack, "CUST-0001")
    stack.settle()
    [ticket] = hub_tickets(stack, "payment-failed-")
    assert ticket["external_id"] == f"payment-failed-CUST-0001-{first}"
    assert "payments" in ticket["tags"] and ticket["priority"] == "normal"
    [note] = context_notes(stack, ticket["id"])
    assert "Recent failed payments: 1" in note and first in note
    [opening] = stack.comments(ticket["id"])  # one write opened the ticket: the event and its context together
    assert opening["body"].startswith(f"Payment {first} failed") and opening["public"] is False

    second = fail_payment(stack, "CUST-0001", amount="13.37", code="card_declined")
    stack.settle()
    assert [t["id"] for t in hub_tickets(stack, "payment-failed-")] == [ticket["id"]]
    bodies = [c["body"] for c in stack.comments(ticket["id"])]
    assert any(b.startswith(f"Payment {second} failed: 13.37") for b in bodies)
    notes = context_notes(stack, ticket["id"])
    assert len(notes) == 2 and "Recent failed payments: 2" in notes[-1]

    # the bank re-sends the first failure under a new event id: no second effect
    count = len(bodies)
    stack.emit("payment.failed", {"payment_id": first, "customer_id": "CUST-0001", "amount": "42.00",
                                  "currency": "EUR", "failure_code": "insufficient_funds"})
    stack.settle()
    assert len(stack.comments(ticket["id"])) == count


def test_failed_payment_lands_on_the_customers_open_payments_ticket(stack):
    before = {t["id"] for t in stack.tickets()}
    payment = fail_payment(stack, "CUST-0016")
    stack.settle()
    assert {t["id"] for t in stack.tickets()} == before  # no new ticket
    [seeded] = [t for t in stack.tickets() if "payments" in t["tags"] and t["status"] == "new"
                and any(f"Payment {payment} failed" in c["body"] for c in stack.comments(t["id"]))]
    assert not [c for c in stack.comments(seeded["id"]) if payment in c["body"] and c["public"]]


def test_frozen_account_opens_a_high_priority_access_ticket(stack):
    bank_post(stack, "accounts/ACC-0002-01/freeze", {"reason": "suspicious_activity"})
    stack.settle()
    [ticket] = hub_tickets(stack, "account-frozen-ACC-0002-01-")
    assert ticket["priority"] == "high" and "account_access" in ticket["tags"]
    assert "ACC-0002-01 GBP frozen" in context_notes(stack, ticket["id"])[0]
    assert stack.field_values(ticket)["Account status"] == "frozen"

    bank_post(stack, "accounts/ACC-0002-01/unfreeze", {"reason": "customer verified"})
    stack.settle()
    assert len(hub_tickets(stack, "account-frozen-")) == 1
    bodies = [c["body"] for c in stack.comments(ticket["id"])]
    assert any(b.startswith("Account ACC-0002-01 was unfrozen") for b in bodies)
    assert "ACC-0002-01 GBP active" in context_notes(stack, ticket["id"])[-1]


def test_kyc_change_refreshes_context_on_open_tickets_once(stack):
    answer = stack.http.post(f"{stack.sandbox.url}/_sandbox/bank/customers/CUST-0004/kyc", timeout=10,
                             json={"status": "verified"})
    answer.raise_for_status()
    stack.settle()
    user = stack.http.get(f"{stack.zendesk_api}/users/search.json", params={"external_id": "CUST-0004"},
                          auth=("agent@sandbox.test/token", "sandbox-token"), timeout=10).json()["users"][0]
    opened = [t for t in stack.tickets() if t["requester_id"] == user["id"] and t["status"] in ("new", "open")]
    assert len(opened) == 2
    for ticket in opened:
        [note] = context_notes(stack, ticket["id"])
        assert "KYC status: verified" in note
        assert stack.field_values(ticket)["KYC status"] == "verified"
    stack.emit("kyc.status.changed", {"customer_id": "CUST-0004", "status": "verified"})
    stack.settle()
    assert all(len(context_notes(stack, t["id"])) == 1 for t in opened)


def test_disputes_and_incidents_are_kept_for_their_plugins(stack):
    base = {"dispute_id": "DSP-9", "customer_id": "CUST-0001", "transaction_id": "TXN-1", "amount": "20.00",
            "currency": "EUR"}
    stack.emit("dispute.opened", {**base, "status": "needs_response"})
    stack.settle()
    stack.emit("dispute.updated", {**base, "status": "under_review"})
    stack.emit("incident.opened", {"incident_id": "INC-1", "title": "Card payments degraded", "severity": "major"})
    stack.settle()
    with stack.hub.db.session() as session:
        store = StateStore(session, "banking_events")
        dispute, incident = store.get("dispute:DSP-9"), store.get("incident:INC-1")
    assert dispute["status"] == "under_review" and dispute["customer_id"] == "CUST-0001"
    assert [e["type"] for e in dispute["events"]] == ["dispute.opened", "dispute.updated"]
    assert incident["status"] == "open" and incident["data"]["severity"] == "major"
