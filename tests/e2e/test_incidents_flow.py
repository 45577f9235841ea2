"""Incidents end to end: the bank emulator signs ``incident.opened`` / ``incident.resolved`` to a real hub; the
problem ticket, tagged customer tickets and their drafts are read back from the Zendesk emulator, the notices
from the bank emulator."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests
from standardwebhooks import Webhook

from hub.sandbox.bank.state import DEFAULT_WEBHOOK_SECRET
from tests.support.banking_stack import start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
INCIDENT = {"incident_id": "INC-E2E-1", "title": "card payments", "severity": "critical"}


@pytest.fixture
def stack(make_hub):
    built, running = start_stack(make_hub, {"incidents": {"notices": {"per_run": 50}}})
    built.hub_url = running.url
    yield built
    stop_stack(built, running)


def notices(stack, template: str) -> list[str]:
    sent = stack.http.get(f"{stack.sandbox.url}/_sandbox/bank/notifications", timeout=10).json()["notifications"]
    return sorted(n["customer_id"] for n in sent if n["template"] == template)


def open_tickets_of(stack, customer_id: str) -> list[dict]:
    user = zendesk_user(stack, customer_id)
    return [t for t in stack.tickets() if t["status"] in ("new", "open", "pending", "hold")
            and t["requester_id"] == user]


def zendesk_user(stack, customer_id: str) -> int:
    found = stack.http.get(f"{stack.zendesk_api}/users/search.json", params={"external_id": customer_id},
                           auth=("agent@sandbox.test/token", "sandbox-token"), timeout=10).json()["users"]
    return found[0]["id"]


def replay(stack, event: dict) -> None:
    """The same webhook delivered again (same webhook-id), signed as the bank signs it."""
    body = json.dumps({k: event[k] for k in ("id", "type", "created_at", "data")}, separators=(",", ":"))
    now = datetime.now(timezone.utc)
    answer = requests.post(stack.hub_url + "/webhooks/banking", data=body, timeout=10, headers={
        "content-type": "application/json", "webhook-id": event["id"], "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(DEFAULT_WEBHOOK_SECRET).sign(event["id"], now, body)})
    assert answer.status_code < 300


def test_incident_notifies_tags_and_resolves(stack):
    affected = ["CUST-0030", "CUST-0012"]
    tickets_before = {c: open_tickets_of(stack, c) for c in affected}
    assert tickets_before["CUST-0030"], "the seed gives CUST-0030 open tickets"
    opened = stack.emit("incident.opened", {**INCIDENT, "affected": affected})
    stack.settle()
    problem = stack.ticket_by_external_id("incident-INC-E2E-1")
    assert problem["type"] == "problem" and problem["priority"] == "urgent"
    assert notices(stack, "incident_opened") == sorted(affected)
    for customer, before in tickets_before.items():
        for ticket in before:
            current = next(t for t in stack.tickets() if t["id"] == ticket["id"])
            assert "incident_inc-e2e-1" in current["tags"] and "incident" in current["tags"]
            drafts = [c for c in stack.comments(ticket["id"]) if "Suggested public reply" in c["body"]]
            assert len(drafts) == 1 and drafts[0]["public"] is False
            assert "aware of an issue affecting card payments" in drafts[0]["body"]

    replay(stack, opened)
    stack.emit("incident.opened", {**INCIDENT, "affected": affected})
    stack.settle()
    assert notices(stack, "incident_opened") == sorted(affected)
    assert len([t for t in stack.tickets() if t.get("external_id") == "incident-INC-E2E-1"]) == 1
    for ticket in tickets_before["CUST-0030"]:
        assert len([c for c in stack.comments(ticket["id"]) if "Suggested public reply" in c["body"]]) == 1

    resolved = stack.emit("incident.resolved", INCIDENT)
    stack.settle()
    replay(stack, resolved)
    stack.settle()
    assert stack.ticket_by_external_id("incident-INC-E2E-1")["status"] == "solved"
    assert notices(stack, "incident_resolved") == sorted(affected)
    problem_notes = [c["body"] for c in stack.comments(problem["id"])]
    assert len([b for b in problem_notes if b.startswith("The bank resolved incident INC-E2E-1")]) == 1


def test_a_segment_is_notified_from_the_bank(stack):
    stack.emit("incident.opened", {**INCIDENT, "incident_id": "INC-E2E-2", "affected": {"segment": "investor"}})
    stack.settle()
    investors = sorted(c["id"] for c in stack.http.get(f"{stack.sandbox.url}/bank/v1/customers",
                                                         params={"limit": 100}, timeout=10,
                                                         headers={"Authorization": "Bearer sandbox-key"}
                                                         ).json()["data"] if c["segment"] == "investor")
    assert len(investors) == 5
    assert notices(stack, "incident_opened") == investors
