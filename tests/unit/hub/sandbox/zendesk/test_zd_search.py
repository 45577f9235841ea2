"""The search query language: parsing and matching, without HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hub.sandbox.zendesk import people, tickets
from hub.sandbox.zendesk.search import Term, parse, run_query
from hub.sandbox.zendesk.state import ZendeskState

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def test_parse_keys_operators_quotes_and_negation():
    assert parse('type:ticket status<solved -tags:spam "card declined" requester:ann@x.io') == [
        Term(False, "type", ":", "ticket"), Term(False, "status", "<", "solved"),
        Term(True, "tags", ":", "spam"), Term(False, None, ":", "card declined"),
        Term(False, "requester", ":", "ann@x.io")]
    assert parse("updated>=2026-01-01T00:00:00Z")[0] == Term(False, "updated", ">=", "2026-01-01T00:00:00Z")


@pytest.fixture
def state():
    clock = {"now": NOW - timedelta(days=3)}
    state = ZendeskState(clock=lambda: clock["now"])
    agent = people.create_user(state, {"name": "Agent", "email": "agent@sandbox.test", "role": "admin"})
    state.agent_id = agent["id"]
    ann = people.create_user(state, {"name": "Ann Lee", "email": "ann@example.com", "external_id": "CUST-1"})
    tickets.create_ticket(state, {"subject": "Card declined", "comment": {"body": "At the shop"},
                                  "requester_id": ann["id"], "tags": ["cards"], "priority": "high"}, agent["id"])
    clock["now"] = NOW
    tickets.create_ticket(state, {"subject": "Fee question", "comment": {"body": "Why a fee?"},
                                  "status": "pending", "tags": ["fees"], "priority": "low"}, agent["id"])
    return state


def subjects(state, query):
    return [r["subject"] for kind, r in run_query(state, query) if kind == "ticket"]


@pytest.mark.parametrize("query, expected", [
    ("type:ticket", ["Card declined", "Fee question"]),
    ("status:new", ["Card declined"]),
    ("status>new", ["Fee question"]),
    ("priority>=high", ["Card declined"]),
    ("tags:cards tags:fees", ["Card declined", "Fee question"]),
    ("-tags:cards type:ticket", ["Fee question"]),
    ("requester:ann@example.com", ["Card declined"]),
    ("requester:me", ["Fee question"]),
    ("assignee:none type:ticket", ["Card declined", "Fee question"]),
    ("created>1day", ["Fee question"]),
    ("created<2026-03-01", ["Card declined"]),
    ("created:2026-03-02", ["Fee question"]),
    ("shop", ["Card declined"]),
    ("dec*", ["Card declined"]),
    ("subject:fee", ["Fee question"]),
])
def test_ticket_queries(state, query, expected):
    assert subjects(state, query) == expected


def test_users_by_email_external_id_and_role(state):
    def emails(query):
        return [r["email"] for kind, r in run_query(state, query, only="user")]

    assert emails("email:ann@example.com") == ["ann@example.com"]
    assert emails("external_id:CUST-1") == ["ann@example.com"]
    assert emails("role:admin") == ["agent@sandbox.test"]
    assert emails("ann") == ["ann@example.com"]


def test_bad_date_is_a_clear_400(state):
    from hub.sandbox.zendesk.errors import ZendeskApiError

    with pytest.raises(ZendeskApiError) as caught:
        run_query(state, "created>yesterdayish")
    assert caught.value.status == 400
