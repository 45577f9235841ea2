from datetime import timedelta

import pytest

from hub.inbox import store_event
from plugins.escalation.service import run_timers
from plugins.sla.service import run_due

from .conftest import T0

pytestmark = pytest.mark.unit

HOOK = "https://hooks.slack.test/services/T0/B0/x"
SLA = {"policies": [{"name": "access", "when": {"category": "account_access"},
                     "targets": {"first_response": 15, "resolution": 240}}]}
ESCALATION = {
    "rules": [
        {"name": "access", "when": {"category": "account_access"}, "levels": [
            {"trigger": "sla.warning", "target": "first_response", "actions": [{"reassign": {"tier": "Tier 2"}}]},
            {"trigger": "sla.breached", "target": "first_response", "actions": [{"notify_webhook": {"url": HOOK}}]},
            {"trigger": "previous", "after_minutes": 30, "actions": [{"email": {"to": "duty@bank.test"}}]},
        ]},
        {"name": "investor", "when": {"segment": "investor"},
         "levels": [{"actions": [{"add_followers": ["investor-desk@bank.test"]}, {"raise_priority": "urgent"}]}]},
        {"name": "repeat", "when": {"repeated_contact": {"tickets": 3, "within_hours": 24}},
         "levels": [{"actions": [{"raise_priority": "high"}]}]},
    ]
}


def ticket(number=101, **extra):
    return {"system": "zendesk", "id": number, "status": "new", "priority": "normal", "tags": ["account_access"],
            "created_at": "2026-01-13T10:00:00Z", "customer_id": "CUST-0001", **extra}


def ops(d):
    return [(system, op, key) for system, op, key, _ in d.outbox() if not key.startswith("sla:")]


def run_jobs(d, minutes):
    d.at(T0 + timedelta(minutes=minutes))
    run_due(d.hub)
    d.drain()
    run_timers(d.hub)


def test_warning_then_breach_then_timer_each_exactly_once(drive):
    d = drive({"sla": SLA, "escalation": ESCALATION})
    d.send("ticket.created", ticket())
    assert ops(d) == []
    for minute in (12, 12, 13):
        run_jobs(d, minute)
    assert ops(d) == [("zendesk", "update_ticket", "esc:zendesk:101:access:1:1"),
                      ("zendesk", "add_internal_note", "esc:zendesk:101:access:1:note")]
    tier = d.outbox()[-2][3]
    assert tier == {"ticket_id": "101", "fields": {"Escalation tier": "Tier 2"}, "tags_add": ["escalation_tier_2"]}
    for minute in (16, 17, 30):
        run_jobs(d, minute)
    webhook = [row for row in d.outbox() if row[1] == "notify_webhook"]
    assert len(webhook) == 1
    system, _, _, payload = webhook[0]
    assert system == "notify" and payload["url"] == HOOK and set(payload["json"]) == {"text", "blocks"}
    assert "SLA first response breached" in payload["json"]["text"]
    run_jobs(d, 45)
    assert [row for row in d.outbox() if row[1] == "send_email"] == []
    for minute in (46, 50, 90):
        run_jobs(d, minute)
    [email] = [row for row in d.outbox() if row[1] == "send_email"]
    assert email[3]["to"] == ["duty@bank.test"]
    fired = [(a["rule"], a["level"]) for a in d.audit("escalation.fired")]
    assert fired == [("access", 1), ("access", 2), ("access", 3)]


def test_solved_ticket_closes_escalation(drive):
    d = drive({"sla": SLA, "escalation": ESCALATION})
    d.send("ticket.created", ticket())
    run_jobs(d, 12)
    d.send("ticket.updated", ticket(status="solved"))
    for minute in (16, 60, 120):
        run_jobs(d, minute)
    assert [key.split(":")[3:5] for _, _, key in ops(d)] == [["access", "1"], ["access", "1"]]


def test_segment_rule_fires_on_creation_once(drive):
    d = drive({"escalation": ESCALATION})
    d.send("ticket.created", ticket(tags=["fees"], segment="investor"))
    d.send("ticket.updated", ticket(tags=["fees"], segment="investor", status="open"))
    assert [op for _, op, _ in ops(d)] == ["update_ticket", "update_ticket", "add_internal_note"]
    followers, priority = d.outbox()[0][3], d.outbox()[1][3]
    assert followers["followers_add"] == ["investor-desk@bank.test"] and priority["priority"] == "urgent"


def test_repeated_contact_escalates_the_third_ticket(drive):
    d = drive({"escalation": ESCALATION})
    for number, minutes in ((1, 0), (2, 60), (3, 120)):
        d.at(T0 + timedelta(minutes=minutes))
        d.send("ticket.created", ticket(number, tags=["fees"]))
    assert [(key, payload) for _, op, key, payload in d.outbox() if op == "update_ticket"] == [
        ("esc:zendesk:3:repeat:1:1", {"ticket_id": "3", "priority": "high"})]
    # Another customer's ticket does not count
    d.send("ticket.created", ticket(4, tags=["fees"], customer_id="CUST-0002"))
    assert len(d.outbox("update_ticket")) == 1


def test_one_ticket_seen_from_linked_systems_is_one_contact(drive):
    d = drive({"escalation": ESCALATION})
    links = {"zendesk": "101", "salesforce": "500A", "hubspot": "9035"}
    for system, number in links.items():
        d.send("ticket.updated", {**ticket(tags=["fees"]), "system": system, "id": number, "links": links},
               source="sync")
    assert d.outbox("update_ticket") == []


def test_registers_its_job(drive):
    d = drive({"escalation": ESCALATION})
    jobs = [job for offered in d.hub.pm.hook.register_jobs(hub=d.hub) for job in offered]
    assert [(job.id, job.seconds) for job in jobs] == [("escalation.timers", 15)]


class RecordingHelpDesk:
    name = "zendesk"

    def __init__(self):
        self.calls = []

    def execute(self, operation, payload, idempotency_key):
        self.calls.append((operation, payload))
        return {"id": 777} if operation == "create_ticket" else {}

    def check(self):
        return {"ok": True, "detail": "recording"}


def test_hub_created_ticket_is_escalated_and_counted(drive):
    from hub.pipeline import process_next_action

    d = drive({"escalation": ESCALATION})
    desk = d.hub.connectors["zendesk"] = RecordingHelpDesk()
    d.hub.emit("zendesk", "create_ticket", {"tags": ["cards"], "segment": "investor", "priority": "normal"},
               key="bank:fraud:1")
    while process_next_action(d.hub, "test"):
        pass
    operations = [op for op, _ in desk.calls]
    assert operations == ["create_ticket", "update_ticket", "update_ticket", "add_internal_note"]
    assert desk.calls[1][1] == {"ticket_id": "777", "followers_add": ["investor-desk@bank.test"]}
    text = d.hub.metrics.render().decode()
    assert 'deskbridge_escalations_total{level="1",rule="investor"} 1.0' in text


def test_deleted_ticket_is_not_escalated(drive):
    d = drive({"sla": SLA, "escalation": ESCALATION})
    d.send("ticket.created", ticket())
    d.send("ticket.deleted", {"system": "zendesk", "id": 101})
    with d.hub.db.session() as session:
        store_event(session, "sla", "late", "sla.breached", {
            "kind": "breach", "ticket": "zendesk:101", "ticket_key": "zendesk:101", "target": "first_response",
            "cycle": 0, "policy": "access", "at": "2026-01-13T10:15:00Z", "due_at": "2026-01-13T10:15:00Z",
            "facts": {"category": "account_access"}, "records": {"zendesk": "101"}})
    d.drain()
    assert ops(d) == []


def test_copies_sync_creates_in_other_systems_get_no_escalation_of_their_own(drive):
    from hub.pipeline import EventContext, process_next_action

    d = drive({"escalation": ESCALATION})
    desk = d.hub.connectors["zendesk"] = RecordingHelpDesk()
    with d.hub.db.session() as session:
        EventContext(d.hub, session, origin="sync").emit(
            "zendesk", "create_ticket", {"tags": ["cards"], "segment": "investor", "priority": "normal"},
            key="sync:zendesk:ticket:salesforce-500A:v1:create_ticket")
    while process_next_action(d.hub, "test"):
        pass
    assert [op for op, _ in desk.calls] == ["create_ticket"]
