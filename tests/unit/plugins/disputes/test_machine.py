"""The dispute state machine: status mapping, forward-only moves, and order-free convergence."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.disputes import machine

pytestmark = pytest.mark.unit


def data(status, due="2026-12-19T12:00:00Z", **extra):
    return {"dispute_id": "DSP-1", "customer_id": "CUST-0001", "transaction_id": "TXN-1", "amount": "10.00",
            "currency": "EUR", "status": status, "evidence_due_by": due, **extra}


@pytest.mark.parametrize("event_type, status, outcome, expected", [
    ("dispute.opened", "needs_response", None, "evidence_required"),
    ("dispute.opened", "warning_needs_response", None, "evidence_required"),
    ("dispute.opened", "something_new", None, "opened"),
    ("dispute.updated", "under_review", None, "submitted"),
    ("dispute.updated", "something_new", None, None),
    ("dispute.closed", "won", None, "won"),
    ("dispute.closed", "under_review", "lost", "lost"),
    ("dispute.closed", "charge_refunded", None, "closed"),
    ("dispute.closed", "under_review", None, "closed"),
    ("dispute.updated", "lost", "lost", "lost"),
])
def test_bank_and_stripe_statuses_map_onto_hub_states(event_type, status, outcome, expected):
    payload = {"status": status, **({"outcome": outcome} if outcome else {})}
    assert machine.hub_status(event_type, payload) == expected


def test_a_status_never_regresses():
    record = machine.new_record("DSP-1")
    machine.apply(record, "e1", "dispute.updated", data("under_review"), "2026-11-28T12:00:00Z")
    change = machine.apply(record, "e2", "dispute.updated", data("needs_response"), "2026-11-28T13:00:00Z")
    assert record["status"] == "submitted" and not change["status_changed"]
    assert [h["status"] for h in record["history"]] == ["submitted"]


def test_final_status_stays_final_and_a_repeat_is_a_duplicate():
    record = machine.new_record("DSP-1")
    machine.apply(record, "e1", "dispute.closed", data("won", outcome="won"), "2026-11-28T12:00:00Z")
    assert machine.apply(record, "e1", "dispute.closed", data("won"), "2026-11-28T12:00:00Z")["duplicate"]
    change = machine.apply(record, "e2", "dispute.opened", data("needs_response"), "2026-11-28T14:00:00Z")
    assert record["status"] == "won" and not change["status_changed"]


def test_data_comes_from_the_latest_event_even_at_a_lower_rank():
    record = machine.new_record("DSP-1")
    machine.apply(record, "e1", "dispute.updated", data("under_review", due="2026-12-01T00:00:00Z"),
                  "2026-11-28T12:00:00Z")
    change = machine.apply(record, "e2", "dispute.updated", data("needs_response", due="2026-12-05T00:00:00Z"),
                           "2026-11-28T12:30:00Z")
    assert change["data_changed"] and record["evidence_due_by"] == "2026-12-05T00:00:00Z"
    assert record["status"] == "submitted"


def test_display_status_shows_the_money_track():
    assert machine.display_status({"status": "won", "refund": {"state": "refund_issued"}}) == "won; refund_issued"
    assert machine.display_status({"status": "evidence_required", "refund": None}) == "evidence_required"


def test_external_id_is_deterministic_and_safe():
    assert machine.external_id("DSP-0001") == "dispute-DSP-0001"
    assert machine.external_id("a b/c") == "dispute-a_b_c"


EVENTS = [
    ("e1", "dispute.opened", data("needs_response", due="2026-12-10T00:00:00Z"), "2026-11-28T10:00:00Z"),
    ("e2", "dispute.updated", data("needs_response", due="2026-12-12T00:00:00Z"), "2026-11-28T11:00:00Z"),
    ("e3", "dispute.updated", data("under_review"), "2026-11-28T12:00:00Z"),
    ("e4", "dispute.closed", data("won", outcome="won", due=None), "2026-11-28T13:00:00Z"),
    ("e5", "dispute.updated", data("under_review", amount="9.00"), "2026-11-28T12:00:00Z"),
]


def final_of(order) -> dict:
    record = machine.new_record("DSP-1")
    for event_id, event_type, payload, at in order:
        machine.apply(record, event_id, event_type, payload, at)
    return {k: record[k] for k in ("status", "evidence_due_by", "amount", "status_key")}


def test_every_delivery_order_converges():
    results = {repr(final_of(order)) for order in itertools.permutations(EVENTS)}
    assert len(results) == 1
    assert final_of(EVENTS)["status"] == "won"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["dispute.opened", "dispute.updated", "dispute.closed"]),
                          st.sampled_from(["needs_response", "under_review", "won", "lost", "warning_closed"]),
                          st.integers(0, 5)), min_size=1, max_size=6, unique_by=lambda t: t), st.randoms())
def test_random_histories_converge_in_any_order(events, rng):
    numbered = [(f"e{i}", kind, data(status, due=f"2026-12-1{minute}T00:00:00Z"), f"2026-11-28T12:0{minute}:00Z")
                for i, (kind, status, minute) in enumerate(events)]
    shuffled = list(numbered)
    rng.shuffle(shuffled)
    assert final_of(numbered) == final_of(shuffled)
