"""Seed data: deterministic, realistic and internally consistent."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from stdnum import iban

from hub.sandbox.seed import CATEGORIES, TICKET_TEMPLATES, build_dataset

pytestmark = pytest.mark.unit

ANCHOR = datetime(2026, 3, 2, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def data():
    return build_dataset(7, anchor=ANCHOR)


def test_same_seed_same_data_other_seed_other_data(data):
    assert build_dataset(7, anchor=ANCHOR) == data
    assert build_dataset(8, anchor=ANCHOR) != data


def test_sizes_and_segments(data):
    counts = data.counts()
    assert counts["customers"] == 50 and counts["organisations"] == 10 and counts["tickets"] == 100
    segments = Counter(c.segment for c in data.customers)
    assert set(segments) == {"end_user", "merchant", "investor"} and segments["end_user"] > 25


def test_ids_are_unique_and_well_formed(data):
    ids = [c.id for c in data.customers]
    ids += [x.id for c in data.customers for x in (*c.accounts, *c.cards, *c.transactions, *c.disputes)]
    ids += [o.id for o in data.organisations] + [t.ref for t in data.tickets]
    assert len(ids) == len(set(ids))
    assert all(c.id.startswith("CUST-") for c in data.customers)
    assert all(t.ref.startswith("SEED-T-") for t in data.tickets)


def test_contact_details_are_safe_and_plausible(data):
    emails = [c.email for c in data.customers]
    assert len(set(emails)) == len(emails)
    assert all(e.split("@")[1].endswith(("example.com", "example.org", "example.net", ".example")) for e in emails)
    assert all(c.phone.startswith("+447700900") for c in data.customers)  # Ofcom drama range
    assert all(iban.is_valid(a.iban) for c in data.customers for a in c.accounts)
    assert all(len(card.last4) == 4 and card.last4.isdigit() for c in data.customers for card in c.cards)


def test_business_customers_belong_to_organisations_of_their_segment(data):
    orgs = {o.id: o for o in data.organisations}
    for customer in data.customers:
        if customer.segment == "end_user":
            assert customer.organisation is None
        else:
            org = orgs[customer.organisation_id]
            assert org.segment == customer.segment and customer.organisation == org.name
            assert customer.email.endswith("@" + org.domain)


def test_money_records_are_consistent(data):
    failed = [t for c in data.customers for t in c.transactions if t.status == "failed"]
    assert 5 <= len(failed) and all(t.failure_code for t in failed)
    disputes = [(c, d) for c in data.customers for d in c.disputes]
    assert 1 <= len(disputes) <= 12
    for customer, dispute in disputes:
        txn = next(t for t in customer.transactions if t.id == dispute.transaction_id)
        assert txn.status == "posted" and dispute.amount == -txn.amount and dispute.currency == txn.currency
        assert dispute.evidence_due_by > dispute.created_at
    for customer in data.customers:
        accounts = {a.id: a for a in customer.accounts}
        assert all(accounts[t.account_id].currency == t.currency for t in customer.transactions)
        assert all(t.created_at <= ANCHOR for t in customer.transactions)
        assert all(t.amount.as_tuple().exponent == -2 for t in customer.transactions)
        assert {c.purpose for c in customer.consents} and customer.lifetime_value > 0


def test_tickets_cover_every_category_with_filled_templates(data):
    by_category = Counter(t.category for t in data.tickets)
    assert set(by_category) == set(CATEGORIES) and min(by_category.values()) >= 5
    customers = {c.id for c in data.customers}
    for ticket in data.tickets:
        assert ticket.customer_id in customers
        assert "{" not in ticket.subject + ticket.description
        assert ticket.priority in ("low", "normal", "high", "urgent")
        assert ticket.status in ("new", "open", "pending", "solved")
        assert ticket.created_at < ANCHOR
    assert all(len(TICKET_TEMPLATES[c]) >= 3 for c in CATEGORIES)
    assert len({t.subject for t in data.tickets}) >= 40


def test_lookup_helpers(data):
    first = data.customers[0]
    assert data.customer(first.id) is first
    assert data.organisation(data.organisations[0].id) is data.organisations[0]
    with pytest.raises(KeyError):
        data.customer("CUST-NOPE")
