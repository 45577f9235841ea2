"""search.json and search/export.json through zenpy: query language subset, result_type, paging, the cap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from zenpy.lib.api_objects import Comment, Organization, Ticket, User

pytestmark = pytest.mark.contract


@pytest.fixture
def tickets(zc, api, sandbox):
    def make(subject, email, status="new", tags=(), external_id=None):
        ticket = zc.tickets.create(Ticket(subject=subject, comment=Comment(body=f"{subject} body"),
                                          requester=User(name=email.split("@")[0], email=email),
                                          tags=list(tags), external_id=external_id)).ticket
        if status != "new":
            api("PUT", f"/api/v2/tickets/{ticket.id}.json", json={"ticket": {"status": status}})
        return ticket.id

    made = {"card": make("Card frozen abroad", "ann@example.com", "open", ["cards"], "HUB-1"),
            "fee": make("Unexpected monthly fee", "bob@example.com", "pending", ["fees"]),
            "kyc": make("Passport upload failing", "ann@example.com", "solved", ["kyc_verification"])}
    sandbox.sandbox.advance_clock(7200)
    made["late"] = make("Transfer stuck", "cy@example.com", "new", ["payments", "cards"])
    return made


def ids(results) -> set[int]:
    return {r.id for r in results}


def test_status_tags_requester_and_external_id(zc, tickets):
    assert ids(zc.search("status:open", type="ticket")) == {tickets["card"]}
    assert ids(zc.search("status<solved", type="ticket")) == {tickets["card"], tickets["fee"], tickets["late"]}
    assert ids(zc.search("tags:cards", type="ticket")) == {tickets["card"], tickets["late"]}
    assert ids(zc.search("tags:fees tags:kyc_verification", type="ticket")) == {tickets["fee"], tickets["kyc"]}
    assert ids(zc.search("requester:ann@example.com", type="ticket")) == {tickets["card"], tickets["kyc"]}
    assert ids(zc.search("external_id:HUB-1", type="ticket")) == {tickets["card"]}
    assert ids(zc.search("requester:ann@example.com -status:solved", type="ticket")) == {tickets["card"]}


def test_free_text_and_dates(zc, tickets, sandbox):
    assert ids(zc.search("passport", type="ticket")) == {tickets["kyc"]}
    assert ids(zc.search('"monthly fee"', type="ticket")) == {tickets["fee"]}
    assert ids(zc.search("created>1hour", type="ticket")) == {tickets["late"]}
    middle = (sandbox.sandbox.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(zc.search(f"updated>{middle}", type="ticket")) == {tickets["late"]}
    assert ids(zc.search(f"updated<{middle}", type="ticket")) == {tickets["card"], tickets["fee"], tickets["kyc"]}
    today = sandbox.sandbox.now().strftime("%Y-%m-%d")
    assert tickets["late"] in ids(zc.search(f"created:{today}", type="ticket"))


def test_every_result_carries_result_type(api, tickets, zc):
    zc.organizations.create(Organization(name="Cards Ltd"))
    body = api("GET", "/api/v2/search.json", params={"query": "cards"}).json()
    assert {r["result_type"] for r in body["results"]} == {"ticket", "organization"}
    assert body["facets"] is None and body["count"] == len(body["results"])


def test_users_and_organizations_by_type(zc, tickets):
    assert [u.email for u in zc.search("email:bob@example.com", type="user")] == ["bob@example.com"]
    zc.organizations.create(Organization(name="Acme Payments", external_id="ORG-7"))
    assert [o.name for o in zc.search("external_id:ORG-7", type="organization")] == ["Acme Payments"]


def test_offset_pages_and_the_1000_result_cap(api, tickets):
    body = api("GET", "/api/v2/search.json", params={"query": "type:ticket", "per_page": 2}).json()
    assert body["count"] == 4 and len(body["results"]) == 2 and body["next_page"]
    second = api("GET", body["next_page"]).json()
    assert len(second["results"]) == 2 and second["next_page"] is None
    capped = api("GET", "/api/v2/search.json", params={"query": "type:ticket", "page": 11, "per_page": 100})
    assert capped.status_code == 422 and capped.json()["error"] == "invalid"


def test_sort_by_updated_at(api, tickets):
    body = api("GET", "/api/v2/search.json", params={"query": "type:ticket", "sort_by": "updated_at",
                                                     "sort_order": "desc"}).json()
    assert body["results"][0]["id"] == tickets["late"]


def test_search_export_cursor(zc, api, tickets):
    exported = ids(zc.search_export("status<closed", type="ticket"))
    assert exported == set(tickets.values())
    first = api("GET", "/api/v2/search/export.json", params={"query": "type:ticket", "filter[type]": "ticket",
                                                            "page[size]": 3}).json()
    assert first["meta"]["has_more"] is True and len(first["results"]) == 3
    rest = api("GET", first["links"]["next"]).json()
    assert len(rest["results"]) == 1 and rest["meta"]["has_more"] is False
    missing = api("GET", "/api/v2/search/export.json", params={"query": "x"})
    assert missing.status_code == 400


def test_search_count(api, tickets):
    assert api("GET", "/api/v2/search/count.json", params={"query": "type:ticket tags:cards"}).json() == {"count": 2}
