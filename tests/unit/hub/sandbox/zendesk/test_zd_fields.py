"""Custom field value rules and the tags field values add."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hub.sandbox.zendesk.errors import ZendeskApiError
from hub.sandbox.zendesk.fields import coerce_value, create_field, field_tags, install_system_fields
from hub.sandbox.zendesk.state import ZendeskState

pytestmark = pytest.mark.unit


@pytest.fixture
def state():
    state = ZendeskState(clock=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    install_system_fields(state)
    return state


def test_system_fields_are_not_removable(state):
    assert {f["type"] for f in state.ticket_fields.values()} >= {"subject", "status", "priority", "assignee"}
    assert not any(f["removable"] for f in state.ticket_fields.values())


@pytest.mark.parametrize("kind, value, stored", [
    ("checkbox", "true", True), ("checkbox", False, False), ("integer", "42", "42"), ("decimal", "0.93", "0.93"),
    ("date", "2026-02-28", "2026-02-28"), ("text", 12, "12"), ("text", "", None)])
def test_valid_values(state, kind, value, stored):
    field = create_field(state, {"type": kind, "title": kind})
    assert coerce_value(field, value) == stored


@pytest.mark.parametrize("kind, value", [("integer", "4.2"), ("decimal", "abc"), ("date", "28/02/2026"),
                                         ("checkbox", "maybe")])
def test_invalid_values_are_record_invalid(state, kind, value):
    field = create_field(state, {"type": kind, "title": kind})
    with pytest.raises(ZendeskApiError) as caught:
        coerce_value(field, value)
    assert caught.value.status == 422 and caught.value.body["error"] == "RecordInvalid"


def test_tagger_values_must_be_options_and_become_tags(state):
    field = create_field(state, {"type": "tagger", "title": "Category",
                                 "custom_field_options": [{"name": "Cards", "value": "cards"}]})
    assert coerce_value(field, "cards") == "cards" and field_tags(field, "cards") == ["cards"]
    with pytest.raises(ZendeskApiError):
        coerce_value(field, "loans")


def test_unknown_type_and_blank_title_are_refused(state):
    with pytest.raises(ZendeskApiError):
        create_field(state, {"type": "hologram", "title": "x"})
    with pytest.raises(ZendeskApiError):
        create_field(state, {"type": "text", "title": " "})
