"""Fraud alert handling through the real pipeline with fake connectors: dedupe, correlation, notify, freeze."""

from __future__ import annotations

import pytest

from hub.hookspecs import hookimpl
from tests.support.plugin_harness import Harness

pytestmark = pytest.mark.unit
HOOK = "https://hooks.example.com/fraud"
POLICY = {"enabled": True, "min_risk_score": 0.9, "segments": ["end_user"]}


def make(make_hub, extra=(), **fraud) -> Harness:
    block = {"notify": {"webhook_url": HOOK}, **fraud}
    return Harness(make_hub, {"customer_context": {}, "fraud_alerts": block}, extra=extra)


def alert(alert_id: str, score: float = 0.7, customer: str = "CUST-0001", **extra) -> dict:
    return {"alert_id": alert_id, "customer_id": customer, "risk_score": score, "reason": "velocity", **extra}


def test_first_alert_opens_an_urgent_case_ticket_with_context(make_hub):
    h = make(make_hub)
    h.run("fraud.alert.created", alert("AL-1", amount="10.00", currency="EUR", card_last4="0614"))
    [upsert] = h.actions("zendesk", "upsert_ticket")
    assert upsert["payload"]["external_id"] == "fraud-CUST-0001-AL-1"
    ticket = upsert["payload"]["ticket"]
    assert ticket["priority"] == "urgent" and "compliance_fraud" in ticket["tags"]
    assert ticket["comment"]["public"] is False and ticket["requester_id"] == 501
    assert ticket["fields"] == {"Segment": "end_user", "KYC status": "verified", "Account status": "active",
                                "Risk score": 0.7}
    # the context note rides in the create's internal comment: no separate note to write
    assert ticket["comment"]["body"].startswith("Fraud case AL-1 opened by Deskbridge")
    assert "\n\nCustomer context (Deskbridge)\n" in ticket["comment"]["body"]
    assert "KYC status: verified" in ticket["comment"]["body"]
    assert h.actions("zendesk", "add_comment") == [] and h.actions("zendesk", "update_ticket") == []
    assert h.state("customer_context", "note:zendesk:ext:fraud-CUST-0001-AL-1")["version"] == 1
    # every write about the case shares one order key, so nothing overtakes the ticket's creation
    assert {a["order_key"] for a in h.actions("zendesk")} == {"zendesk:fraud-CUST-0001-AL-1"}
    [notify] = h.actions("notify")
    assert notify["payload"]["url"] == HOOK and "fraud-CUST-0001-AL-1" in notify["payload"]["json"]["text"]


def test_later_alerts_in_the_window_are_notes_and_duplicates_do_nothing(make_hub):
    h = make(make_hub)
    h.run("fraud.alert.created", alert("AL-1"), created_at="2026-11-28T00:00:00Z")
    h.run("fraud.alert.created", alert("AL-2", score=0.9), created_at="2026-11-28T20:00:00Z")
    before = len(h.actions())
    h.run("fraud.alert.created", alert("AL-2", score=0.9), created_at="2026-11-28T20:00:01Z")
    assert len(h.actions()) == before
    assert len(h.actions("zendesk", "upsert_ticket")) == 1
    follow = [a for a in h.actions("zendesk", "add_comment") if a["key"] == "fraud-note:AL-2"]
    assert follow and follow[0]["payload"]["external_id"] == "fraud-CUST-0001-AL-1"
    assert [a["payload"]["fields"] for a in h.actions("zendesk", "update_ticket")
            if a["key"].startswith("fraud-score:")] == [{"Risk score": 0.9}]
    assert len(h.actions("notify")) == 1  # once per case by default
    case = h.state("fraud_alerts", "case:fraud-CUST-0001-AL-1")
    assert case["count"] == 2 and case["alerts"] == ["AL-1", "AL-2"] and case["max_score"] == 0.9


def test_an_alert_outside_the_window_opens_a_new_case(make_hub):
    h = make(make_hub, window_hours=2)
    h.run("fraud.alert.created", alert("AL-1"), created_at="2026-11-28T00:00:00Z")
    h.run("fraud.alert.created", alert("AL-2"), created_at="2026-11-28T02:00:01Z")
    assert [a["payload"]["external_id"] for a in h.actions("zendesk", "upsert_ticket")] == [
        "fraud-CUST-0001-AL-1", "fraud-CUST-0001-AL-2"]
    assert h.state("fraud_alerts", "open:CUST-0001") == "fraud-CUST-0001-AL-2"


def test_every_alert_notifies_when_configured(make_hub):
    h = make(make_hub, notify={"webhook_url": HOOK, "every_alert": True})
    h.run("fraud.alert.created", alert("AL-1"))
    h.run("fraud.alert.created", alert("AL-2"))
    texts = [a["payload"]["json"]["text"] for a in h.actions("notify")]
    assert len(texts) == 2 and texts[1].startswith("Further fraud alert")


def test_solved_ticket_closes_the_case_and_the_next_alert_opens_another(make_hub):
    h = make(make_hub)
    h.run("fraud.alert.created", alert("AL-1"))
    h.run("ticket.updated", {"ticket": {"id": 77, "external_id": "fraud-CUST-0001-AL-1", "status": "solved"}},
          source="sync")
    case = h.state("fraud_alerts", "case:fraud-CUST-0001-AL-1")
    assert case["status"] == "closed" and case["ticket_id"] == "77"
    assert [e["target"] for e in h.audit("fraud.case.closed")] == ["fraud-CUST-0001-AL-1"]
    h.run("fraud.alert.created", alert("AL-2"))
    assert len(h.actions("zendesk", "upsert_ticket")) == 2


def test_a_ticket_update_that_is_not_solved_leaves_the_case_open(make_hub):
    h = make(make_hub)
    h.run("fraud.alert.created", alert("AL-1"))
    h.run("ticket.updated", {"ticket": {"id": 77, "external_id": "fraud-CUST-0001-AL-1", "status": "pending"}},
          source="sync")
    assert h.state("fraud_alerts", "case:fraud-CUST-0001-AL-1")["status"] == "open"


def test_freeze_needs_policy_threshold_segment_and_a_known_card(make_hub):
    h = make(make_hub, auto_freeze=POLICY)
    h.run("fraud.alert.created", alert("AL-1", score=0.95, card_last4="0614"))
    [freeze] = h.actions("core_banking", "freeze_card")
    assert freeze["payload"]["card_id"] == "CARD-0001-01"
    assert [(e["target"], e["outcome"]) for e in h.audit("card.auto_freeze")] == [("CARD-0001-01", "requested")]
    # same card, same case: frozen once
    h.run("fraud.alert.created", alert("AL-2", score=0.99, card_last4="0614"))
    assert len(h.actions("core_banking", "freeze_card")) == 1


@pytest.mark.parametrize("score, last4, segment, reason", [
    (0.5, "0614", "end_user", "below"),
    (0.95, "9999", "end_user", "not among"),
    (0.95, None, "end_user", "names no card"),
    (0.95, "0614", "investor", "not eligible"),
])
def test_freeze_is_skipped_and_audited_when_policy_says_no(make_hub, score, last4, segment, reason):
    h = make(make_hub, auto_freeze=POLICY)
    h.fakes.bank.summaries["CUST-0001"]["segment"] = segment
    h.run("fraud.alert.created", alert("AL-1", score=score, **({"card_last4": last4} if last4 else {})))
    assert h.actions("core_banking") == []
    [entry] = h.audit("card.auto_freeze")
    assert entry["outcome"] == "skipped" and reason in entry["detail"]["reason"]


def test_freeze_off_by_default(make_hub):
    h = make(make_hub)
    h.run("fraud.alert.created", alert("AL-1", score=1.0, card_last4="0614"))
    assert h.actions("core_banking") == [] and h.audit("card.auto_freeze") == []


class RefuseFreezes:
    @hookimpl
    def decide_action_allowed(self, system, operation, payload, ctx):
        return "step-up verification required" if operation == "freeze_card" else None


def test_a_refused_freeze_is_audited_and_the_case_still_opens(make_hub):
    h = make(make_hub, extra=[RefuseFreezes()], auto_freeze=POLICY)
    h.run("fraud.alert.created", alert("AL-1", score=0.95, card_last4="0614"))
    assert h.actions("core_banking") == []
    assert [e["outcome"] for e in h.audit("card.auto_freeze")] == ["refused"]
    assert len(h.actions("zendesk", "upsert_ticket")) == 1


def test_stripe_alert_without_bank_context_still_opens_a_case(make_hub):
    h = make(make_hub, auto_freeze=POLICY)
    h.run("fraud.alert.created", alert("AL-s", score=0.95, customer="cus_123"), source="stripe")
    [upsert] = h.actions("zendesk", "upsert_ticket")
    assert upsert["payload"]["external_id"] == "fraud-cus_123-AL-s"
    assert "requester_id" not in upsert["payload"]["ticket"]
    assert [e["outcome"] for e in h.audit("card.auto_freeze")] == ["skipped"]
