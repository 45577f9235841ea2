"""Failed payments, frozen accounts and KYC changes into tickets and notes (real pipeline, fake connectors)."""

from __future__ import annotations

import pytest

from tests.support.plugin_harness import Harness

pytestmark = pytest.mark.unit
PLUGINS = {"customer_context": {}, "banking_events": {}}


def payment(payment_id: str, customer: str = "CUST-0001") -> dict:
    return {"payment_id": payment_id, "customer_id": customer, "amount": "42.00", "currency": "EUR",
            "failure_code": "insufficient_funds"}


def test_failed_payments_share_one_ticket_and_replays_do_nothing(make_hub):
    h = Harness(make_hub, PLUGINS)
    h.run("payment.failed", payment("PAY-1"))
    [upsert] = h.actions("zendesk", "upsert_ticket")
    assert upsert["payload"]["external_id"] == "payment-failed-CUST-0001-PAY-1"
    assert "payments" in upsert["payload"]["ticket"]["tags"] and upsert["payload"]["ticket"]["requester_id"] == 501
    h.run("payment.failed", payment("PAY-2"))
    h.run("payment.failed", payment("PAY-2"))
    assert len(h.actions("zendesk", "upsert_ticket")) == 1
    [note] = [a for a in h.actions("zendesk", "add_comment") if a["key"] == "payment-note:PAY-2"]
    assert note["payload"] == {"external_id": "payment-failed-CUST-0001-PAY-1", "public": False,
                               "body": "Payment PAY-2 failed: 42.00 EUR (insufficient_funds)."}
    assert note["order_key"] == "zendesk:payment-failed-CUST-0001-PAY-1"


def test_open_payments_ticket_in_the_help_desk_gets_the_note(make_hub):
    h = Harness(make_hub, PLUGINS)
    h.fakes.zendesk.requested[501] = [
        {"id": 7, "status": "open", "tags": ["account_management"], "updated_at": "2026-11-28T00:00:00Z"},
        {"id": 8, "status": "pending", "tags": ["cards"], "updated_at": "2026-11-27T00:00:00Z"}]
    h.run("payment.failed", payment("PAY-1"))
    assert h.actions("zendesk", "upsert_ticket") == []
    assert [a["payload"]["ticket_id"] for a in h.actions("zendesk", "add_comment")
            if a["key"] == "payment-note:PAY-1"] == [8]


def test_solved_hub_ticket_means_a_new_ticket_next_time(make_hub):
    h = Harness(make_hub, PLUGINS)
    h.run("payment.failed", payment("PAY-1"))
    h.run("ticket.updated", {"ticket": {"id": 9, "external_id": "payment-failed-CUST-0001-PAY-1",
                                        "status": "solved"}}, source="sync")
    h.run("payment.failed", payment("PAY-2"))
    assert [a["payload"]["external_id"] for a in h.actions("zendesk", "upsert_ticket")] == [
        "payment-failed-CUST-0001-PAY-1", "payment-failed-CUST-0001-PAY-2"]


def test_account_frozen_once_per_freeze_and_unfrozen_is_a_note(make_hub):
    h = Harness(make_hub, PLUGINS)
    frozen = {"account_id": "ACC-0001-01", "customer_id": "CUST-0001", "reason": "suspicious activity"}
    h.run("account.frozen", frozen)
    h.run("account.frozen", frozen)
    [upsert] = h.actions("zendesk", "upsert_ticket")
    ticket = upsert["payload"]["ticket"]
    assert ticket["priority"] == "high" and "account_access" in ticket["tags"]
    h.run("account.unfrozen", {**frozen, "reason": "cleared"})
    notes = [a for a in h.actions("zendesk", "add_comment") if a["key"].startswith("account-unfrozen:")]
    assert notes[0]["payload"]["external_id"] == upsert["payload"]["external_id"]
    h.run("account.frozen", frozen)
    assert len(h.actions("zendesk", "upsert_ticket")) == 2  # a new freeze is a new episode


def test_kyc_change_refreshes_open_tickets_only(make_hub):
    h = Harness(make_hub, PLUGINS)
    h.fakes.zendesk.requested[501] = [{"id": 7, "status": "open", "tags": []},
                                      {"id": 8, "status": "solved", "tags": []}]
    h.fakes.bank.summaries["CUST-0001"]["kyc_status"] = "rejected"
    h.run("kyc.status.changed", {"customer_id": "CUST-0001", "status": "rejected"})
    h.run("kyc.status.changed", {"customer_id": "CUST-0001", "status": "rejected"})
    notes = h.actions("zendesk", "add_comment")
    assert [n["payload"]["ticket_id"] for n in notes] == [7] and "KYC status: rejected" in notes[0]["payload"]["body"]


def test_disabled_handlers_do_nothing(make_hub):
    h = Harness(make_hub, {"banking_events": {"payment_failed": {"enabled": False},
                                              "account_frozen": {"enabled": False}}})
    h.run("payment.failed", payment("PAY-1"))
    h.run("account.frozen", {"account_id": "A", "customer_id": "CUST-0001", "reason": "r"})
    assert h.actions() == [] and h.inbox_status() == ["done", "done"]
