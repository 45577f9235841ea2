"""Search evaluation: tokens, operators, groups and sort keys."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hub.sandbox.hubspot.errors import HubSpotError
from hub.sandbox.hubspot.search import Matcher, query_match, sort_key_factory, token_match, tokens
from hub.sandbox.hubspot.store import PortalStore

pytestmark = pytest.mark.unit


@pytest.fixture
def store():
    s = PortalStore(lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    s.create("contacts", {"email": "jane.doe@example.com", "firstname": "Jane", "risk_score": "0.5"})
    s.create("contacts", {"email": "bob@example.org", "firstname": "Bob", "risk_score": "0.05"})
    s.create("contacts", {"email": "amy@example.com", "firstname": "Amy"})
    return s


def names(store, groups):
    matcher = Matcher(store, "contacts", groups)
    return [r.properties["firstname"] for r in store.live("contacts") if matcher.matches(r)]


def test_tokens_of_an_email():
    assert {"jane.doe@example.com", "jane", "doe", "example.com", "example", "com"} <= tokens("jane.doe@example.com")
    assert token_match("jane.doe@example.com", "*@example.com")
    assert not token_match(None, "x")


def test_numbers_compare_as_numbers(store):
    assert names(store, [{"filters": [{"propertyName": "risk_score", "operator": "GT", "value": "0.1"}]}]) == ["Jane"]
    assert names(store, [{"filters": [{"propertyName": "risk_score", "operator": "LT", "value": "1"}]}]) == ["Jane", "Bob"]


def test_neq_and_not_in_include_unset(store):
    assert names(store, [{"filters": [{"propertyName": "risk_score", "operator": "NEQ", "value": "0.5"}]}]) == ["Bob", "Amy"]
    group = [{"filters": [{"propertyName": "firstname", "operator": "NOT_IN", "values": ["jane", "bob"]}]}]
    assert names(store, group) == ["Amy"]


def test_groups_or_and_filters_and(store):
    groups = [{"filters": [{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*.org"}]},
              {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "AMY"},
                           {"propertyName": "risk_score", "operator": "NOT_HAS_PROPERTY"}]}]
    assert names(store, groups) == ["Bob", "Amy"]


def test_invalid_requests(store):
    for groups in ([{"filters": []}] * 6,
                   [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 7}],
                   [{"filters": [{"propertyName": "email", "operator": "LIKE", "value": "x"}]}],
                   [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": "x"}]}],
                   [{"filters": [{"propertyName": "email", "operator": "IN", "value": "x"}]}]):
        with pytest.raises(HubSpotError):
            Matcher(store, "contacts", groups)


def test_query_prefix_matches_searchable_properties(store):
    found = [r.properties["firstname"] for r in store.live("contacts") if query_match(store, r, ["ja"])]
    assert found == ["Jane"]


def test_sort_puts_missing_values_last_both_ways(store):
    for direction, expected in (("ASCENDING", ["Bob", "Jane", "Amy"]), ("DESCENDING", ["Jane", "Bob", "Amy"])):
        key, reverse = sort_key_factory(store, "contacts", [{"propertyName": "risk_score", "direction": direction}])
        ordered = sorted(store.live("contacts"), key=key, reverse=reverse)
        assert [r.properties["firstname"] for r in ordered] == expected


def test_paging_stops_at_the_result_cap(monkeypatch):
    import hub.sandbox.hubspot.search as search_module
    from hub.sandbox import create_sandbox_app

    monkeypatch.setattr(search_module, "RESULT_CAP", 50)
    app = create_sandbox_app(systems=("hubspot",))
    emulator = app.extensions["sandbox"].emulators["hubspot"]
    for i in range(60):
        emulator.store.create("companies", {"name": f"c{i}"})
    client = app.test_client()
    auth = {"Authorization": "Bearer sandbox-token"}
    page = client.post("/crm/v3/objects/companies/search", json={"limit": 20, "after": "40"}, headers=auth).json
    assert page["total"] == 60
    assert len(page["results"]) == 10 and "paging" not in page
    page = client.post("/crm/v3/objects/companies/search", json={"limit": 20, "after": "20"}, headers=auth).json
    assert page["paging"]["next"]["after"] == "40"
    refused = client.post("/crm/v3/objects/companies/search", json={"after": "50"}, headers=auth)
    assert refused.status_code == 400 and refused.json["category"] == "VALIDATION_ERROR"
