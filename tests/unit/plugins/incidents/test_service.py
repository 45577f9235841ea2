"""Incidents through the real pipeline: problem ticket, notices in batches, tagged tickets, resolution."""

from __future__ import annotations

import pytest

from plugins.incidents.service import run_batches
from tests.unit.plugins.incidents.conftest import incident

pytestmark = pytest.mark.unit


def test_opened_incident_makes_one_problem_ticket_and_notices_each_customer_once(harness):
    h = harness()
    h.run("incident.opened", incident(["CUST-0001", "CUST-0002", "CUST-0001"]))
    [ticket] = h.actions("zendesk", "upsert_ticket")
    assert ticket["payload"]["external_id"] == "incident-INC-1"
    body = ticket["payload"]["ticket"]
    assert body["type"] == "problem" and body["priority"] == "urgent" and body["comment"]["public"] is False
    assert "incident_inc-1" in body["tags"] and "2 customers" in body["comment"]["body"]
    assert h.notified() == ["CUST-0001", "CUST-0002"]
    [notice] = h.actions("core_banking", "send_notification")[:1]
    assert notice["key"] == "incident-notice:INC-1:CUST-0001:opened" and "card payments" in notice["payload"]["message"]


def test_open_tickets_of_affected_customers_are_tagged_with_a_reply_draft(harness):
    h = harness()
    h.run("incident.opened", incident(["CUST-0001", "CUST-0002", "CUST-0003", "CUST-0005"]))
    tags = {a["payload"]["ticket_id"]: a["payload"]["tags_add"] for a in h.actions("zendesk", "update_ticket")}
    assert tags == {11: ["incident", "incident_inc-1"], 31: ["incident", "incident_inc-1"]}  # not solved, not ours
    drafts = [a for a in h.actions("zendesk", "add_comment")]
    assert sorted(d["payload"]["ticket_id"] for d in drafts) == [11, 31]
    assert all(d["payload"]["public"] is False and "Suggested public reply" in d["payload"]["body"]
               and "aware of an issue affecting card payments" in d["payload"]["body"] for d in drafts)
    assert h.state("incident:INC-1")["tagged"] == {"CUST-0001": [11], "CUST-0003": [31]}


def test_a_segment_is_resolved_from_the_bank_without_closed_customers(harness):
    h = harness()
    h.run("incident.opened", incident({"segment": "merchant"}))
    assert h.notified() == ["CUST-0001", "CUST-0003", "CUST-0005", "CUST-0007", "CUST-0011"]
    assert h.state("incident:INC-1")["segment"] == "merchant"


def test_notices_go_out_one_batch_per_run(harness):
    h = harness({"notices": {"per_run": 4}})
    h.run("incident.opened", incident("end_user"))  # CUST-0002, 4, 6, 8, 10, 12
    assert h.notified() == ["CUST-0002", "CUST-0004", "CUST-0006", "CUST-0008"]
    assert h.state("pending:INC-1") == "opened"
    assert run_batches(h.hub) == 1
    assert run_batches(h.hub) == 0  # the same batch is stored once until it has run
    h.drain()
    assert h.notified() == ["CUST-0002", "CUST-0004", "CUST-0006", "CUST-0008", "CUST-0010", "CUST-0012"]
    assert h.state("pending:INC-1") is None and run_batches(h.hub) == 0


def test_redelivery_does_nothing_twice(harness):
    h = harness()
    h.run("incident.opened", incident(["CUST-0001"]), event_id="a")
    h.run("incident.opened", incident(["CUST-0001"]), event_id="a")
    h.run("incident.opened", incident(["CUST-0001"]), event_id="b")
    h.run("incident.resolved", incident(), event_id="r1")
    h.run("incident.resolved", incident(), event_id="r2")
    assert len(h.actions("zendesk", "upsert_ticket")) == 1
    assert h.notified("opened") == ["CUST-0001"] and h.notified("resolved") == ["CUST-0001"]
    assert len([a for a in h.actions("zendesk", "update_ticket") if a["payload"].get("status")]) == 1


def test_resolution_solves_the_problem_ticket_and_tells_those_who_were_told(harness):
    h = harness({"notices": {"per_run": 2}})
    h.run("incident.opened", incident(["CUST-0001", "CUST-0002", "CUST-0003"]))
    h.run("incident.resolved", incident())
    run_batches(h.hub)
    h.drain()
    assert h.notified("opened") == ["CUST-0001", "CUST-0002"]  # the third was never told: nothing after the fix
    assert h.notified("resolved") == ["CUST-0001", "CUST-0002"]
    [solve] = [a for a in h.actions("zendesk", "update_ticket") if a["payload"].get("status")]
    assert solve["payload"] == {"external_id": "incident-INC-1", "status": "solved"}
    notes = [a["payload"] for a in h.actions("zendesk", "add_comment")]
    problem = [n["body"] for n in notes if n.get("external_id") == "incident-INC-1"]
    assert len(problem) == 1 and "notified of the incident: 2 of 3" in problem[0]
    resolved_drafts = [n for n in notes if n.get("ticket_id") == 11 and "(resolved)" in n["body"]]
    assert len(resolved_drafts) == 1 and "has now been resolved" in resolved_drafts[0]["body"]


def test_resolved_before_opened_opens_the_ticket_solved_without_notices(harness):
    h = harness()
    h.run("incident.resolved", incident())
    assert h.actions() == []
    h.run("incident.opened", incident(["CUST-0001"]))
    [ticket] = h.actions("zendesk", "upsert_ticket")
    assert ticket["payload"]["ticket"]["status"] == "solved"
    assert h.notified() == [] and h.actions("zendesk", "update_ticket") == []


def test_disabled_notices_and_tickets_do_nothing_per_customer(harness):
    h = harness({"notices": {"enabled": False}, "open_tickets": {"enabled": False}})
    h.run("incident.opened", incident(["CUST-0001"]))
    assert [a["operation"] for a in h.actions()] == ["upsert_ticket"]
    assert [t for t, _ in h.inbox()] == ["incident.opened"]


def test_config_rejects_unknown_placeholders(harness):
    from plugins.incidents.config import Config
    with pytest.raises(ValueError, match="unknown placeholder 'name'"):
        Config.model_validate({"open_tickets": {"reply_draft": "Hi {name}"}})
