"""CRM search through the SDK: filter groups, operators, sorts, query, paging and limits."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.tickets import (ApiException, BatchInputSimplePublicObjectBatchInputForCreate, Filter, FilterGroup,
                                 PublicObjectSearchRequest, SimplePublicObjectBatchInputForCreate)

pytestmark = pytest.mark.contract


@pytest.fixture
def tickets(hs):
    """30 tickets: risk 0.00..0.29, categories cycling, stage 1 or 4, every third without a priority."""
    categories = ("cards", "payments", "disputes")
    inputs = []
    for i in range(30):
        props = {"subject": f"Ticket {i:02d} about {categories[i % 3]}", "hs_pipeline_stage": "4" if i % 2 else "1",
                 "risk_score": f"{i / 100:.2f}", "category": categories[i % 3],
                 "content": "customer jane.doe@example.com asked" if i == 7 else "routine question"}
        if i % 3:
            props["hs_ticket_priority"] = "HIGH" if i % 2 else "LOW"
        inputs.append(SimplePublicObjectBatchInputForCreate(properties=props))
    return hs.crm.tickets.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)).results


def search(hs, groups=(), **kw):
    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(**f) for f in group]) for group in groups], **kw)
    return hs.crm.tickets.search_api.do_search(public_object_search_request=request)


def subjects(page):
    return [r.properties["subject"][:9] for r in page.results]


def test_eq_and_and_within_group(hs, tickets):
    page = search(hs, [[{"property_name": "category", "operator": "EQ", "value": "cards"},
                        {"property_name": "hs_pipeline_stage", "operator": "EQ", "value": "1"}]],
                  properties=["subject", "category"], limit=100)
    assert page.total == 5
    assert all(r.properties["category"] == "cards" for r in page.results)


def test_groups_are_ored(hs, tickets):
    page = search(hs, [[{"property_name": "risk_score", "operator": "LT", "value": "0.02"}],
                       [{"property_name": "risk_score", "operator": "GTE", "value": "0.28"}]], limit=100)
    assert subjects(page) == ["Ticket 00", "Ticket 01", "Ticket 28", "Ticket 29"]


def test_numeric_between_in_not_in_and_has_property(hs, tickets):
    between = search(hs, [[{"property_name": "risk_score", "operator": "BETWEEN", "value": "0.10", "high_value": "0.12"}]])
    assert between.total == 3
    within = search(hs, [[{"property_name": "category", "operator": "IN", "values": ["cards", "disputes"]}]], limit=100)
    assert within.total == 20
    outside = search(hs, [[{"property_name": "category", "operator": "NOT_IN", "values": ["cards", "disputes"]}]])
    assert outside.total == 10
    missing = search(hs, [[{"property_name": "hs_ticket_priority", "operator": "NOT_HAS_PROPERTY"}]])
    present = search(hs, [[{"property_name": "hs_ticket_priority", "operator": "HAS_PROPERTY"}]])
    assert (missing.total, present.total) == (10, 20)
    assert search(hs, [[{"property_name": "category", "operator": "NEQ", "value": "cards"}]]).total == 20


def test_tokens_and_query(hs, tickets):
    assert search(hs, [[{"property_name": "content", "operator": "CONTAINS_TOKEN", "value": "jane.doe@example.com"}]]).total == 1
    assert search(hs, [[{"property_name": "content", "operator": "CONTAINS_TOKEN", "value": "*example.com"}]]).total == 1
    assert search(hs, [[{"property_name": "content", "operator": "NOT_CONTAINS_TOKEN", "value": "routine"}]]).total == 1
    assert search(hs, query="disputes").total == 10
    assert search(hs, query="ticket 07").total == 1


def test_sorts_and_paging(hs, tickets):
    seen, after = [], None
    while True:
        page = search(hs, sorts=[{"propertyName": "risk_score", "direction": "DESCENDING"}], limit=7, after=after,
                      properties=["risk_score"])
        assert page.total == 30
        seen.extend(r.properties["risk_score"] for r in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == [f"{i / 100:.2f}" for i in reversed(range(30))]
    ascending = search(hs, sorts=["createdate"], limit=3)
    assert [r.id for r in ascending.results] == [t.id for t in tickets[:3]]


def test_archived_records_are_not_found(hs, tickets):
    hs.crm.tickets.basic_api.archive(tickets[0].id)
    assert search(hs, limit=100).total == 29


def test_search_limits(hs, tickets):
    too_many_groups = [[{"property_name": "category", "operator": "EQ", "value": "cards"}]] * 6
    too_many_filters = [[{"property_name": "category", "operator": "EQ", "value": "cards"}] * 7]
    for kw in ({"groups": too_many_groups}, {"groups": too_many_filters}, {"limit": 201}, {"after": "10000"}):
        with pytest.raises(ApiException) as caught:
            search(hs, **kw)
        assert caught.value.status == 400
        assert json.loads(caught.value.body)["category"] == "VALIDATION_ERROR"
    with pytest.raises(ApiException):
        search(hs, [[{"property_name": "no_such_prop", "operator": "EQ", "value": "x"}]])


def test_search_by_association(hs, tickets):
    from hubspot.crm.contacts import SimplePublicObjectInputForCreate
    contact = hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={"email": "s@example.com"}))
    hs.crm.associations.v4.basic_api.create_default("tickets", tickets[4].id, "contacts", contact.id)
    page = search(hs, [[{"property_name": "associations.contact", "operator": "EQ", "value": contact.id}]])
    assert [r.id for r in page.results] == [tickets[4].id]
