from datetime import datetime, timezone

import pytest

from plugins.sla.tickets import (
    category_of,
    comment_kind,
    comment_ticket_ref,
    event_time,
    linked_records,
    segment_of,
    ticket_facts,
    ticket_of,
)

pytestmark = pytest.mark.unit


def test_category_from_enrichment_then_field_then_tag():
    assert category_of({"tags": ["vip", "cards"]}, {"category": {"category": "fees", "confidence": 0.9}}) == "fees"
    assert category_of({"category": "disputes", "tags": ["cards"]}, {}) == "disputes"
    assert category_of({"tags": ["vip", "cards"]}, {}) == "cards"
    assert category_of({"tags": ["vip"]}, {}) is None


def test_segment_from_ticket_or_customer_context():
    assert segment_of({"segment": "merchant"}, {"customer": {"segment": "investor"}}) == "merchant"
    assert segment_of({}, {"customer": {"segment": "investor"}}) == "investor"
    assert segment_of({"customer": {"segment": "end_user"}}, {}) == "end_user"


def test_ticket_facts_normalises():
    facts = ticket_facts("hubspot", {"id": 7, "status": "OPEN", "priority": "High", "channel": "chat"}, {})
    assert facts == {"system": "hubspot", "id": "7", "external_id": None, "status": "open", "priority": "high",
                     "category": None, "segment": None, "channel": "chat"}
    assert ticket_of({"ticket": {"id": 1}})["id"] == 1


def test_linked_records_and_comment_refs():
    assert linked_records("zendesk", {"id": 5, "links": {"salesforce": "500A", "hubspot": None}}) == {
        "zendesk": "5", "salesforce": "500A"}
    assert comment_ticket_ref("salesforce", {"ticket_id": "500A"}) == ("500A", None)
    assert comment_ticket_ref("zendesk", {"ticket": {"id": 5, "external_id": "DB-1"}}) == ("5", "DB-1")


@pytest.mark.parametrize(
    "comment, kind",
    [
        ({"author_role": "agent", "public": True}, "agent"),
        ({"author_role": "agent", "public": False}, None),
        ({"author_role": "end-user"}, "customer"),
        ({"author_role": "system"}, None),
    ],
)
def test_comment_kind(comment, kind):
    assert comment_kind(comment) == kind


def test_event_time_prefers_readable_values():
    default = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert event_time({"created_at": "nonsense", "updated_at": "2026-02-01T10:00:00+01:00"},
                      "created_at", "updated_at", default=default) == datetime(2026, 2, 1, 9, tzinfo=timezone.utc)
    assert event_time({}, "created_at", default=default) == default
