"""Context notes on tickets: one per change of context, fields beside them, help-desk tickets included."""

from __future__ import annotations

import pytest

from tests.support.plugin_harness import Harness

pytestmark = pytest.mark.unit


def ticket_event(status: str = "open", **ticket) -> dict:
    return {"system": "zendesk", "ticket": {"id": 42, "status": status, "requester_id": 501, **ticket}}


def test_a_help_desk_ticket_gets_one_note_until_the_context_changes(make_hub):
    h = Harness(make_hub, {"customer_context": {}})
    h.run("ticket.created", ticket_event(), source="zendesk")
    h.run("ticket.updated", ticket_event(), source="zendesk")
    notes = h.actions("zendesk", "add_comment")
    assert len(notes) == 1 and notes[0]["payload"]["ticket_id"] == 42 and notes[0]["payload"]["public"] is False
    [fields] = h.actions("zendesk", "update_ticket")
    assert fields["payload"]["fields"] == {"Segment": "end_user", "KYC status": "verified",
                                           "Account status": "active"}
    h.fakes.bank.summaries["CUST-0001"]["kyc_status"] = "expired"
    h.run("ticket.updated", ticket_event(), source="zendesk")
    notes = h.actions("zendesk", "add_comment")
    assert len(notes) == 2 and "KYC status: expired" in notes[1]["payload"]["body"]
    assert notes[0]["order_key"] == notes[1]["order_key"] == "zendesk:ticket:42"


def test_solved_tickets_and_disabled_notes_get_nothing(make_hub):
    h = Harness(make_hub, {"customer_context": {"note_on_help_desk_tickets": False}})
    h.run("ticket.created", ticket_event(), source="zendesk")
    assert h.actions() == []
    h2 = Harness(make_hub, {"customer_context": {}})
    h2.run("ticket.updated", ticket_event(status="solved"), source="zendesk")
    assert h2.actions() == []


def test_hub_tickets_are_tracked_by_external_id(make_hub):
    h = Harness(make_hub, {"customer_context": {}, "fraud_alerts": {}})
    h.run("fraud.alert.created", {"alert_id": "A", "customer_id": "CUST-0001", "risk_score": 0.5, "reason": "r"})
    # the note rode in the create's comment (note_for_new_ticket); the help desk's echo of that ticket has the
    # same context, so no second note
    [upsert] = h.actions("zendesk", "upsert_ticket")
    assert "Customer context (Deskbridge)" in upsert["payload"]["ticket"]["comment"]["body"]
    h.run("ticket.created", ticket_event(external_id="fraud-CUST-0001-A"), source="zendesk")
    assert [a for a in h.actions("zendesk", "add_comment") if a["key"].startswith("context-note:")] == []
    # a changed context is news: one note, on the ticket's external id, as version 2 of that ticket's note
    h.fakes.bank.summaries["CUST-0001"]["kyc_status"] = "expired"
    h.run("ticket.updated", ticket_event(external_id="fraud-CUST-0001-A"), source="zendesk")
    [note] = [a for a in h.actions("zendesk", "add_comment") if a["key"].startswith("context-note:")]
    assert note["key"] == "context-note:zendesk:ext:fraud-CUST-0001-A:2" and "KYC status: expired" in note["payload"]["body"]


def test_sync_events_with_canonical_ids_note_the_zendesk_ticket(make_hub):
    h = Harness(make_hub, {"customer_context": {}})
    data = {"system": "zendesk", "id": "42", "external_id": "zendesk-42", "status": "open",
            "requester": {"email": "x@example.org", "customer_id": "CUST-0001"}, "links": {"zendesk": "42"}}
    h.run("ticket.created", data, source="sync")
    h.run("ticket.updated", {**data, "system": "salesforce", "id": "500A", "links": {"zendesk": "42"}},
          source="sync")
    [note] = h.actions("zendesk", "add_comment")
    assert note["payload"]["ticket_id"] == "42" and "external_id" not in note["payload"]
