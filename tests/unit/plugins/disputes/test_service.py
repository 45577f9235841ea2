"""Dispute events through the real pipeline: ticket, fields, notes, notices, refunds, write-back, replays."""

from __future__ import annotations

import pytest

from hub.errors import PermanentError
from tests.unit.plugins.disputes.conftest import RefundGate, dispute

pytestmark = pytest.mark.unit


def keys(h, operation=None):
    return [a["key"] for a in h.actions(operation=operation)]


def test_opened_dispute_gets_one_ticket_with_fields_and_a_customer_notice(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    [upsert] = h.actions("zendesk", "upsert_ticket")
    assert upsert["payload"]["external_id"] == "dispute-DSP-1"
    ticket = upsert["payload"]["ticket"]
    assert "disputes" in ticket["tags"] and ticket["comment"]["public"] is False
    assert ticket["fields"] == {"Dispute status": "evidence_required", "Evidence due": "2026-12-19T12:00:00Z"}
    assert "TXN-0001-01" in ticket["subject"] and "/s/dispute/" in ticket["comment"]["body"]
    [notice] = h.actions("core_banking", "send_notification")
    assert notice["payload"]["customer_id"] == "CUST-0001" and "/s/dispute/" in notice["payload"]["message"]
    record = h.state("dispute:DSP-1")
    assert record["status"] == "evidence_required" and h.state("ticket:dispute-DSP-1") == "DSP-1"
    assert h.state("due:DSP-1") == "2026-12-19T12:00:00Z"


def test_each_status_change_is_one_note_and_a_field_update(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    h.run("dispute.updated", dispute("under_review"), created_at="2026-11-29T12:00:00Z")
    h.run("dispute.closed", dispute("lost", outcome="lost"), created_at="2026-11-30T12:00:00Z")
    assert h.notes() == ["Dispute status: Evidence required → Evidence submitted.",
                         "Dispute status: Evidence submitted → Lost."]
    fields = [a["payload"]["fields"]["Dispute status"] for a in h.actions("zendesk", "update_ticket")]
    assert fields == ["submitted", "lost"]
    assert all(a["order_key"] == "zendesk:dispute-DSP-1" for a in h.actions("zendesk"))
    assert h.state("due:DSP-1") is None  # nothing to remind about once the evidence is in
    assert [n["payload"]["message"].split(".")[0] for n in h.actions("core_banking", "send_notification")] == [
        "We have received your dispute about 59", "Your dispute about 59"]


def test_replays_and_redeliveries_do_nothing_twice(harness):
    h = harness()
    h.run("dispute.opened", dispute(), event_id="evt_same")
    h.run("dispute.opened", dispute(), event_id="evt_same")
    h.run("dispute.opened", dispute(), event_id="evt_other")  # the bank sends the same state again
    h.run("dispute.updated", dispute("under_review"), created_at="2026-11-29T00:00:00Z", event_id="u1")
    h.run("dispute.updated", dispute("under_review"), created_at="2026-11-29T00:00:00Z", event_id="u2")
    assert len(h.actions("zendesk", "upsert_ticket")) == 1
    assert len(h.notes()) == 1 and len(h.actions("zendesk", "update_ticket")) == 1
    assert h.inbox_status() == ["done"] * 4


def test_out_of_order_events_converge_without_regress(harness):
    h = harness({"refund": {"on_won": False}})
    h.run("dispute.closed", dispute("won", outcome="won"), created_at="2026-11-30T00:00:00Z")
    h.run("dispute.updated", dispute("under_review"), created_at="2026-11-29T00:00:00Z")
    h.run("dispute.opened", dispute(), created_at="2026-11-28T00:00:00Z")
    assert h.state("dispute:DSP-1")["status"] == "won"
    [upsert] = h.actions("zendesk", "upsert_ticket")
    assert upsert["payload"]["ticket"]["fields"]["Dispute status"] == "won"
    assert h.notes() == []  # nothing moved after the ticket opened in its final state
    assert h.actions("zendesk", "update_ticket") == []


def test_won_dispute_refunds_with_an_idempotency_key_and_the_customer_for_the_gate(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    h.run("dispute.closed", dispute("won", outcome="won"), created_at="2026-11-30T00:00:00Z")
    [refund] = h.actions("core_banking", "create_refund")
    assert refund["key"] == "dispute-refund:DSP-1:0"
    assert refund["payload"] == {"customer_id": "CUST-0001", "transaction_id": "TXN-0001-01", "amount": "59.90",
                                 "reason": "dispute DSP-1: dispute_won", "dispute_id": "DSP-1"}
    h.connectors.bank.results["create_refund"] = {"id": "RFD-1", "amount": "59.90", "currency": "EUR",
                                                  "status": "succeeded"}
    h.execute_outbox()
    assert h.state("refund_result:DSP-1")["state"] == "refund_issued"
    assert any(n.startswith("Refund RFD-1 of 59.90 EUR succeeded") for n in h.notes())
    assert h.actions("zendesk", "update_ticket")[-1]["payload"]["fields"]["Dispute status"] == "won; refund_issued"
    assert [a["outcome"] for a in h.audit("dispute.refund")] == ["requested", "refund_issued"]


def test_refund_refused_by_the_identity_gate_waits_for_the_agents_tag(harness):
    gate = RefundGate()
    h = harness(gate=gate)
    h.run("dispute.opened", dispute())
    h.run("dispute.closed", dispute("won", outcome="won"), created_at="2026-11-30T00:00:00Z")
    assert h.actions("core_banking", "create_refund") == []
    assert any(n.startswith("Refund for dispute DSP-1 not issued: identity not verified") for n in h.notes())
    assert h.state("dispute:DSP-1")["refund"]["state"] == "refund_refused"
    ticket = {"external_id": "dispute-DSP-1", "id": 77, "status": "open", "tags": ["disputes", "dispute_refund"]}
    h.run("ticket.updated", {"ticket": ticket}, source="sync")  # still not verified: refused, no second note
    assert len([n for n in h.notes() if "not issued" in n]) == 1
    gate.verified.add("CUST-0001")
    h.run("ticket.updated", {"ticket": ticket}, source="sync", event_id="later")
    h.run("ticket.updated", {"ticket": ticket}, source="sync", event_id="again")
    [refund] = h.actions("core_banking", "create_refund")
    assert refund["payload"]["reason"] == "dispute DSP-1: agent_approved"
    assert [a["outcome"] for a in h.audit("dispute.refund")] == ["refused", "refused", "requested"]


def test_provisional_credit_only_up_to_its_limit(harness):
    h = harness({"refund": {"provisional_credit": True, "provisional_max_amount": "50"}})
    h.run("dispute.opened", dispute(amount="49.00", dispute_id="DSP-S"))
    h.run("dispute.opened", dispute(amount="59.90", dispute_id="DSP-L", transaction_id="TXN-2"))
    [credit] = h.actions("core_banking", "create_refund")
    assert credit["payload"]["dispute_id"] == "DSP-S" and credit["payload"]["reason"].endswith("provisional_credit")
    # won later: the provisional credit stands, no second money movement
    h.run("dispute.closed", dispute("won", outcome="won", amount="49.00", dispute_id="DSP-S"),
          created_at="2026-11-30T00:00:00Z")
    assert [a["payload"]["dispute_id"] for a in h.actions("core_banking", "create_refund")] == ["DSP-S"]
    assert h.state("dispute:DSP-S")["refund"]["state"] == "provisional_credit"


def test_refund_above_the_automatic_limit_asks_the_agent(harness):
    h = harness({"refund": {"max_amount": "50"}})
    h.run("dispute.closed", dispute("won", outcome="won"))
    assert h.actions("core_banking", "create_refund") == []
    assert any("above the automatic limit 50" in n for n in h.notes())


def test_solving_the_ticket_writes_the_status_back_once(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    solved = {"external_id": "dispute-DSP-1", "id": 77, "status": "solved", "tags": ["disputes"]}
    h.run("ticket.updated", {"ticket": solved}, source="sync")
    h.run("ticket.updated", {"ticket": solved}, source="sync", event_id="again")
    [back] = h.actions("core_banking", "update_dispute")
    assert back["payload"] == {"dispute_id": "DSP-1", "status": "under_review", "customer_id": "CUST-0001"}
    assert "status at the bank is being set to under_review" in h.notes()[-1]


def test_a_decision_tag_writes_that_decision(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    h.run("ticket.updated", {"ticket": {"external_id": "dispute-DSP-1", "status": "solved",
                                        "tags": ["dispute_won"]}}, source="zendesk")
    assert [a["payload"]["status"] for a in h.actions("core_banking", "update_dispute")] == ["won"]


def test_no_write_back_when_the_bank_is_there_already(harness):
    h = harness()
    h.run("dispute.updated", dispute("under_review"))
    h.run("ticket.updated", {"ticket": {"external_id": "dispute-DSP-1", "status": "solved"}}, source="sync")
    assert h.actions("core_banking", "update_dispute") == []


def test_other_tickets_are_ignored(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    h.run("ticket.updated", {"ticket": {"external_id": "fraud-x", "status": "solved",
                                        "tags": ["dispute_refund"]}}, source="sync")
    h.run("ticket.updated", {"ticket": {"external_id": "dispute-unknown", "status": "solved"}}, source="sync")
    assert h.actions("core_banking", "update_dispute") == [] and h.actions("core_banking", "create_refund") == []


def test_a_refused_write_back_becomes_a_note(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    h.connectors.bank.results["update_dispute"] = PermanentError("bank answered 409: dispute DSP-1 is already lost")
    h.run("ticket.updated", {"ticket": {"external_id": "dispute-DSP-1", "status": "solved"}}, source="sync")
    h.execute_outbox()
    assert any(n.startswith("The bank did not accept status under_review") for n in h.notes())
    assert [a["outcome"] for a in h.audit("dispute.write_back")] == ["requested", "failed"]


def test_ticket_id_is_recorded_when_the_ticket_is_created(harness):
    h = harness()
    h.connectors.zendesk.results["upsert_ticket"] = {"id": "901"}
    h.run("dispute.opened", dispute())
    h.execute_outbox()
    assert h.state("ticket_id:DSP-1") == "901"


def test_a_ticket_first_seen_already_solved_writes_back_too(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    h.run("ticket.created", {"external_id": "dispute-DSP-1", "status": "solved", "tags": ["disputes"]}, source="sync")
    assert [a["payload"]["status"] for a in h.actions("core_banking", "update_dispute")] == ["under_review"]


def test_with_the_identity_plugin_a_refund_waits_for_the_customers_code(harness):
    import re

    from hub.pipeline import EventContext
    from plugins.identity import verify_code

    h = harness(others={"identity": {}})
    h.run("dispute.opened", dispute())
    h.run("dispute.closed", dispute("won", outcome="won"), created_at="2026-11-30T00:00:00Z")
    assert h.actions("core_banking", "create_refund") == []
    ticket = {"system": "zendesk", "id": 77, "external_id": "dispute-DSP-1", "status": "open",
              "customer_id": "CUST-0001", "tags": ["disputes", "verify_identity_refund"]}
    h.run("ticket.updated", ticket, source="zendesk")
    [code_message] = [a for a in h.actions("core_banking", "send_notification") if a["key"].startswith("identity:")]
    code = re.search(r"code is (\d{6})", code_message["payload"]["message"]).group(1)
    with h.hub.db.session() as session:
        verify_code(EventContext(h.hub, session), code, customer_id="CUST-0001",
                    action="core_banking.create_refund")
    h.run("ticket.updated", {**ticket, "tags": ["disputes", "dispute_refund"]}, source="zendesk", event_id="ok")
    [refund] = h.actions("core_banking", "create_refund")
    assert refund["payload"]["customer_id"] == "CUST-0001" and refund["key"] == "dispute-refund:DSP-1:0"


def test_a_failed_refund_can_be_approved_again_under_a_new_key(harness):
    h = harness()
    h.connectors.bank.results["create_refund"] = PermanentError("bank answered 422: not_refundable")
    h.run("dispute.closed", dispute("won", outcome="won"))
    h.execute_outbox()
    assert h.state("refund_result:DSP-1")["state"] == "refund_failed"
    assert any(n.startswith("The bank did not issue the refund") for n in h.notes())
    h.connectors.bank.results["create_refund"] = {"id": "RFD-2", "amount": "59.90", "currency": "EUR"}
    h.run("ticket.updated", {"external_id": "dispute-DSP-1", "status": "open", "tags": ["dispute_refund"]},
          source="sync")
    h.execute_outbox()
    assert [a["key"] for a in h.actions("core_banking", "create_refund")] == ["dispute-refund:DSP-1:0",
                                                                              "dispute-refund:DSP-1:1"]
    assert h.state("refund_result:DSP-1")["state"] == "refund_issued"
