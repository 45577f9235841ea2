"""run_dsr with a fake bank: hub tables, resume after a failure, report files, the one-month deadline job."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from hub import clock
from hub.db import AuditEntry, InboxEvent, OutboxAction, PluginState
from hub.errors import RetryableError
from hub.hookspecs import hookimpl
from hub.inbox import store_event
from hub.pipeline import EventContext
from plugins.privacy.dsr import DsrError, DsrIncomplete, check_deadlines, one_month_after, record_request, run_dsr
from plugins.privacy.systems import RetentionRule, retained_by

pytestmark = pytest.mark.unit
T0 = datetime(2026, 1, 31, 9, 0, tzinfo=timezone.utc)
EMAIL = "ada@example.org"


class FakeBank:
    name = "core_banking"

    def __init__(self):
        self.erased, self.fail = [], 0

    def find_customer_by_email(self, email):
        return {"id": "CUST-0007"} if email == EMAIL and not self.erased else None

    def export_customer(self, customer_id):
        return {"customer_id": customer_id, "found": True, "customer": {"email": EMAIL},
                "transactions": [{"id": "TXN-1"}], "accounts": []}

    def execute(self, operation, payload, key):
        if self.fail:
            self.fail -= 1
            raise RetryableError("core_banking answered 503")
        self.erased.append((operation, payload["customer_id"], key))
        return {"erased": True, "erased_fields": ["email"], "deleted": {"consents": 1},
                "retained": [{"records": "transactions", "count": 1, "reason": "ledger"}]}

    def check(self):
        return {"ok": True}


class FakeNotify:
    name = "notify"

    def execute(self, operation, payload, key):
        return {}

    def check(self):
        return {"ok": True}


class Connectors:
    def __init__(self):
        self.bank = FakeBank()

    @hookimpl
    def register_connectors(self, hub):
        return [self.bank, FakeNotify()]


@pytest.fixture
def now():
    moment = {"t": T0}
    clock.set_clock(lambda: moment["t"])
    yield moment
    clock.set_clock(None)


@pytest.fixture
def fakes():
    return Connectors()


@pytest.fixture
def hub(make_hub, now, fakes):
    return make_hub({"plugins": {"privacy": {"escalation_webhook": "http://127.0.0.1:9/hook",
                                             "dpo_email": "dpo@example.org"}}}, plugins=[fakes])


def seed_hub_data(hub):
    with hub.db.session() as session:
        store_event(session, "banking", "e1", "payment.failed", {"data": {"customer_id": "CUST-0007"}})
        store_event(session, "banking", "e2", "payment.failed", {"data": {"customer_id": "CUST-00071"}})
        store_event(session, "zendesk", "z1", "ticket.created", {"data": {"requester": "ADA@example.org"}})
        ctx = EventContext(hub, session)
        ctx.state("sla").set("clock:CUST-0007", {"customer_id": "CUST-0007"})
        ctx.state("sla").set("clock:other", {"customer_id": "CUST-0001"})


def test_one_month_after_clamps_to_month_end():
    assert one_month_after(T0) == datetime(2026, 2, 28, 9, 0, tzinfo=timezone.utc)
    assert one_month_after(datetime(2026, 12, 15, tzinfo=timezone.utc)) == datetime(2027, 1, 15, tzinfo=timezone.utc)


def test_bad_input_is_a_one_line_error(hub):
    with pytest.raises(DsrError, match="not an e-mail address"):
        run_dsr(hub, "erase", "nobody", None)
    with pytest.raises(DsrError, match="kind must be one of"):
        run_dsr(hub, "delete", EMAIL, None)


def test_export_collects_bank_and_hub_data_into_a_private_file(hub, tmp_path):
    seed_hub_data(hub)
    report = json.loads(run_dsr(hub, "export", EMAIL, tmp_path / "out.json"))
    assert report["status"] == "completed" and report["subject"] == EMAIL
    assert report["systems"]["core_banking"]["exported"]["transactions"] == 1
    assert report["systems"]["zendesk"] == {"status": "not_connected"}
    assert report["systems"]["hub"]["exported"]["inbox"] == 2
    saved = Path(report["report_file"])
    assert oct(os.stat(saved).st_mode & 0o777) == "0o600"
    data = json.loads((tmp_path / "out.json").read_text())["data"]
    assert {e["type"] for e in data["hub"]["inbox"]} == {"payment.failed", "ticket.created"}
    assert [s["key"] for s in data["hub"]["plugin_state"]] == ["clock:CUST-0007"]


def test_erase_resumes_after_a_failure_and_keeps_others_data(hub, fakes):
    seed_hub_data(hub)
    fakes.bank.fail = 1
    with pytest.raises(DsrIncomplete, match=r"incomplete \(core_banking: core_banking answered 503\)") as failure:
        run_dsr(hub, "erase", EMAIL, None)
    first = json.loads(failure.value.report)
    assert first["status"] == "open" and first["systems"]["core_banking"]["status"] == "failed"
    second = json.loads(run_dsr(hub, "erase", EMAIL, None))
    assert second["request_id"] == first["request_id"] and second["status"] == "completed"
    assert second["subject"] == "a***@example.org"
    assert [e[:2] for e in fakes.bank.erased] == [("erase_customer", "CUST-0007")]
    kept = second["systems"]["core_banking"]["kept"]
    assert kept[0]["records"] == "transactions" and "AML" in kept[0]["reason"]
    with hub.db.session() as session:
        payloads = {r.event_id: json.loads(r.payload) for r in session.execute(select(InboxEvent)).scalars()}
        state = [r.key for r in session.execute(select(PluginState)).scalars()]
        actions = [r.action for r in session.execute(select(AuditEntry).where(
            AuditEntry.action.like("dsr.%")).order_by(AuditEntry.id)).scalars()]
    assert payloads["e1"]["erased"] is True and payloads["z1"]["erased"] is True
    assert payloads["e2"] == {"data": {"customer_id": "CUST-00071"}}
    assert state == ["clock:other"]
    assert actions.count("dsr.erase.received") == 1 and actions[-1] == "dsr.erase.completed"
    assert "dsr.erase.partial" in actions


def test_pending_actions_for_the_subject_are_cancelled_others_mentioning_them_are_left(hub, fakes):
    with hub.db.session() as session:
        ctx = EventContext(hub, session)
        ctx.emit("notify", "send_email", {"to": EMAIL, "subject": "Your card", "body": "blocked"}, key="mail-1")
        ctx.emit("zendesk", "add_comment", {"ticket_id": 9, "body": f"mail {EMAIL}"}, key="note-1")
    report = json.loads(run_dsr(hub, "erase", EMAIL, None))
    with hub.db.session() as session:
        rows = {r.key: r for r in session.execute(select(OutboxAction)).scalars()}
    assert rows["mail-1"].status == "dead" and EMAIL not in rows["mail-1"].payload
    # Another ticket's comment that only names the subject is not theirs: left, and listed for review.
    assert rows["note-1"].status == "pending" and EMAIL in rows["note-1"].payload
    assert report["systems"]["hub"]["mentioned_in"] == [{"object": "outbox_action", "id": rows["note-1"].id,
                                                         "system": "zendesk", "operation": "add_comment",
                                                         "status": "pending"}]


def test_deadline_job_warns_at_day_21_and_escalates_at_day_28(hub, now):
    request = record_request(hub, "erase", EMAIL)
    now["t"] = T0 + timedelta(days=20)
    assert check_deadlines(hub) == {"warned": 0, "escalated": 0}
    now["t"] = T0 + timedelta(days=21)
    assert check_deadlines(hub) == {"warned": 1, "escalated": 0}
    assert check_deadlines(hub) == {"warned": 0, "escalated": 0}
    now["t"] = T0 + timedelta(days=28)
    assert check_deadlines(hub) == {"warned": 0, "escalated": 1}
    with hub.db.session() as session:
        keys = [r.key for r in session.execute(select(OutboxAction).order_by(OutboxAction.id)).scalars()]
        audited = [r.action for r in session.execute(select(AuditEntry).where(
            AuditEntry.action.like("dsr.deadline.%")).order_by(AuditEntry.id)).scalars()]
        texts = [r.payload for r in session.execute(select(OutboxAction)).scalars()]
    assert keys == [f"dsr:{request.id}:warning:webhook", f"dsr:{request.id}:escalated:webhook",
                    f"dsr:{request.id}:escalated:email"]
    assert audited == ["dsr.deadline.warning", "dsr.deadline.escalated"]
    assert all(EMAIL not in t for t in texts)


def test_completed_requests_are_not_chased(hub, now):
    run_dsr(hub, "export", EMAIL, None)
    now["t"] = T0 + timedelta(days=40)
    assert check_deadlines(hub) == {"warned": 0, "escalated": 0}


def test_retention_rule_matching():
    rule = RetentionRule(system="zendesk", records="tickets", reason="fraud", match={"tags": ["compliance_fraud"]})
    assert retained_by([rule], "zendesk", "tickets", {"tags": ["cards", "compliance_fraud"]}) is rule
    assert retained_by([rule], "zendesk", "tickets", {"tags": ["cards"]}) is None
    assert retained_by([rule], "salesforce", "tickets", {"tags": ["compliance_fraud"]}) is None


def test_requests_recorded_through_the_api_start_the_clock(hub, now):
    from hub.api import create_token
    from hub.app import create_app
    client = create_app(hub=hub).test_client()
    auth = {"Authorization": "Bearer " + create_token(hub, "dpo", ["admin"])}
    created = client.post("/api/v1/dsr", headers=auth, json={"kind": "export", "email": EMAIL})
    assert created.status_code == 201
    assert created.get_json() | {"id": "x"} == {"id": "x", "kind": "export", "subject": "a***@example.org",
                                               "status": "open", "received_at": "2026-01-31T09:00:00Z",
                                               "due_at": "2026-02-28T09:00:00Z"}
    again = client.post("/api/v1/dsr", headers=auth, json={"kind": "export", "email": EMAIL.upper()})
    assert again.get_json()["id"] == created.get_json()["id"]
    assert client.post("/api/v1/dsr", headers=auth, json={"kind": "forget", "email": EMAIL}).status_code == 422
    listed = client.get("/api/v1/dsr", headers=auth).get_json()["requests"]
    assert [(r["id"], r["due_at"]) for r in listed] == [(created.get_json()["id"], "2026-02-28T09:00:00Z")]
    report = json.loads(run_dsr(hub, "export", EMAIL, None))
    assert report["request_id"] == created.get_json()["id"] and report["received_at"] == "2026-01-31T09:00:00Z"
    assert client.get("/api/v1/dsr", headers=auth).get_json()["requests"] == []
