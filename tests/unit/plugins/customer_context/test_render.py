"""The context note and fields: plain text, last4 only, stable hash."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.customer_context.config import FieldTitles
from plugins.customer_context.render import account_status, context_hash, mask_pans, render_note, ticket_fields
from tests.support.plugin_harness import SUMMARY

pytestmark = pytest.mark.unit


def context(**changes) -> dict:
    return {**copy.deepcopy(SUMMARY), "found": True, **changes}


def test_note_shows_what_an_agent_needs():
    note = render_note(context(recent_failed_payments=[
        {"id": "TXN-9", "amount": "12.00", "currency": "EUR", "failure_code": "insufficient_funds",
         "description": "Rent", "created_at": "2026-11-27T10:00:00Z"}]))
    for text in ("Fatima Garcia (CUST-0001)", "Segment: end_user", "KYC status: verified", "ACC-0001-01 EUR active",
                 "•••• 0614 visa active", "Recent failed payments: 1", "TXN-9", "Open disputes: none",
                 "Lifetime value: 1200.00"):
        assert text in note


def test_balances_and_as_of_do_not_change_the_note():
    moved = context(as_of="2030-01-01T00:00:00Z")
    moved["accounts"][0]["balance"] = "5.00"
    assert context_hash(render_note(moved)) == context_hash(render_note(context()))
    assert context_hash(render_note(context(kyc_status="rejected"))) != context_hash(render_note(context()))


def test_unknown_customer_note():
    assert "not known to core banking" in render_note({"customer_id": "CUST-X", "found": False})


@given(st.lists(st.integers(0, 9), min_size=13, max_size=19), st.sampled_from(["", " ", "-"]))
def test_card_numbers_are_masked_to_last4(digits, sep):
    pan = sep.join(str(d) for d in digits)
    masked = mask_pans(f"card {pan} declined")
    assert "".join(str(d) for d in digits) not in masked.replace(sep, "")
    assert masked.endswith(f"•••• {''.join(map(str, digits[-4:]))} declined")


def test_pan_in_a_payment_description_never_reaches_the_note():
    note = render_note(context(recent_failed_payments=[
        {"id": "TXN-1", "amount": "1.00", "currency": "EUR", "failure_code": "x",
         "description": "card 4111111111111111"}]))
    assert "4111111111111111" not in note and "•••• 1111" in note


def test_fields_and_account_status():
    assert account_status(context()) == "active"
    frozen = context(accounts=[{"id": "A", "status": "active"}, {"id": "B", "status": "frozen"}])
    assert account_status(frozen) == "frozen"
    assert ticket_fields(frozen, FieldTitles(), risk_score=0.91234567) == {
        "Segment": "end_user", "KYC status": "verified", "Account status": "frozen", "Risk score": 0.9123}
    assert ticket_fields(context(), FieldTitles(segment=None)) == {"KYC status": "verified",
                                                                   "Account status": "active"}
