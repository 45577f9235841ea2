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


def test_a_comment_that_fails_is_listed_and_the_rest_of_its_page_still_syncs(url, hub, monkeypatch):
    from hub.sync import failures, run_pass
    from hub.sync.engine import Engine
    from tests.e2e.sync_support import drain
    first = zd_create(url, "Card declined", "My card was declined.", "ada@example.org", "Ada Lovelace")
    second = zd_create(url, "Lost card", "I lost my card.", "grace@example.org", "Grace Hopper")
    converge(hub, url)
    cases = {c["Subject"]: c["Id"] for c in sf_query(url, "SELECT Id, Subject FROM Case")}
    for subject, body in (("Card declined", "First follow-up."), ("Lost card", "Second follow-up.")):
        _call("POST", f"{url}{SF_API}/sobjects/CaseComment", "sandbox-session",
              json={"ParentId": cases[subject], "CommentBody": body, "IsPublished": True})
    broken = cases["Card declined"]
    real = Engine.apply_comments

    def failing(self, session, system, ticket, ticket_native_id, comments):
        if system == "salesforce" and ticket_native_id == broken:
            raise ValueError("unreadable comment")
        return real(self, session, system, ticket, ticket_native_id, comments)
    monkeypatch.setattr(Engine, "apply_comments", failing)
    report = run_pass(hub)
    drain(hub)
    assert report["systems"]["salesforce"]["comment"]["failed"] == 1
    assert [c["body"].split("\n")[0] for c in zd_comments(url, second["id"])[1:]] == ["Second follow-up."]
    assert len(zd_comments(url, first["id"])) == 1
    assert [(f["system"], f["object"], f["id"]) for f in failures(hub)] == [("salesforce", "comment", broken)]
    assert "ValueError: unreadable comment" in failures(hub)[0]["reason"]
