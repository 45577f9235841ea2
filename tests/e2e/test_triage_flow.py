"""Triage end to end on the demo config (issue 6): a signed ``account.frozen`` event from the bank emulator →
an account_access ticket at high priority with its SLA due time → with the clock moved, the SLA warning
escalates to Tier 2 and the breach notifies the demo's webhook, each once and within 60 s of falling due.
A ticket a customer opens in Zendesk is categorised (tag, "Category" field, group) through the sync engine.

Time is moved, never waited for: one clock shared by the hub and the sandbox, jobs run one tick at a time.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.clock import parse_time
from tests.support.demo_hub import start_demo_hub

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
    assert len(demo.audit_entries("escalation.fired")) == 2
    assert len(change_moments(demo, ticket["id"], "priority", "urgent")) == 1
    assert len(escalation_writes(demo, ticket["id"])) == 2  # level 1: group, priority; level 2 only notifies
    assert len(notes(demo, ticket["id"], f"Escalation level 1 ({ESCALATION_RULE})")) == 1
    assert len(notes(demo, ticket["id"], f"Escalation level 2 ({ESCALATION_RULE})")) == 1
