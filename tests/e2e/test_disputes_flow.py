"""Disputes end to end: the bank emulator opens and moves real disputes and signs the events to a real hub;
effects are read back from the Zendesk and bank emulators and the customer's status page."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
import requests
from standardwebhooks import Webhook

from hub.pipeline import StateStore
from hub.sandbox.bank.state import DEFAULT_WEBHOOK_SECRET
from tests.support.banking_stack import ZD_AUTH, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BANK = {"Authorization": "Bearer sandbox-key"}


@pytest.fixture
def make_stack(make_hub):
    started = []

    def factory(disputes: dict | None = None, sync: bool = False):
        plugins = {"customer_context": {}, "disputes": disputes or {}}
        if sync:
            plugins["sync"] = {}
        built, running = start_stack(make_hub, plugins)
        built.hub_url = running.url
        started.append((built, running))
        return built
    yield factory
    for built, running in started:
        stop_stack(built, running)


def bank(stack, method: str, path: str, **kwargs) -> dict:
    answer = stack.http.request(method, f"{stack.sandbox.url}/bank/v1/{path}", headers=BANK, timeout=10, **kwargs)
    assert answer.status_code < 300, answer.text
    return answer.json()


def field(stack, external_id: str, title: str):
    return stack.field_values(stack.ticket_by_external_id(external_id)).get(title)


def notes(stack, external_id: str) -> list[str]:
    return [c["body"] for c in stack.comments(stack.ticket_by_external_id(external_id)["id"])]


def record(stack, dispute_id: str) -> dict:
    with stack.hub.db.session() as session:
        return StateStore(session, "disputes").get(f"dispute:{dispute_id}")


def test_a_dispute_from_opening_to_refund(make_stack):
    from hub.sync import run_pass

    stack = make_stack(sync=True)
    opened = bank(stack, "POST", "disputes", json={"transaction_id": "TXN-0001-002", "reason": "fraudulent"})
    stack.settle()
    external_id = f"dispute-{opened['id']}"
    ticket = stack.ticket_by_external_id(external_id)
    assert "disputes" in ticket["tags"] and ticket["requester_id"]
    assert stack.field_values(ticket)["Dispute status"] == "evidence_required"
    assert stack.field_values(ticket)["Evidence due"] == opened["evidence_due_by"]
    assert all(not c["public"] for c in stack.comments(ticket["id"]))

    # the customer's notice carries the status page link, served by the hub
    sent = stack.http.get(f"{stack.sandbox.url}/_sandbox/bank/notifications", params={"customer_id": "CUST-0001"},
                          timeout=10).json()["notifications"]
    [notice] = [n for n in sent if n["template"] == "dispute_status"]
    link = re.search(r"http\S+/s/dispute/\S+", notice["message"]).group(0)
    page = requests.get(stack.hub_url + "/s/dispute/" + link.rsplit("/", 1)[1], timeout=10)
    assert page.status_code == 200 and "We are gathering evidence" in page.text

    # the agent solves the ticket in Zendesk; the sync pass sees it and the hub tells the bank
    run_pass(stack.hub, system="zendesk")
    stack.http.put(f"{stack.zendesk_api}/tickets/{ticket['id']}.json", json={"ticket": {"status": "solved"}},
                   auth=ZD_AUTH, timeout=10).raise_for_status()
    run_pass(stack.hub, system="zendesk")
    stack.settle()
    assert bank(stack, "GET", f"disputes/{opened['id']}")["status"] == "under_review"
    stack.settle()  # the bank's dispute.updated comes back
    assert field(stack, external_id, "Dispute status") == "submitted"
    assert any(n.startswith("Dispute status: Evidence required → Evidence submitted.") for n in notes(stack, external_id))

    # the network decides for the customer: the refund goes through the bank with the hub's idempotency key
    bank(stack, "PATCH", f"disputes/{opened['id']}", json={"status": "won"})
    stack.settle()
    stack.settle()
    credits = [t for t in bank(stack, "GET", "customers/CUST-0001/transactions", params={"limit": 100})["data"]
               if t["description"] == "Refund of TXN-0001-002"]
    assert len(credits) == 1 and credits[0]["amount"] == "42.04"
    assert field(stack, external_id, "Dispute status") == "won; refund_issued"
    assert any(n.startswith("Refund RFD-") for n in notes(stack, external_id))
    page = requests.get(stack.hub_url + "/s/dispute/" + link.rsplit("/", 1)[1], timeout=10)
    assert "Decided in your favour" in page.text and "refunded" in page.text


def test_out_of_order_events_converge_and_replays_do_nothing_twice(make_stack):
    stack = make_stack({"refund": {"on_won": False}, "customer_notice": {"enabled": False}})
    base = {"dispute_id": "DSP-E2E-1", "customer_id": "CUST-0002", "transaction_id": "TXN-0002-005",
            "amount": "44.09", "currency": "EUR", "evidence_due_by": "2026-12-30T12:00:00Z"}
    events = [stack.emit("dispute.closed", {**base, "status": "won", "outcome": "won"}),
              stack.emit("dispute.updated", {**base, "status": "under_review"}),
              stack.emit("dispute.opened", {**base, "status": "needs_response"})]
    stack.settle()
    external_id = "dispute-DSP-E2E-1"
    assert record(stack, "DSP-E2E-1")["status"] == "won"
    assert field(stack, external_id, "Dispute status") == "won"
    assert len([t for t in stack.tickets() if t.get("external_id") == external_id]) == 1
    before = notes(stack, external_id)

    # the same webhooks again (same webhook-id), and the same states under new ids
    for event in events:
        body = json.dumps({k: event[k] for k in ("id", "type", "created_at", "data")}, separators=(",", ":"))
        now = datetime.now(timezone.utc)
        answer = requests.post(stack.hub_url + "/webhooks/banking", data=body, timeout=10, headers={
            "content-type": "application/json", "webhook-id": event["id"],
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(DEFAULT_WEBHOOK_SECRET).sign(event["id"], now, body)})
        assert answer.status_code < 300
    stack.emit("dispute.updated", {**base, "status": "under_review"})
    stack.emit("dispute.opened", {**base, "status": "needs_response"})
    stack.settle()
    assert notes(stack, external_id) == before
    assert field(stack, external_id, "Dispute status") == "won"
    assert len([t for t in stack.tickets() if t.get("external_id") == external_id]) == 1
