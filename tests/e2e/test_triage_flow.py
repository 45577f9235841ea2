"""Triage end to end on the demo config (issue 6): a signed ``account.frozen`` event from the bank emulator →
an account_access ticket at high priority with its SLA due time → with the clock moved, the SLA warning
escalates to Tier 2 and the breach notifies the demo's webhook, each once and within 60 s of falling due.
A fraud ticket the hub opens carries its category too, and a ticket a customer opens in Zendesk is categorised
(tag, "Category" field, group) through the sync engine, its category and due time reaching the CRM copies.

Time is moved, never waited for: one clock shared by the hub and the sandbox, jobs run one tick at a time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.clock import parse_time
from tests.support.demo_hub import ZD_AUTH, start_demo_hub

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TICK = 15  # seconds between two runs of the SLA and escalation jobs
WARNING_SHARE = 0.75  # config/demo: sla.warning_share
FIRST_RESPONSE = timedelta(minutes=15)  # config/demo: security-urgent policy
ESCALATION_RULE = "security-sla"


@pytest.fixture
def demo(tmp_path):
    started = start_demo_hub(tmp_path / "data")
    yield started
    started.stop()


def notes(demo, ticket_id: int, prefix: str) -> list[str]:
    return [c["body"] for c in demo.comments(ticket_id) if not c["public"] and c["body"].startswith(prefix)]


def change_moments(demo, ticket_id: int, field_name: str, value) -> list:
    """Sandbox-clock times of the Zendesk audits that set ``field_name`` to ``value``."""
    return [parse_time(audit["created_at"]) for audit in demo.audits(ticket_id)
            for change in audit["events"]
            if change.get("field_name") == field_name and str(change.get("value")) == str(value)]


def escalation_writes(demo, ticket_id: int) -> list[dict]:
    """Escalation's ticket updates (not its notes) for this ticket."""
    return [a for a in demo.outbox_actions("zendesk", "update_ticket")
            if a["key"].startswith("esc:") and str(a["payload"].get("ticket_id")) == str(ticket_id)]


def frozen_ticket(demo) -> dict:
    found = [t for t in demo.tickets() if (t.get("external_id") or "").startswith("account-frozen-ACC-0003-01-")]
    assert len(found) == 1, found
    return found[0]


def test_frozen_account_ticket_escalates_on_warning_and_notifies_on_breach(demo):
    demo.run_jobs()  # nothing is due yet: a tick before any ticket changes nothing
    # the bank freezes the account; its emulator signs account.frozen to the hub's /webhooks/banking
    answer = demo.http.post(f"{demo.sandbox.url}/bank/v1/accounts/ACC-0003-01/freeze", timeout=10,
                            json={"reason": "suspicious_activity"}, headers={"Authorization": "Bearer sandbox-key"})
    answer.raise_for_status()
    demo.settle()
    assert demo.dead() == []
    opened = demo.clock.now()
    ticket = frozen_ticket(demo)
    fields = demo.field_values(ticket)
    assert ticket["priority"] == "high"
    assert "account_access" in ticket["tags"]
    assert fields.get("Category") == "account_access"
    due = parse_time(fields["SLA first response due"])
    created = parse_time(ticket["created_at"])
    assert timedelta(minutes=14) <= due - created <= timedelta(minutes=16)
    assert due <= opened + FIRST_RESPONSE
    warning_due = due - FIRST_RESPONSE * (1 - WARNING_SHARE)

    # one tick before the warning is due: nothing fires
    demo.clock.advance_to(warning_due - timedelta(seconds=5))
    demo.run_jobs()
    assert demo.inbox_events("sla.warning") == []
    assert demo.ticket(ticket["id"])["priority"] == "high"

    # the next tick: the warning fires and escalation level 1 takes the ticket to Tier 2 at urgent priority
    demo.clock.advance(TICK)
    demo.run_jobs()
    [warning] = demo.inbox_events("sla.warning")
    assert warning["status"] == "done" and warning["payload"]["target"] == "first_response"
    assert abs(parse_time(warning["payload"]["at"]) - warning_due) <= timedelta(seconds=1)
    escalated = demo.ticket(ticket["id"])
    assert escalated["group_id"] == demo.group_id("Tier 2")
    assert escalated["priority"] == "urgent"
    [reassign] = [a for a in escalation_writes(demo, ticket["id"]) if "group" in a["payload"]]
    assert reassign["status"] == "done" and reassign["payload"]["group"] == "Tier 2"
    [raised] = change_moments(demo, ticket["id"], "priority", "urgent")
    assert timedelta(0) <= raised - warning_due <= timedelta(seconds=60)
    assert len(notes(demo, ticket["id"], f"Escalation level 1 ({ESCALATION_RULE})")) == 1
    assert demo.notifications() == []

    # one tick before the breach: still no notification
    demo.clock.advance_to(due - timedelta(seconds=5))
    demo.run_jobs()
    assert demo.notifications() == []

    demo.clock.advance(TICK)
    demo.run_jobs()
    [message] = demo.notifications()
    assert timedelta(0) <= parse_time(message["at"]) - due <= timedelta(seconds=60)
    text = message["json"]["text"]
    assert f"Escalation level 2 ({ESCALATION_RULE})" in text and "first response breached" in text
    assert f"zendesk ticket {ticket['id']}" in text
    assert len(notes(demo, ticket["id"], "SLA first response target breached")) == 1

    # later ticks fire nothing again
    for _ in range(3):
        demo.clock.advance(10 * 60)
        demo.run_jobs()
    assert len(demo.notifications()) == 1
    assert len(demo.inbox_events("sla.warning")) == 1
    assert len([e for e in demo.inbox_events("sla.breached") if e["payload"]["target"] == "first_response"]) == 1
    fired = [e for e in demo.audit_entries("escalation.fired") if e["detail"]["rule"] == ESCALATION_RULE]
    assert len(fired) == 2  # CUST-0003 is an investor: the demo's investor-care rule also adds a follower, once
    assert len(change_moments(demo, ticket["id"], "priority", "urgent")) == 1
    security = [a for a in escalation_writes(demo, ticket["id"]) if ESCALATION_RULE in a["key"]]
    assert len(security) == 2  # level 1: group, priority; level 2 only notifies
    assert len(notes(demo, ticket["id"], f"Escalation level 1 ({ESCALATION_RULE})")) == 1
    assert len(notes(demo, ticket["id"], f"Escalation level 2 ({ESCALATION_RULE})")) == 1
    assert demo.dead() == []


# The sandbox's seeded groups for each category (hub/sandbox/zendesk/seeding.py); config/demo sets none.
CATEGORY_GROUPS = {"compliance_fraud": "Fraud", "payments": "Payments", "cards": "Payments", "disputes": "Payments",
                   "fees": "Payments", "kyc_verification": "KYC", "account_access": "Tier 2",
                   "account_management": "Tier 1"}


@pytest.fixture
def synced_demo(tmp_path):
    # Sync passes only from the scheduler job (run_jobs), not also from vendor webhooks in a background thread,
    # so each pass has finished, outbox drained, when the test looks.
    started = start_demo_hub(tmp_path / "data", plugins={"sync": {"webhook_polls": False},
                                                         "categorisation": {"groups": CATEGORY_GROUPS}})
    yield started
    started.stop()


SUBJECT = "Locked out of online banking"


def test_ticket_a_customer_opens_in_zendesk_is_categorised(synced_demo):
    demo = synced_demo
    demo.run_jobs()  # the first sync pass starts each system's cursor at now
    customer = demo.zendesk("users/search.json", external_id="CUST-0005")["users"][0]
    created = demo.http.post(f"{demo.zendesk_api}/tickets.json", auth=ZD_AUTH, timeout=10, json={"ticket": {
        "requester": {"name": customer["name"], "email": customer["email"]},
        "subject": SUBJECT,
        "comment": {"body": "I can't log in to the app any more, it says my passcode is wrong and now I am "
                            "locked out of my account. Please help me get access back."}}})
    created.raise_for_status()
    ticket_id = created.json()["ticket"]["id"]
    # sync passes: the new ticket becomes ticket.created for the plugins and copies in the CRMs; later passes
    # carry the plugins' writes (category, due time, a priority change) on to the copies
    demo.converge()

    ticket = demo.ticket(ticket_id)
    fields = demo.field_values(ticket)
    assert fields.get("Category") == "account_access"
    assert "account_access" in ticket["tags"]
    assert ticket["group_id"] == demo.group_id("Tier 2")
    [event] = [e for e in demo.inbox_events("ticket.created") if e["payload"]["data"]["id"] == str(ticket_id)]
    assert event["source"] == "sync" and event["status"] == "done"
    # the due time of the policy that matches the ticket as it ended up (another plugin may raise its priority)
    due = parse_time(fields["SLA first response due"])
    assert due - parse_time(ticket["created_at"]) >= FIRST_RESPONSE
    # one ticket seen from three systems is one contact, not a repeated one
    assert notes(demo, ticket_id, "Escalation level 1 (repeat-contact)") == []

    [case] = [c for c in demo.salesforce_query("SELECT Id, Subject, Category__c, SLA_First_Response_Due__c FROM Case")
              if c["Subject"] == SUBJECT]
    [crm_ticket] = [t for t in demo.hubspot_tickets("subject", "category", "sla_first_response_due")
                    if t["properties"].get("subject") == SUBJECT]
    assert case["Category__c"] == crm_ticket["properties"]["category"] == "account_access"
    assert parse_time(case["SLA_First_Response_Due__c"]) == due
    assert parse_time(crm_ticket["properties"]["sla_first_response_due"]) == due
    assert len(demo.audit_entries("sla.started")) == 1  # one clock for the ticket and its copies
    assert demo.dead() == []


def test_fraud_ticket_the_hub_opens_carries_its_category_and_sla(demo):
    demo.emit("fraud.alert.created", {"alert_id": "ALERT-E2E-1", "customer_id": "CUST-0002", "risk_score": 0.72,
                                      "reason": "card used in two countries within an hour"})
    demo.settle()
    [ticket] = [t for t in demo.tickets() if (t.get("external_id") or "").startswith("fraud-CUST-0002-")]
    fields = demo.field_values(ticket)
    assert "compliance_fraud" in ticket["tags"]
    assert fields["Category"] == "compliance_fraud"
    assert ticket["group_id"] == demo.group_id("Fraud")
    assert timedelta(minutes=14) <= parse_time(fields["SLA first response due"]) - parse_time(ticket["created_at"]) \
        <= timedelta(minutes=16)
    assert len(demo.notifications()) == 1  # the demo's fraud team webhook, once per case
    assert demo.dead() == []
