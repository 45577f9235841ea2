"""Comments added in a CRM without any change to their ticket: a Salesforce CaseComment and a HubSpot note each
reach Zendesk (and the other CRM) once, public/internal kept, and never come back."""

from __future__ import annotations

import pytest

from tests.e2e.sync_support import (  # noqa: F401  (running, url, hub: fixtures)
    running, url, hub,
    SF_API, _call, converge, hs_notes, hs_tickets, sf_query, zd_comments, zd_create,
)

pytestmark = pytest.mark.e2e


def first_lines(items, key) -> list:
    return [(item[key] or "").split("\n")[0] for item in items]


def test_comments_added_in_salesforce_and_hubspot_reach_zendesk_once_and_do_not_come_back(url, hub):
    ticket = zd_create(url, "Card declined", "My card was declined.", "ada@example.org", "Ada Lovelace")
    converge(hub, url)
    [case] = sf_query(url, "SELECT Id, SystemModstamp FROM Case")
    [hs_ticket] = hs_tickets(url)

    _call("POST", f"{url}{SF_API}/sobjects/CaseComment", "sandbox-session",
          json={"ParentId": case["Id"], "CommentBody": "Called the customer back.", "IsPublished": True})
    # Salesforce leaves the Case as it was: only a comment stream can see this comment.
    assert sf_query(url, f"SELECT SystemModstamp FROM Case WHERE Id = '{case['Id']}'")[0]["SystemModstamp"] == \
        case["SystemModstamp"]
    _call("POST", f"{url}/crm/v3/objects/notes", "sandbox-token", json={
        "properties": {"hs_note_body": "Risk team: looks like fraud.", "hs_timestamp": "2026-11-28T10:00:00.000Z"},
        "associations": [{"to": {"id": hs_ticket["id"]},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 228}]}]})
    converge(hub, url)
    converge(hub, url)

    comments = zd_comments(url, ticket["id"])
    assert [(c["body"].split("\n")[0], c["public"]) for c in comments[1:]] == [
        ("Called the customer back.", True), ("Risk team: looks like fraud.", False)]
    assert sorted(first_lines([n["properties"] for n in hs_notes(url, hs_ticket["id"])], "hs_note_body")) == [
        "Called the customer back.", "Risk team: looks like fraud."]
    sf_comments = sf_query(url, f"SELECT CommentBody, IsPublished FROM CaseComment WHERE ParentId = '{case['Id']}' "
                                "ORDER BY CreatedDate")
    assert [(c["CommentBody"].split("\n")[0], c["IsPublished"]) for c in sf_comments] == [
        ("Called the customer back.", True), ("Risk team: looks like fraud.", False)]

    # Nothing comes back: more passes add no comment anywhere.
    converge(hub, url)
    assert len(zd_comments(url, ticket["id"])) == 3
    assert len(hs_notes(url, hs_ticket["id"])) == 2
    assert len(sf_query(url, f"SELECT Id FROM CaseComment WHERE ParentId = '{case['Id']}'")) == 2
