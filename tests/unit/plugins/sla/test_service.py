from datetime import timedelta

import pytest

from plugins.sla.service import run_due

from .conftest import T0

pytestmark = pytest.mark.unit

SLA = {
    "calendars": {
        "london": {"timezone": "Europe/London", "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                   "country": "GB", "subdivision": "ENG"},
    },
    "policies": [
        {"name": "access-urgent", "when": {"category": "account_access", "priority": ["high", "urgent"]},
         "targets": {"first_response": 15, "resolution": 240}},
        {"name": "default", "when": {"category": ["payments", "fees"]},
         "targets": {"first_response": 60, "next_response": 120}, "calendar": "london"},
    ],
}


def ticket(**extra):
    return {"system": "zendesk", "id": 101, "status": "new", "priority": "high", "tags": ["account_access"],
            "created_at": "2026-01-13T10:00:00Z", **extra}


def test_created_ticket_gets_due_fields(drive):
    d = drive({"sla": SLA})
    d.send("ticket.created", ticket())
    [(system, op, _, payload)] = d.outbox()
    assert (system, op) == ("zendesk", "update_ticket")
    assert payload == {"ticket_id": "101", "fields": {"SLA first response due": "2026-01-13T10:15:00Z",
                                                      "SLA resolution due": "2026-01-13T14:00:00Z"}}
    assert d.audit("sla.started")[0]["policy"] == "access-urgent"
    # The same facts again write nothing new
    d.send("ticket.updated", ticket(status="open"))
    assert len(d.outbox()) == 1


def test_no_matching_policy_no_clock(drive):
    d = drive({"sla": SLA})
    d.send("ticket.created", ticket(tags=["cards"]))
    assert d.outbox() == []
    assert run_due(d.hub, T0 + timedelta(days=5)) == 0


def test_warning_and_breach_stored_once_each(drive):
    d = drive({"sla": SLA})
    d.send("ticket.created", ticket())
    d.at(T0 + timedelta(minutes=11))
    assert run_due(d.hub) == 0
    d.at(T0 + timedelta(minutes=12))
    assert run_due(d.hub) == 1
    assert run_due(d.hub) == 0
    d.at(T0 + timedelta(minutes=16))
    assert run_due(d.hub) == 1
    assert run_due(d.hub) == 0
    d.drain()
    assert d.inbox("sla") == [
        ("sla.warning", "sla:zendesk:101:first_response:0:warning", "done"),
        ("sla.breached", "sla:zendesk:101:first_response:0:breach", "done"),
    ]
    notes = d.outbox("add_internal_note")
    assert len(notes) == 1 and "first response target breached at 2026-01-13T10:15:00Z" in notes[0][3]["body"]
    assert [a["sla_target"] for a in d.audit("sla.breached")] == ["first_response"]


def test_reply_in_linked_crm_counts_as_first_response(drive):
    d = drive({"sla": SLA})
    d.send("ticket.created", ticket(links={"salesforce": "500AA"}))
    assert {(s, op) for s, op, _, _ in d.outbox()} == {("zendesk", "update_ticket"), ("salesforce", "update_case")}
    d.at(T0 + timedelta(minutes=5))
    d.send("comment.created", {"system": "salesforce", "id": "c1", "ticket_id": "500AA", "public": True,
                               "author_role": "agent", "created_at": "2026-01-13T10:05:00Z"}, source="salesforce")
    [achieved] = d.audit("sla.achieved")
    assert (achieved["sla_target"], achieved["via"], achieved["breached"]) == ("first_response", "salesforce", False)
    latest = d.outbox("update_ticket")[-1][3]["fields"]
    assert latest == {"SLA first response due": None, "SLA resolution due": "2026-01-13T14:00:00Z"}
    d.at(T0 + timedelta(minutes=30))
    assert run_due(d.hub) == 0  # no first-response warning or breach any more


def test_linked_crm_records_get_due_times_under_their_own_field_names(drive):
    d = drive({"sla": SLA})
    d.send("ticket.created", ticket(links={"salesforce": "500AA", "hubspot": "9001"}))
    writes = {system: (op, payload) for system, op, _, payload in d.outbox()}
    assert writes["salesforce"] == ("update_case", {"case_id": "500AA",
                                                    "fields": {"SLA_First_Response_Due__c": "2026-01-13T10:15:00Z"}})
    assert writes["hubspot"] == ("update_ticket", {"ticket_id": "9001",
                                                   "fields": {"sla_first_response_due": "2026-01-13T10:15:00Z"}})
    assert writes["zendesk"][1]["fields"]["SLA resolution due"] == "2026-01-13T14:00:00Z"


def test_crm_without_a_due_field_gets_no_write(drive):
    d = drive({"sla": {**SLA, "crm_due_fields": {"salesforce": {}}}})
    d.send("ticket.created", ticket(links={"salesforce": "500AA"}))
    assert [system for system, _, _, _ in d.outbox()] == ["zendesk"]


def test_internal_note_is_not_a_response(drive):
    d = drive({"sla": SLA})
    d.send("ticket.created", ticket())
    d.send("comment.created", {"system": "zendesk", "ticket_id": 101, "public": False, "author_role": "agent"})
    assert d.audit("sla.achieved") == []


def test_pending_pauses_and_customer_reply_resumes(drive):
    d = drive({"sla": SLA})
    d.send("ticket.created", ticket(priority="normal", tags=["payments"], created_at="2026-01-13T10:00:00Z"))
    d.send("comment.created", {"system": "zendesk", "ticket_id": 101, "public": True, "author_role": "agent",
                               "created_at": "2026-01-13T10:10:00Z"})
    d.send("comment.created", {"system": "zendesk", "ticket_id": 101, "author_role": "end-user",
                               "created_at": "2026-01-13T10:20:00Z"})
    assert d.outbox("update_ticket")[-1][3]["fields"] == {"SLA first response due": None}
    d.send("ticket.updated", ticket(priority="normal", tags=["payments"], status="pending",
                                    updated_at="2026-01-13T11:20:00Z"))
    assert run_due(d.hub, T0 + timedelta(days=3)) == 0  # paused: nothing can fire
    # Customer answers the next morning: 60 of the 120 next-response minutes were used before the pause,
    # so the warning (at 90) is 30 minutes out and the breach 60
    d.at(T0 + timedelta(days=1))
    d.send("comment.created", {"system": "zendesk", "ticket_id": 101, "author_role": "end-user",
                               "created_at": "2026-01-14T10:00:00Z"})
    assert d.outbox("update_ticket")[-1][3]["fields"] == {"SLA first response due": None}
    assert run_due(d.hub, T0 + timedelta(days=1, minutes=29)) == 0
    assert run_due(d.hub, T0 + timedelta(days=1, minutes=30)) == 1
    assert run_due(d.hub, T0 + timedelta(days=1, minutes=60)) == 1
    d.drain()
    assert [t for t, _, _ in d.inbox("sla")] == ["sla.warning", "sla.breached"]


def test_registers_its_job(drive):
    d = drive({"sla": SLA})
    jobs = [job for offered in d.hub.pm.hook.register_jobs(hub=d.hub) for job in offered]
    assert [(job.id, job.seconds) for job in jobs if job.id.startswith("sla")] == [("sla.due", 15)]


class RecordingHelpDesk:
    """Stands in for the help desk connector: returns the id a real create would."""

    name = "zendesk"

    def __init__(self):
        self.calls = []

    def execute(self, operation, payload, idempotency_key):
        self.calls.append((operation, payload))
        return {"id": 555} if operation == "upsert_ticket" else {}

    def check(self):
        return {"ok": True, "detail": "recording"}


def test_ticket_created_by_the_hub_starts_its_clock(drive):
    from hub.pipeline import process_next_action

    d = drive({"sla": SLA})
    desk = d.hub.connectors["zendesk"] = RecordingHelpDesk()
    d.hub.emit("zendesk", "upsert_ticket", {"external_id": "DB-ACC-1", "priority": "high",
                                             "tags": ["account_access"]}, key="bank:frozen:1")
    while process_next_action(d.hub, "test"):
        pass
    assert desk.calls[-1] == ("update_ticket", {"ticket_id": "555", "fields": {
        "SLA first response due": "2026-01-13T10:15:00Z", "SLA resolution due": "2026-01-13T14:00:00Z"}})
    # The sync later reports the same ticket: same clock, no second start
    d.send("ticket.created", ticket(id=555, external_id="DB-ACC-1"))
    assert len(d.audit("sla.started")) == 1


def test_fired_events_are_counted_in_metrics(drive):
    d = drive({"sla": SLA})
    d.send("ticket.created", ticket())
    run_due(d.hub, T0 + timedelta(minutes=20))
    text = d.hub.metrics.render().decode()
    assert 'deskbridge_sla_events_total{kind="breach",target="first_response"} 1.0' in text
    assert 'deskbridge_sla_events_total{kind="warning",target="first_response"} 1.0' in text


def test_recategorised_ticket_switches_policy(drive):
    d = drive({"sla": SLA})
    d.send("ticket.created", ticket(tags=["payments"], priority="normal"))
    assert d.outbox()[-1][3]["fields"] == {"SLA first response due": "2026-01-13T11:00:00Z"}
    d.at(T0 + timedelta(minutes=5))
    d.send("ticket.updated", ticket(tags=["account_access"], priority="urgent", status="open",
                                    updated_at="2026-01-13T10:05:00Z"))
    assert d.outbox()[-1][3]["fields"] == {"SLA first response due": "2026-01-13T10:15:00Z",
                                           "SLA resolution due": "2026-01-13T14:00:00Z"}
    assert [a["policy"] for a in d.audit("sla.retargeted")] == ["access-urgent"]


def test_a_broken_record_does_not_stop_the_others(drive):
    from hub.pipeline import EventContext

    d = drive({"sla": SLA})
    d.send("ticket.created", ticket())
    with d.hub.db.session() as session:
        store = EventContext(d.hub, session).state("sla")
        store.set("clock:zendesk:0", {"clock": {"ticket": "zendesk:0"}})
        store.set("wake:zendesk:0", "2026-01-13T10:00:00+00:00")
    assert run_due(d.hub, T0 + timedelta(minutes=20)) == 2
    d.drain()
    assert [t for t, _, _ in d.inbox("sla")] == ["sla.warning", "sla.breached"]


def test_deleted_ticket_stops_its_clock(drive):
    d = drive({"sla": SLA})
    d.send("ticket.created", ticket())
    d.send("ticket.deleted", {"system": "zendesk", "id": 101})
    assert run_due(d.hub, T0 + timedelta(days=1)) == 0
    assert [a["reason"] for a in d.audit("sla.stopped")] == ["ticket deleted"]


def test_ticket_first_seen_late_does_not_flood(drive):
    d = drive({"sla": SLA})
    d.at(T0 + timedelta(hours=3))
    d.send("ticket.updated", ticket(status="open"))  # created at T0, first seen three hours later
    [started] = d.audit("sla.started")
    assert started["unfired"] == ["sla:zendesk:101:first_response:0:warning", "sla:zendesk:101:first_response:0:breach"]
    # Resolution (4 h) is still measured: its warning (at 3 h) is inside the grace and fires, then the breach
    d.drain()
    assert run_due(d.hub) == 1
    assert run_due(d.hub, T0 + timedelta(hours=4)) == 1
    d.drain()
    assert [(t, key.split(":")[3]) for t, key, _ in d.inbox("sla")] == [
        ("sla.warning", "resolution"), ("sla.breached", "resolution")]
    d.send("ticket.created", ticket(id=102, status="solved"))
    assert len(d.audit("sla.started")) == 1


def test_ticket_arriving_within_the_grace_still_fires(drive):
    d = drive({"sla": SLA})
    d.at(T0 + timedelta(minutes=20))
    d.send("ticket.created", ticket())
    assert d.audit("sla.started")[0]["unfired"] == []
    assert run_due(d.hub) == 2


class CreatingCrm:
    name = "hubspot"

    def execute(self, operation, payload, idempotency_key):
        return {"id": {"zendesk-101": "9100", "frozen-1": "9035"}[payload["external_id"]], "created": True}

    def check(self):
        return {"ok": True, "detail": "fake"}


def test_hub_created_ticket_starts_a_clock_but_a_sync_copy_does_not(drive):
    from hub.pipeline import EventContext, process_next_action

    d = drive({"sla": SLA})
    d.hub.connectors["hubspot"] = CreatingCrm()
    copy = {"external_id": "zendesk-101", "ticket": {"subject": "Locked out", "priority": "high",
                                                     "tags": ["account_access"]}}
    with d.hub.db.session() as session:
        EventContext(d.hub, session, origin="sync").emit("hubspot", "upsert_ticket", copy, key="sync:copy")
        EventContext(d.hub, session).emit("hubspot", "upsert_ticket",
                                          {"external_id": "frozen-1", "ticket": {"priority": "high",
                                                                                 "tags": ["account_access"]}},
                                          key="bank:frozen-1")
    while process_next_action(d.hub, "test"):
        pass
    assert [a["target"] for a in d.audit("sla.started")] == ["hubspot:9035"]
