"""Two-way sync on the sandbox: Zendesk tickets appear once as Salesforce Cases and HubSpot tickets, edits travel
once and never echo, a quiet cycle writes nothing, deletes propagate, conflicts resolve by policy."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests

from hub.sync import run_pass
from tests.e2e.sync_support import (  # noqa: F401  (running, url, hub: fixtures)
    running, url, hub,
    converge, drain, hs_notes, hs_tickets, hs_update, make_sync_hub, sf_query, sf_update, writes, zd_comments,
    zd_create, zd_delete, zd_update,
)

pytestmark = pytest.mark.e2e
N = 12


def cases(url) -> list[dict]:
    return sf_query(url, "SELECT Id, Subject, Description, Priority, Status, Category__c, Risk_Score__c, "
                         "SuppliedEmail, SuppliedName, Deskbridge_Id__c, IsDeleted FROM Case")


def create_tickets(url, count: int, prefix: str = "Card declined") -> list[dict]:
    made = []
    for i in range(count):
        made.append(zd_create(url, f"{prefix} {i}", f"My card {i} was declined at a shop.", f"person{i % 4}@example.org",
                              f"Person {i % 4}", priority="high", tags=["cards", "vip"]))
    return made


def test_first_pass_without_backfill_writes_nothing(url, make_hub):
    create_tickets(url, 3)
    hub = make_sync_hub(make_hub, url)
    report = run_pass(hub)
    drain(hub)
    assert report["systems"]["zendesk"]["ticket"].get("created", 0) == 0
    assert cases(url) == [] and hs_tickets(url) == []


def test_zendesk_tickets_appear_once_in_salesforce_and_hubspot(url, hub):
    made = create_tickets(url, N)
    zd_update(url, made[0]["id"], comment={"body": "Internal: checked the card processor.", "public": False})
    converge(hub, url)
    found = cases(url)
    assert len(found) == N
    assert len({c["Deskbridge_Id__c"] for c in found}) == N
    by_subject = {c["Subject"]: c for c in found}
    case = by_subject["Card declined 5"]
    assert (case["Priority"], case["Category__c"], case["SuppliedEmail"], case["SuppliedName"]) == (
        "High", "cards", "person1@example.org", "Person 1")
    assert case["Description"] == "My card 5 was declined at a shop."
    tickets = hs_tickets(url)
    assert len(tickets) == N and len({t["properties"]["deskbridge_id"] for t in tickets}) == N
    hs = {t["properties"]["subject"]: t for t in tickets}["Card declined 0"]
    assert (hs["properties"]["hs_ticket_priority"], hs["properties"]["category"]) == ("HIGH", "cards")
    # the internal note reached both CRMs once, kept internal in Salesforce
    first = by_subject["Card declined 0"]
    comments = sf_query(url, f"SELECT CommentBody, IsPublished FROM CaseComment WHERE ParentId = '{first['Id']}'")
    assert [(c["CommentBody"].split("\n")[0], c["IsPublished"]) for c in comments] == [
        ("Internal: checked the card processor.", False)]
    notes = hs_notes(url, hs["id"])
    assert [n["properties"]["hs_note_body"].split("\n")[0] for n in notes] == ["Internal: checked the card processor."]


def test_quiet_cycle_writes_nothing_anywhere(url, hub):
    create_tickets(url, 4)
    converge(hub, url)
    before = {s: writes(url, s) for s in ("zendesk", "salesforce", "hubspot")}
    run_pass(hub)
    drain(hub)
    run_pass(hub)
    drain(hub)
    assert {s: writes(url, s) for s in ("zendesk", "salesforce", "hubspot")} == before


def test_edit_in_salesforce_reaches_the_others_once_without_echo(url, hub):
    made = create_tickets(url, 3)
    converge(hub, url)
    case = {c["Subject"]: c for c in cases(url)}["Card declined 1"]
    time.sleep(1.1)  # a later vendor second than the creation, as a person editing would be
    sf_update(url, "Case", case["Id"], {"Subject": "Card declined twice", "Priority": "Low"})
    before = {s: writes(url, s) for s in ("zendesk", "salesforce", "hubspot")}
    converge(hub, url)
    after = {s: writes(url, s) for s in ("zendesk", "salesforce", "hubspot")}
    ticket = requests.get(f"{url}/api/v2/tickets/{made[1]['id']}.json", timeout=5,
                          headers={"Authorization": "Bearer sandbox-token"}).json()["ticket"]
    assert (ticket["subject"], ticket["priority"]) == ("Card declined twice", "low")
    hs = {t["properties"]["deskbridge_id"]: t for t in hs_tickets(url)}[case["Deskbridge_Id__c"]]
    assert (hs["properties"]["subject"], hs["properties"]["hs_ticket_priority"]) == ("Card declined twice", "LOW")
    assert after["salesforce"] == before["salesforce"]  # no echo back to where the edit was made
    assert after["zendesk"] - before["zendesk"] == 1  # one bulk update_many
    assert after["hubspot"] - before["hubspot"] == 1  # one batch update


def test_a_zendesk_reply_reaches_salesforce_once_and_does_not_echo(url, hub):
    made = create_tickets(url, 2)
    converge(hub, url)
    zd_update(url, made[1]["id"], comment={"body": "We have refunded the fee.", "public": True})
    converge(hub, url)
    converge(hub, url)
    case = {c["Subject"]: c for c in cases(url)}["Card declined 1"]
    comments = sf_query(url, f"SELECT CommentBody, IsPublished FROM CaseComment WHERE ParentId = '{case['Id']}'")
    assert [(c["CommentBody"].split("\n")[0], c["IsPublished"]) for c in comments] == [
        ("We have refunded the fee.", True)]
    assert len(zd_comments(url, made[1]["id"])) == 2  # nothing echoed back into Zendesk


def test_delete_in_zendesk_propagates(url, hub):
    made = create_tickets(url, 3)
    converge(hub, url)
    zd_delete(url, made[2]["id"])
    converge(hub, url)
    live = [c for c in cases(url) if not c["IsDeleted"]]
    assert sorted(c["Subject"] for c in live) == ["Card declined 0", "Card declined 1"]
    assert sorted(t["properties"]["subject"] for t in hs_tickets(url)) == ["Card declined 0", "Card declined 1"]


def test_simultaneous_edits_resolve_to_the_last_writer(url, hub):
    made = create_tickets(url, 1)
    converge(hub, url)
    case = cases(url)[0]
    hs = hs_tickets(url)[0]
    time.sleep(1.1)
    zd_update(url, made[0]["id"], subject="From Zendesk")
    time.sleep(1.1)
    hs_update(url, hs["id"], {"subject": "From HubSpot (latest)"})
    converge(hub, url)
    ticket = requests.get(f"{url}/api/v2/tickets/{made[0]['id']}.json", timeout=5,
                          headers={"Authorization": "Bearer sandbox-token"}).json()["ticket"]
    assert ticket["subject"] == "From HubSpot (latest)"
    assert cases(url)[0]["Subject"] == "From HubSpot (latest)"
    assert hs_tickets(url)[0]["properties"]["subject"] == "From HubSpot (latest)"
    assert case["Id"] == cases(url)[0]["Id"]


def test_canonical_events_reach_the_inbox_once_per_change(url, hub):
    from sqlalchemy import select

    from hub.db import InboxEvent
    create_tickets(url, 2)
    converge(hub, url)
    with hub.db.session() as session:
        rows = session.execute(select(InboxEvent).where(InboxEvent.source == "sync")).scalars().all()
    kinds = Counter(r.type for r in rows)
    assert kinds["ticket.created"] == 2
    import json
    data = json.loads(next(r for r in rows if r.type == "ticket.created").payload)["data"]
    assert data["system"] == "zendesk" and data["requester"]["email"].endswith("@example.org")
    assert data["category"] == "cards" and data["external_id"]


def test_a_case_filed_in_salesforce_becomes_one_zendesk_ticket_and_one_hubspot_ticket(url, hub):
    from tests.e2e.sync_support import SF_API, _call, zd_tickets
    time.sleep(1.1)
    _call("POST", f"{url}{SF_API}/sobjects/Case", "sandbox-session", json={
        "Subject": "Chargeback question", "Priority": "High", "Status": "New", "SuppliedEmail": "grace@example.org",
        "SuppliedName": "Grace Hopper"})
    converge(hub, url)
    converge(hub, url)
    [ticket] = [t for t in zd_tickets(url) if t["subject"] == "Chargeback question"]
    assert ticket["priority"] == "high" and ticket["external_id"].startswith("salesforce-")
    requester = requests.get(f"{url}/api/v2/users/{ticket['requester_id']}.json", timeout=5,
                             headers={"Authorization": "Bearer sandbox-token"}).json()["user"]
    assert (requester["email"], requester["name"]) == ("grace@example.org", "Grace Hopper")
    assert [t["properties"]["subject"] for t in hs_tickets(url)] == ["Chargeback question"]
    assert len(cases(url)) == 1
