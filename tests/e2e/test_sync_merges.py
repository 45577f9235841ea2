"""Merges propagate: records merged in one system are merged (or closed with a note) in the others, the hub's
links follow the survivor, and later edits never recreate the merged-away record nor delete anything."""

from __future__ import annotations

import time

import pytest
import requests

from hub.db import OutboxAction
from hub.sync.models import SyncFailure, SyncRecord
from tests.e2e.sync_support import (  # noqa: F401  (running, url, hub: fixtures)
    running, url, hub,
    _call, converge, hs_tickets, hs_update, sf_query, zd_comments, zd_create, zd_tickets, zd_update,
)

pytestmark = pytest.mark.e2e


def zd_ticket(url, ticket_id) -> dict:
    return _call("GET", f"{url}/api/v2/tickets/{ticket_id}.json", "sandbox-token")["ticket"]


def test_a_hubspot_ticket_merge_closes_the_loser_elsewhere_and_is_never_undone(url, hub):
    keep = zd_create(url, "Card declined", "My card was declined.", "ada@example.org", "Ada Lovelace")
    lose = zd_create(url, "Card declined again", "Still declined.", "ada@example.org", "Ada Lovelace")
    converge(hub, url)
    by_subject = {t["properties"]["subject"]: t for t in hs_tickets(url)}
    _call("POST", f"{url}/crm/v3/objects/tickets/merge", "sandbox-token", json={
        "primaryObjectId": by_subject["Card declined"]["id"],
        "objectIdToMerge": by_subject["Card declined again"]["id"]})
    converge(hub, url)

    # Zendesk and Salesforce have no ticket merge the hub can call: the loser is closed with an internal note.
    loser = zd_ticket(url, lose["id"])
    assert loser["status"] == "solved"
    notes = [(c["body"], c["public"]) for c in zd_comments(url, lose["id"])[1:]]
    assert len(notes) == 1 and notes[0][0].startswith("Merged into") and notes[0][1] is False
    assert zd_ticket(url, keep["id"])["status"] != "solved"
    cases = {c["Subject"]: c for c in sf_query(url, "SELECT Id, Subject, Status, IsDeleted FROM Case")}
    assert cases["Card declined again"]["Status"] == "Closed" and not cases["Card declined again"]["IsDeleted"]
    assert cases["Card declined"]["Status"] != "Closed"
    sf_notes = sf_query(url, "SELECT CommentBody, IsPublished FROM CaseComment WHERE ParentId = "
                             f"'{cases['Card declined again']['Id']}'")
    assert [(n["CommentBody"].startswith("Merged into"), n["IsPublished"]) for n in sf_notes] == [(True, False)]

    # Later edits: the survivor's reach the others; the loser's never bring it back in HubSpot.
    time.sleep(1.1)
    hs_update(url, by_subject["Card declined"]["id"], {"subject": "Card declined (merged)"})
    zd_update(url, lose["id"], comment={"body": "Customer wrote again on the old ticket.", "public": True})
    converge(hub, url)
    converge(hub, url)
    assert zd_ticket(url, keep["id"])["subject"] == "Card declined (merged)"
    assert [t["properties"]["subject"] for t in hs_tickets(url)] == ["Card declined (merged)"]
    assert len(zd_tickets(url)) == 2 and len(sf_query(url, "SELECT Id FROM Case")) == 2
    assert not any(c["IsDeleted"] for c in sf_query(url, "SELECT IsDeleted FROM Case"))


def test_a_salesforce_contact_merge_merges_the_hubspot_contacts_and_the_zendesk_users(url, hub):
    """The hub merges the Zendesk users too (``merge_users``: PUT users/{source}/merge.json): one active user
    holds both emails and the loser's tickets; that merge coming back through the user stream is the hub's own
    (no second merge, nothing deleted anywhere)."""
    users = {}
    for email, name in (("grace@example.org", "Grace Hopper"), ("g.hopper@example.org", "Grace B. Hopper")):
        users[email] = _call("POST", f"{url}/api/v2/users.json", "sandbox-token",
                             json={"user": {"name": name, "email": email, "role": "end-user"}})["user"]
    ticket = zd_create(url, "Card frozen", "Why is my card frozen?", "g.hopper@example.org", "Grace B. Hopper")
    converge(hub, url)
    contacts = {c["Email"]: c for c in sf_query(url, "SELECT Id, Email FROM Contact")}
    assert len(contacts) == 2
    requests.post(f"{url}/_sandbox/salesforce/merge", timeout=10, json={
        "sobject": "Contact", "master": contacts["grace@example.org"]["Id"],
        "victims": [contacts["g.hopper@example.org"]["Id"]]}).raise_for_status()
    [victim] = sf_query(url, f"SELECT IsDeleted, MasterRecordId FROM Contact WHERE Id = "
                             f"'{contacts['g.hopper@example.org']['Id']}'")
    assert victim["IsDeleted"] and victim["MasterRecordId"] == contacts["grace@example.org"]["Id"]
    converge(hub, url)
    found = _call("GET", f"{url}/crm/v3/objects/contacts", "sandbox-token", params={"properties": "email"})["results"]
    assert [c["properties"]["email"] for c in found] == ["grace@example.org"]
    # Zendesk: the loser merged into the survivor — one active user found by both emails, the ticket moved.
    keep, lose = users["grace@example.org"]["id"], users["g.hopper@example.org"]["id"]
    assert _call("GET", f"{url}/api/v2/users/{lose}.json", "sandbox-token")["user"]["active"] is False
    for email in ("grace@example.org", "g.hopper@example.org"):
        hits = _call("GET", f"{url}/api/v2/users/search.json", "sandbox-token",
                     params={"query": f'email:"{email}"'})["users"]
        assert [(u["id"], u["active"]) for u in hits] == [(keep, True)]
    assert zd_ticket(url, ticket["id"])["requester_id"] == keep
    # The echo: the deleted loser came back through the Zendesk stream; it is the hub's own merge.
    converge(hub, url)
    with hub.db.session() as session:
        rows = list(session.query(SyncRecord).filter_by(object="customer"))
        failures = [(f.system, f.reason) for f in session.query(SyncFailure).filter_by(object="customer")]
        merges = [a.operation for a in session.query(OutboxAction).filter_by(operation="merge_users")]
    assert [r.deleted for r in rows].count(False) == 1 and failures == []
    assert merges == ["merge_users"]  # merged once, never a second time
    assert [c["properties"]["email"] for c in _call("GET", f"{url}/crm/v3/objects/contacts", "sandbox-token",
                                                    params={"properties": "email"})["results"]] == ["grace@example.org"]
    assert sorted((c["Email"], c["IsDeleted"]) for c in sf_query(url, "SELECT Email, IsDeleted FROM Contact")) == [
        ("g.hopper@example.org", True), ("grace@example.org", False)]
    assert _call("GET", f"{url}/api/v2/users/{keep}.json", "sandbox-token")["user"]["active"] is True
    assert zd_ticket(url, ticket["id"])["status"] != "deleted"


def test_a_zendesk_ticket_merge_merges_in_hubspot_closes_the_case_and_is_never_undone(url, hub):
    """Zendesk's merge (POST tickets/{target}/merge.json through zenpy) closes the source with the tag
    closed_by_merge and a merge audit naming the target: the hub merges the HubSpot copies, closes the loser's
    Case with an internal note, and the loser never comes back."""
    keep = zd_create(url, "Card lost", "I lost my card.", "grace@example.org", "Grace Hopper", priority="high")
    lose = zd_create(url, "Lost card", "Card gone.", "grace@example.org", "Grace Hopper", priority="high")
    converge(hub, url)
    hs_before = {t["properties"]["deskbridge_id"]: t["id"] for t in hs_tickets(url)}
    zenpy = hub.connectors["zendesk"].client.zenpy
    job = zenpy.tickets.merge(keep["id"], [lose["id"]], source_comment="Duplicate of the card-lost request.")
    assert hub.connectors["zendesk"].client.wait_job(job.id)[0]["success"]
    assert zd_ticket(url, lose["id"])["status"] == "closed"
    converge(hub, url)

    # HubSpot: the loser's ticket merged into the survivor's (its id now answers the survivor).
    loser_hs = hs_before[f"zendesk-{lose['id']}"]
    keeper_hs = hs_before[f"zendesk-{keep['id']}"]
    merged = _call("GET", f"{url}/crm/v3/objects/tickets/{loser_hs}", "sandbox-token")
    assert merged["id"] == keeper_hs
    # Salesforce: the loser's Case closed with an internal note naming the survivor; the survivor's untouched.
    cases = {c["Subject"]: c for c in sf_query(url, "SELECT Id, Subject, Status FROM Case")}
    assert cases["Lost card"]["Status"] == "Closed" and cases["Card lost"]["Status"] != "Closed"
    notes = sf_query(url, f"SELECT CommentBody, IsPublished FROM CaseComment WHERE ParentId = "
                          f"'{cases['Lost card']['Id']}'")
    assert any(n["CommentBody"].startswith("Merged into") and n["IsPublished"] is False for n in notes)

    # Later: an edit of the survivor reaches the others; nothing recreates or reopens the loser.
    time.sleep(1.1)  # Zendesk stamps to the second: the edit is a new version
    zd_update(url, keep["id"], subject="Card lost (merged)")
    converge(hub, url)
    assert {c["Subject"] for c in sf_query(url, "SELECT Subject FROM Case")} == {"Card lost (merged)", "Lost card"}
    assert len([t for t in hs_tickets(url) if t["properties"]["subject"] == "Card lost (merged)"]) == 1
    assert len(hs_tickets(url)) == 1
    assert sf_query(url, f"SELECT Status FROM Case WHERE Id = '{cases['Lost card']['Id']}'")[0]["Status"] == "Closed"


def test_a_zendesk_user_merge_merges_the_hubspot_contacts_and_a_plain_delete_stays_a_delete(url, hub):
    """zenpy's users.merge (PUT users/{source}/merge.json) deletes the source and moves its tickets and email to
    the target: the hub merges the HubSpot contacts, the loser is a tombstone a later pass never recreates; a
    user deleted without a merge goes on as a delete (nothing merged)."""
    people = {}
    for email, name in (("ada@example.org", "Ada Lovelace"), ("a.lovelace@example.org", "Ada K. Lovelace"),
                        ("alan@example.org", "Alan Turing")):
        people[email] = _call("POST", f"{url}/api/v2/users.json", "sandbox-token",
                              json={"user": {"name": name, "email": email, "role": "end-user"}})["user"]
    ticket = zd_create(url, "Card blocked", "Why is my card blocked?", "a.lovelace@example.org", "Ada K. Lovelace")
    converge(hub, url)
    assert len(_call("GET", f"{url}/crm/v3/objects/contacts", "sandbox-token")["results"]) == 3
    zenpy = hub.connectors["zendesk"].client.zenpy
    keep, lose = people["ada@example.org"]["id"], people["a.lovelace@example.org"]["id"]
    assert zenpy.users.merge(lose, keep).id == keep
    assert zd_ticket(url, ticket["id"])["requester_id"] == keep
    _call("DELETE", f"{url}/api/v2/users/{people['alan@example.org']['id']}.json", "sandbox-token")
    converge(hub, url)

    contacts = _call("GET", f"{url}/crm/v3/objects/contacts", "sandbox-token", params={"properties": "email"})
    # the merged-away contact merged into the survivor's; Alan's deletion is a delete, not a merge
    assert sorted(c["properties"]["email"] for c in contacts["results"]) == ["ada@example.org", "alan@example.org"]
    with hub.db.session() as session:
        rows = {r.canonical_id: r for r in session.query(SyncRecord).filter_by(object="customer")}
    merged = [r for r in rows.values() if r.deleted and '"merged_into"' in (r.data or "")]
    deleted = [r for r in rows.values() if r.deleted and '"merged_into"' not in (r.data or "")]
    assert len(merged) == 1 and len(deleted) == 1
    converge(hub, url)  # a later pass recreates nothing
    assert len(_call("GET", f"{url}/crm/v3/objects/contacts", "sandbox-token")["results"]) == 2


def test_a_salesforce_contact_merge_leaves_a_zendesk_pair_with_an_agent_as_a_listed_failure(url, hub):
    """Zendesk merges end users only: when one of the pair has become an agent, the hub lists the failure with
    that reason and merges nothing in Zendesk (both users stay active)."""
    users = {}
    for email, name in (("edsger@example.org", "Edsger Dijkstra"), ("e.dijkstra@example.org", "E. W. Dijkstra")):
        users[email] = _call("POST", f"{url}/api/v2/users.json", "sandbox-token",
                             json={"user": {"name": name, "email": email, "role": "end-user"}})["user"]
    converge(hub, url)
    contacts = {c["Email"]: c for c in sf_query(url, "SELECT Id, Email FROM Contact")}
    keep, lose = users["edsger@example.org"]["id"], users["e.dijkstra@example.org"]["id"]
    _call("PUT", f"{url}/api/v2/users/{keep}.json", "sandbox-token", json={"user": {"role": "agent"}})
    requests.post(f"{url}/_sandbox/salesforce/merge", timeout=10, json={
        "sobject": "Contact", "master": contacts["edsger@example.org"]["Id"],
        "victims": [contacts["e.dijkstra@example.org"]["Id"]]}).raise_for_status()
    converge(hub, url)
    with hub.db.session() as session:
        failures = [(f.system, f.native_id, f.reason) for f in session.query(SyncFailure).filter_by(object="customer")]
        merges = session.query(OutboxAction).filter_by(operation="merge_users").count()
    assert merges == 0
    assert [(s, n) for s, n, _ in failures] == [("zendesk", str(lose))]
    assert f"{keep} is an agent" in failures[0][2] and "end users only" in failures[0][2]
    for user_id in (keep, lose):
        assert _call("GET", f"{url}/api/v2/users/{user_id}.json", "sandbox-token")["user"]["active"] is True
