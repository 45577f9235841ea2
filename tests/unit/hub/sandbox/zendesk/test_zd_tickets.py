"""Ticket write rules on the state directly: defaults, audits, events, closed tickets."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hub.sandbox.zendesk import people, tickets
from hub.sandbox.zendesk.errors import ZendeskApiError
from hub.sandbox.zendesk.state import ZendeskState

pytestmark = pytest.mark.unit


@pytest.fixture
def state():
    state = ZendeskState(clock=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    group = people.create_group(state, {"name": "Payments"})
    agent = people.create_user(state, {"name": "Agent", "email": "a@sandbox.test", "role": "agent",
                                       "default_group_id": group["id"]})
    state.agent_id = agent["id"]
    return state


def create(state, **data):
    payload = {"subject": "S", "comment": {"body": "Body"}, **data}
    return tickets.create_ticket(state, payload, state.agent_id)


def test_assignee_opens_ticket_and_brings_default_group(state):
    ticket = create(state, assignee_id=state.agent_id).ticket
    assert ticket["status"] == "open" and ticket["group_id"] is not None


def test_solving_unassigned_ticket_assigns_the_solver(state):
    ticket = create(state).ticket
    result = tickets.update_ticket(state, ticket["id"], {"status": "solved"}, state.agent_id)
    assert result.ticket["assignee_id"] == state.agent_id
    assert ("ticket.status_changed", {"current": "SOLVED", "previous": "NEW"}) in result.events


def test_no_change_writes_no_audit_and_no_event(state):
    ticket = create(state, priority="low").ticket
    result = tickets.update_ticket(state, ticket["id"], {"priority": "low"}, state.agent_id)
    assert result.events == [] and len(state.audits[ticket["id"]]) == 1


def test_closed_ticket_refuses_update(state):
    ticket = create(state).ticket
    tickets.update_ticket(state, ticket["id"], {"status": "closed"}, state.agent_id)
    with pytest.raises(ZendeskApiError) as caught:
        tickets.update_ticket(state, ticket["id"], {"subject": "again"}, state.agent_id)
    assert caught.value.body["details"]["status"][0]["error"] == "ClosedPrevention"


def test_back_to_new_is_refused(state):
    ticket = create(state, status="open").ticket
    with pytest.raises(ZendeskApiError):
        tickets.update_ticket(state, ticket["id"], {"status": "new"}, state.agent_id)


def test_tags_changes_report_added_and_removed(state):
    ticket = create(state, tags=["a", "B"]).ticket
    assert ticket["tags"] == ["a", "b"]
    result = tickets.change_tags(state, ticket["id"], ["c"], "add", state.agent_id)
    assert result.ticket["tags"] == ["a", "b", "c"]
    result = tickets.change_tags(state, ticket["id"], ["a"], "remove", state.agent_id)
    assert ("ticket.tags_changed", {"tags_added": [], "tags_removed": ["a"]}) in result.events


def test_deleted_ticket_is_gone_for_reads(state):
    ticket = create(state).ticket
    tickets.delete_ticket(state, ticket["id"], state.agent_id)
    assert state.tickets[ticket["id"]]["status"] == "deleted"
    with pytest.raises(ZendeskApiError) as caught:
        tickets.get_live(state, ticket["id"])
    assert caught.value.status == 404


def test_unknown_assignee_and_end_user_assignee_are_refused(state):
    customer = people.create_user(state, {"name": "C", "email": "c@example.com"})
    for assignee in (999, customer["id"]):
        with pytest.raises(ZendeskApiError) as caught:
            create(state, assignee_id=assignee)
        assert caught.value.status == 422


def test_malformed_comment_changes_nothing(state):
    ticket = create(state).ticket
    with pytest.raises(ZendeskApiError):
        tickets.update_ticket(state, ticket["id"], {"status": "open", "comment": "text"}, state.agent_id)
    assert state.tickets[ticket["id"]]["status"] == "new"
