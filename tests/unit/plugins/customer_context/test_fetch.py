"""``enrich_event``: who the customer is, what core banking says, which tickets they have; outages degrade."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hub.errors import PermanentError, RetryableError
from plugins.customer_context.config import Config
from plugins.customer_context.fetch import build_context, customer_ref, enrich
from tests.support.plugin_harness import FakeBank, FakeZendesk

pytestmark = pytest.mark.unit


def event(type_: str, data: dict, source: str = "banking", attempts: int = 1):
    return SimpleNamespace(id=1, type=type_, source=source, data=data, attempts=attempts, enrichment={})


def ctx(bank=None, zendesk=None):
    return SimpleNamespace(hub=SimpleNamespace(connectors={k: v for k, v in
                                                           {"core_banking": bank, "zendesk": zendesk}.items() if v}))


def test_customer_is_found_from_banking_and_ticket_events():
    assert customer_ref(event("payment.failed", {"customer_id": "CUST-1"})) == ("CUST-1", None, None)
    ticket = {"ticket": {"id": 5, "requester": {"email": "a@b.c", "external_id": "CUST-2"}}, "system": "zendesk"}
    assert customer_ref(event("ticket.created", ticket, source="sync")) == ("CUST-2", "a@b.c", None)
    assert customer_ref(event("ticket.created", {"id": 5, "requester_id": "501"}, source="zendesk")) == (
        None, None, 501)


def test_context_with_zendesk_user_and_tickets():
    bank, zendesk = FakeBank(), FakeZendesk()
    zendesk.requested[501] = [{"id": 1, "status": "solved", "updated_at": "2026-01-01T00:00:00Z", "tags": []},
                              {"id": 2, "status": "open", "updated_at": "2026-02-01T00:00:00Z", "tags": ["fees"]}]
    found = build_context(bank, zendesk, "CUST-0001", None, None, with_tickets=True)
    assert found["customer"]["found"] and found["customer"]["kyc_status"] == "verified"
    assert found["customer"]["zendesk_user_id"] == 501 and "email" not in found["customer"]
    assert [t["id"] for t in found["customer_tickets"]] == [2, 1]  # newest first


def test_requester_id_resolves_through_zendesk_and_email_is_fetched_when_no_user():
    bank, zendesk = FakeBank(), FakeZendesk()
    assert build_context(bank, zendesk, None, None, 501, False)["customer"]["customer_id"] == "CUST-0001"
    zendesk.users.clear()
    found = build_context(bank, zendesk, "CUST-0001", None, None, False)["customer"]
    assert found["zendesk_user_id"] is None and found["email"] == "cust-0001@example.org"


def test_unknown_customer_is_marked_not_found():
    found = build_context(FakeBank(), None, "CUST-404", None, None, False)
    assert found["customer"] == {"customer_id": "CUST-404", "found": False, "zendesk_user_id": None}


def test_other_events_are_not_enriched():
    assert enrich(event("incident.opened", {"incident_id": "I"}), ctx(FakeBank()), Config()) is None
    assert enrich(event("payment.failed", {}), ctx(FakeBank()), Config()) is None


def test_bank_outage_retries_then_degrades():
    bank = FakeBank()
    bank.fail_with = RetryableError("core_banking answered 503")
    with pytest.raises(RetryableError):
        enrich(event("fraud.alert.created", {"customer_id": "CUST-0001"}, attempts=1), ctx(bank), Config())
    late = enrich(event("fraud.alert.created", {"customer_id": "CUST-0001"}, attempts=3), ctx(bank), Config())
    assert late["customer"]["found"] is False and "503" in late["customer"]["unavailable"]
    bank.fail_with = PermanentError("core_banking answered 400")
    assert enrich(event("payment.failed", {"customer_id": "CUST-0001"}), ctx(bank), Config())["customer"][
        "found"] is False
