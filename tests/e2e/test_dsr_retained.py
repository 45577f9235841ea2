"""GDPR erasure (#7) and the hub's sync: a ticket the data subject requested that a retention rule keeps (a fraud
case tagged ``compliance_fraud`` in Zendesk, synced to a Salesforce Case and a HubSpot ticket with that category)
stays in every system, and so do the hub's canonical records and links of it, its comments and the subject's
customer record it needs: later sync passes know every copy and make none again. The subject's other ticket is
erased everywhere as before."""

from __future__ import annotations

import json

import pytest

from tests.e2e.sync_support import (  # noqa: F401  (running, url: fixtures)
    started_sync_hub, _call, converge, hs_notes, hs_tickets, hs_update, running, sf_query, sf_update,
    url, zd_comments, zd_create, zd_tickets,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SUBJECT = "sam@example.org"
FRAUD = "compliance_fraud"


@pytest.fixture
def hub(make_hub, url):
    return started_sync_hub(make_hub, url, plugins={"sync": {}, "privacy": {}})


def agent_comment(url: str, ticket_id, body: str) -> None:
    _call("PUT", f"{url}/api/v2/tickets/{ticket_id}.json", "sandbox-token",
          json={"ticket": {"comment": {"body": body, "public": True}}})


def copies(url: str) -> dict:
    """Subject -> (live Salesforce Cases, live HubSpot tickets): ids, and their comments' first lines."""
    cases = sf_query(url, "SELECT Id, Subject FROM Case WHERE IsDeleted = false")
    tickets = hs_tickets(url)
    out = {}
    for name in sorted({c["Subject"] for c in cases} | {t["properties"]["subject"] for t in tickets}):
        sf = [c["Id"] for c in cases if c["Subject"] == name]
        hs = [t["id"] for t in tickets if t["properties"]["subject"] == name]
        sf_comments = sorted((c["CommentBody"] or "").split("\n")[0] for case in sf for c in sf_query(
            url, f"SELECT CommentBody FROM CaseComment WHERE ParentId = '{case}' AND IsDeleted = false"))
        hs_comments = sorted((n["properties"]["hs_note_body"] or "").split("\n")[0]
                             for ticket in hs for n in hs_notes(url, ticket))
        out[name] = {"cases": sf, "hubspot": hs, "case_comments": sf_comments, "notes": hs_comments}
    return out


def test_a_retained_ticket_keeps_its_records_and_links_so_later_passes_make_no_duplicates(hub, url):
    from hub.sync.links import Links
    from plugins.privacy.dsr import run_dsr
    fraud = zd_create(url, "Unrecognised card payments", "Three payments I never made.", SUBJECT, "Sam Subject",
                      tags=[FRAUD])
    zd_create(url, "Fee question", "Why was I charged?", SUBJECT, "Sam Subject")
    agent_comment(url, fraud["id"], "We opened a fraud case.")
    converge(hub, url)
    before = copies(url)
    assert set(before) == {"Unrecognised card payments", "Fee question"}
    kept = before["Unrecognised card payments"]
    assert len(kept["cases"]) == 1 and len(kept["hubspot"]) == 1
    assert kept["case_comments"] == kept["notes"] == ["We opened a fraud case."]
    with hub.db.session() as session:
        links = Links(session)
        ticket = links.by_native("ticket", "zendesk", str(fraud["id"])).canonical_id
        ticket_links = links.native_ids("ticket", ticket)
        requester = links.by_native("customer", "zendesk", str(fraud["requester_id"])).canonical_id
    assert ticket_links == {"zendesk": str(fraud["id"]), "salesforce": kept["cases"][0],
                            "hubspot": kept["hubspot"][0]}

    report = json.loads(run_dsr(hub, "erase", SUBJECT, None))
    assert report["status"] == "completed"
    # The systems keep the fraud ticket (and the subject's Zendesk user with it); the fee question is gone.
    assert [t["id"] for t in zd_tickets(url)] == [fraud["id"]]
    assert copies(url) == {"Unrecognised card payments": kept}
    hub_kept = {k["records"]: k for k in report["systems"]["hub"]["kept"]}
    assert hub_kept["sync_tickets"]["ids"] == [ticket] and "fraud case" in hub_kept["sync_tickets"]["reason"]
    assert hub_kept["sync_customers"]["ids"] == [requester]
    assert hub_kept["sync_comments"]["count"] == 1  # the agent's reply (the description is the ticket's)
    with hub.db.session() as session:
        links = Links(session)
        assert links.record("ticket", ticket) is not None and links.native_ids("ticket", ticket) == ticket_links
        assert links.native_ids("customer", requester).get("zendesk") == str(fraud["requester_id"])

    # The fraud investigation goes on in every system: agents change the Case and the HubSpot ticket and reply in
    # Zendesk. Later passes carry each change to the one copy in every other system, never make another.
    sf_update(url, "Case", kept["cases"][0], {"Priority": "High"})
    hs_update(url, kept["hubspot"][0], {"hs_ticket_priority": "HIGH"})
    agent_comment(url, fraud["id"], "Chargeback filed.")
    converge(hub, url)
    converge(hub, url)
    assert [t["id"] for t in zd_tickets(url)] == [fraud["id"]]
    after = copies(url)
    assert list(after) == ["Unrecognised card payments"]
    assert after["Unrecognised card payments"]["cases"] == kept["cases"]
    assert after["Unrecognised card payments"]["hubspot"] == kept["hubspot"]
    assert after["Unrecognised card payments"]["case_comments"] == sorted(kept["case_comments"] + ["Chargeback filed."])
    assert after["Unrecognised card payments"]["notes"] == sorted(kept["notes"] + ["Chargeback filed."])
    assert len(zd_comments(url, fraud["id"])) == 3
    with hub.db.session() as session:
        assert Links(session).native_ids("ticket", ticket) == ticket_links
