"""Associations across systems: a Zendesk ticket's requester and organisation become the HubSpot ticket's
associated contact and company and the Salesforce Case's ContactId/AccountId; the person's organisation becomes
the HubSpot contact's primary company and the Salesforce Contact's AccountId. Written once, never again."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.sync_support import (  # noqa: F401  (running, url, hub: fixtures)
    running, url, hub,
    _call, converge, hs_tickets, sf_query, writes, zd_create, zd_tickets,
)

pytestmark = pytest.mark.e2e


def zd_org_and_user(url, org_name: str, email: str, name: str) -> tuple[dict, dict]:
    org = _call("POST", f"{url}/api/v2/organizations.json", "sandbox-token",
                json={"organization": {"name": org_name, "external_id": f"ORG-{org_name}"}})["organization"]
    user = _call("POST", f"{url}/api/v2/users.json", "sandbox-token",
                 json={"user": {"name": name, "email": email, "role": "end-user", "organization_id": org["id"]}})["user"]
    return org, user


def hs_associated(url, from_type: str, from_id: str, to_type: str) -> list[str]:
    body = _call("GET", f"{url}/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}", "sandbox-token")
    return [str(r["toObjectId"]) for r in body.get("results") or []]


def hs_find(url, object_type: str, id_property: str, value: str, properties: str = "") -> dict:
    return _call("GET", f"{url}/crm/v3/objects/{object_type}/{value}", "sandbox-token",
                 params={"idProperty": id_property, "properties": properties})


def test_a_zendesk_ticket_reaches_hubspot_and_salesforce_with_its_contact_and_company(url, hub):
    org, user = zd_org_and_user(url, "Acme", "ada@acme.example", "Ada Lovelace")
    other_org, other = zd_org_and_user(url, "Globex", "hank@globex.example", "Hank Scorpio")
    zd_create(url, "Card declined", "My card was declined.", "ada@acme.example", "Ada Lovelace", priority="high")
    zd_create(url, "Fee question", "Why this fee?", "hank@globex.example", "Hank Scorpio")
    converge(hub, url)

    company = hs_find(url, "companies", "deskbridge_id", "ORG-Acme")
    contact = _call("GET", f"{url}/crm/v3/objects/contacts/ada@acme.example", "sandbox-token",
                    params={"idProperty": "email", "properties": "associatedcompanyid"})
    ticket = {t["properties"]["subject"]: t for t in hs_tickets(url)}["Card declined"]
    assert hs_associated(url, "tickets", ticket["id"], "contacts") == [contact["id"]]
    assert hs_associated(url, "tickets", ticket["id"], "companies") == [company["id"]]
    assert hs_associated(url, "contacts", contact["id"], "companies") == [company["id"]]
    assert contact["properties"]["associatedcompanyid"] == company["id"]  # the primary company
    globex = hs_find(url, "companies", "deskbridge_id", "ORG-Globex")
    fee = {t["properties"]["subject"]: t for t in hs_tickets(url)}["Fee question"]
    assert hs_associated(url, "tickets", fee["id"], "companies") == [globex["id"]]

    [account] = sf_query(url, "SELECT Id FROM Account WHERE Deskbridge_Id__c = 'ORG-Acme'")
    [person] = sf_query(url, "SELECT Id, AccountId FROM Contact WHERE Email = 'ada@acme.example'")
    [case] = sf_query(url, "SELECT ContactId, AccountId FROM Case WHERE Subject = 'Card declined'")
    assert person["AccountId"] == account["Id"]
    assert (case["ContactId"], case["AccountId"]) == (person["Id"], account["Id"])

    # Written once: a quiet cycle adds no association anywhere.
    before = {s: writes(url, s) for s in ("zendesk", "salesforce", "hubspot")}
    converge(hub, url)
    assert {s: writes(url, s) for s in ("zendesk", "salesforce", "hubspot")} == before


def test_associations_are_batched(url, hub):
    org, _ = zd_org_and_user(url, "Initech", "peter@initech.example", "Peter Gibbons")
    for i in range(30):
        zd_create(url, f"Question {i}", f"Body {i}", "peter@initech.example", "Peter Gibbons")
    converge(hub, url)
    routes = requests.get(f"{url}/_sandbox/stats", timeout=10).json()["hubspot"]["by_route"]
    association_calls = sum(n for route, n in routes.items() if "/crm/v4/associations/" in route)
    # tickets → contacts, tickets → companies, contacts → companies: one batch call each for 30 tickets
    assert association_calls == 3, routes
    tickets = hs_tickets(url)
    assert len(tickets) == 30
    contact = _call("GET", f"{url}/crm/v3/objects/contacts/peter@initech.example", "sandbox-token",
                    params={"idProperty": "email"})
    assert all(hs_associated(url, "tickets", t["id"], "contacts") == [contact["id"]] for t in tickets)


def routes_of(url, system: str) -> dict[str, int]:
    return dict(requests.get(f"{url}/_sandbox/stats", timeout=10).json()[system]["by_route"])


def delta(before: dict, after: dict) -> dict:
    return {route: n - before.get(route, 0) for route, n in after.items()
            if n != before.get(route, 0) and not route.startswith("GET ") and not route.endswith("/search")}


def test_associations_ride_in_the_creating_write_when_the_people_already_exist(url, hub):
    """Requester and organisation synced earlier: 30 new tickets cost one HubSpot batch create (associations in
    its inputs), one Salesforce composite (ContactId/AccountId in the Cases) and no association call at all."""
    zd_org_and_user(url, "Umbrella", "alice@umbrella.example", "Alice Abernathy")
    zd_create(url, "First", "First ticket", "alice@umbrella.example", "Alice Abernathy")
    converge(hub, url)
    for i in range(30):
        zd_create(url, f"Later {i}", f"Body {i}", "alice@umbrella.example", "Alice Abernathy", priority="high")
    before = {s: routes_of(url, s) for s in ("salesforce", "hubspot", "zendesk")}
    converge(hub, url)
    after = {s: routes_of(url, s) for s in ("salesforce", "hubspot", "zendesk")}
    assert delta(before["hubspot"], after["hubspot"]) == {
        "POST /crm/v3/objects/<objtype:object_type>/batch/create": 1}
    assert delta(before["salesforce"], after["salesforce"]) == {"POST /services/data/v<version>/composite/": 1}
    assert delta(before["zendesk"], after["zendesk"]) == {}

    company = hs_find(url, "companies", "deskbridge_id", "ORG-Umbrella")
    contact = _call("GET", f"{url}/crm/v3/objects/contacts/alice@umbrella.example", "sandbox-token",
                    params={"idProperty": "email"})
    later = [t for t in hs_tickets(url) if t["properties"]["subject"].startswith("Later")]
    assert len(later) == 30
    for ticket in later:
        assert hs_associated(url, "tickets", ticket["id"], "contacts") == [contact["id"]]
        assert hs_associated(url, "tickets", ticket["id"], "companies") == [company["id"]]
    [account] = sf_query(url, "SELECT Id FROM Account WHERE Deskbridge_Id__c = 'ORG-Umbrella'")
    [person] = sf_query(url, "SELECT Id FROM Contact WHERE Email = 'alice@umbrella.example'")
    cases = sf_query(url, "SELECT ContactId, AccountId FROM Case WHERE Subject LIKE 'Later%'")
    assert len(cases) == 30
    assert {(c["ContactId"], c["AccountId"]) for c in cases} == {(person["Id"], account["Id"])}
    # And nothing is written again on a quiet cycle.
    settled = {s: writes(url, s) for s in ("salesforce", "hubspot", "zendesk")}
    converge(hub, url)
    assert {s: writes(url, s) for s in ("salesforce", "hubspot", "zendesk")} == settled


def test_a_salesforce_case_becomes_a_zendesk_ticket_with_its_requester_and_organisation_in_the_create(url, hub):
    org, user = zd_org_and_user(url, "Stark", "tony@stark.example", "Tony Stark")
    converge(hub, url)
    [person] = sf_query(url, "SELECT Id, AccountId FROM Contact WHERE Email = 'tony@stark.example'")
    _call("POST", f"{url}/services/data/v59.0/sobjects/Case", "sandbox-session", json={
        "Subject": "Suit payment", "Description": "Refund please", "Status": "New", "Priority": "Medium",
        "ContactId": person["Id"], "AccountId": person["AccountId"], "SuppliedEmail": "tony@stark.example"})
    before = routes_of(url, "zendesk")
    converge(hub, url)
    made = delta(before, routes_of(url, "zendesk"))  # one create (a lone write goes the single-ticket way)
    assert made in ({"POST /api/v2/tickets.json": 1}, {"POST /api/v2/tickets/create_many.json": 1}), made
    [ticket] = [t for t in zd_tickets(url) if t["subject"] == "Suit payment"]
    assert (ticket["requester_id"], ticket["organization_id"]) == (user["id"], org["id"])
