"""GDPR erasure (#7) and the hub's sync: a data subject's comment on a Zendesk ticket another customer requested,
copied by the sync onto that customer's Salesforce Case (a CaseComment) and HubSpot ticket (a note). The export
lists the copies, the erasure removes them (the other customer's comments stay), and later sync passes bring
nothing back."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.e2e.sync_support import (  # noqa: F401  (running, url: fixtures)
    started_sync_hub, _call, converge, hs_notes, hs_tickets, running, sf_query, url, zd_comments,
    zd_create,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SUBJECT, OTHER = "sam@example.org", "olga@example.org"
FRAUD = "compliance_fraud"


@pytest.fixture
def hub(make_hub, url):
    return started_sync_hub(make_hub, url, plugins={"sync": {}, "privacy": {}})


def zd_user(url: str, email: str, name: str) -> int:
    body = {"user": {"email": email, "name": name, "role": "end-user"}}
    return _call("POST", f"{url}/api/v2/users/create_or_update.json", "sandbox-token", json=body)["user"]["id"]


def zd_comment(url: str, ticket_id, body: str, author_id=None) -> None:
    comment = {"body": body, "public": True, **({"author_id": author_id} if author_id else {})}
    _call("PUT", f"{url}/api/v2/tickets/{ticket_id}.json", "sandbox-token", json={"ticket": {"comment": comment}})


def others_ticket(url: str, subject_id: int, tags=()) -> dict:
    """The other customer's ticket: their description, the subject's comment, the other customer's and an agent's
    replies."""
    ticket = zd_create(url, "Card stolen", "My card was stolen last night.", OTHER, "Olga Other", tags=list(tags))
    zd_comment(url, ticket["id"], "I'm her partner, call me on 07700 900123.", subject_id)
    other_id = ticket["requester_id"]
    zd_comment(url, ticket["id"], "Please block it today.", other_id)
    zd_comment(url, ticket["id"], "Card blocked, a new one is on its way.")
    return ticket


def first_lines(texts) -> list[str]:
    return sorted((t or "").split("\n")[0] for t in texts)


def crm_copies(url: str, subject: str = "Card stolen") -> tuple[list[str], list[str]]:
    """The comment bodies (first lines) on the other customer's Case and HubSpot ticket."""
    [case] = [c for c in sf_query(url, "SELECT Id, Subject FROM Case") if c["Subject"] == subject]
    [ticket] = [t for t in hs_tickets(url) if t["properties"]["subject"] == subject]
    comments = sf_query(url, f"SELECT CommentBody FROM CaseComment WHERE ParentId = '{case['Id']}' "
                             "AND IsDeleted = false")
    return (first_lines(c["CommentBody"] for c in comments),
            first_lines(n["properties"]["hs_note_body"] for n in hs_notes(url, ticket["id"])))


THEIRS = ["Card blocked, a new one is on its way.", "Please block it today."]
MINE = "I'm her partner, call me on 07700 900123."


def test_the_sync_copies_of_the_subjects_comment_are_listed_removed_and_never_come_back(hub, url, tmp_path):
    from hub.sync.models import SyncLink, SyncRecord
    from plugins.privacy.dsr import run_dsr
    subject_id = zd_user(url, SUBJECT, "Sam Subject")
    ticket = others_ticket(url, subject_id)
    converge(hub, url)
    assert crm_copies(url) == (sorted(THEIRS + [MINE]), sorted(THEIRS + [MINE]))
    mine = next(c for c in zd_comments(url, ticket["id"]) if c["author_id"] == subject_id)

    report = json.loads(run_dsr(hub, "export", SUBJECT, tmp_path / "export.json"))
    copies = {s: report["systems"][s]["exported"]["comment_copies"] for s in ("zendesk", "salesforce", "hubspot")}
    assert copies == {"zendesk": 0, "salesforce": 1, "hubspot": 1}
    [sf_copy] = report["systems"]["salesforce"]["comment_copies"]
    [hs_copy] = report["systems"]["hubspot"]["comment_copies"]
    assert json.loads((tmp_path / "export.json").read_text())["systems"]["salesforce"]["comment_copies"] == [sf_copy]
    [case] = sf_query(url, "SELECT Id FROM Case WHERE Subject = 'Card stolen'")
    assert sf_copy["ticket"] == case["Id"] and sf_copy["of"] == {"system": "zendesk", "id": str(mine["id"])}
    assert sf_query(url, f"SELECT CommentBody FROM CaseComment WHERE Id = '{sf_copy['id']}'")[0][
        "CommentBody"].startswith(MINE)
    assert hs_notes(url, hs_copy["ticket"]) and hs_copy["of"] == sf_copy["of"]

    report = json.loads(run_dsr(hub, "erase", SUBJECT, None))
    assert report["status"] == "completed"
    sf_done, hs_done = (report["systems"][s]["erased"]["comment_copies"] for s in ("salesforce", "hubspot"))
    assert sf_done == [dict(sf_copy, outcome="deleted")] and hs_done == [dict(hs_copy, outcome="archived")]
    assert report["systems"]["zendesk"]["erased"]["comment_copies"] == []
    assert report["systems"]["hub"]["erased"]["sync_comments_scrubbed"] == 1
    # The copies are gone; the other customer's comments (and the agent's) are still on their Case and ticket.
    assert crm_copies(url) == (THEIRS, THEIRS)
    redacted = next(c for c in zd_comments(url, ticket["id"]) if c["id"] == mine["id"])
    assert set(redacted["body"]) == {"▇"}
    # The hub's canonical comment is scrubbed, its links kept (so the sync knows every copy is accounted for).
    with hub.db.session() as session:
        row = session.execute(select(SyncRecord).where(SyncRecord.object == "comment", SyncRecord.canonical_id
                                                       == f"zendesk-{mine['id']}")).scalar_one()
        links = {link.system: link.native_id for link in session.execute(select(SyncLink).where(
            SyncLink.object == "comment", SyncLink.canonical_id == row.canonical_id)).scalars()}
    assert SUBJECT not in row.data and "07700" not in row.data
    assert links == {"zendesk": str(mine["id"]), "salesforce": sf_copy["id"], "hubspot": hs_copy["id"]}

    # Further sync passes bring nothing back — not the comment, not its redacted text, not a new copy — also when
    # the ticket changes and its comments are read again.
    converge(hub, url)
    zd_comment(url, ticket["id"], "Any news?", ticket["requester_id"])
    converge(hub, url)
    assert crm_copies(url) == (sorted(THEIRS + ["Any news?"]), sorted(THEIRS + ["Any news?"]))
    assert len(zd_comments(url, ticket["id"])) == 5

    # A second erasure finds nothing of the subject's left.
    again = json.loads(run_dsr(hub, "erase", SUBJECT, None))
    assert again["status"] == "completed"
    assert all(again["systems"][s]["erased"]["comment_copies"] == [] for s in ("salesforce", "hubspot"))


def test_copies_on_a_retained_ticket_stay_and_are_listed_as_kept(hub, url):
    from plugins.privacy.dsr import run_dsr
    subject_id = zd_user(url, SUBJECT, "Sam Subject")
    ticket = others_ticket(url, subject_id, tags=[FRAUD])
    converge(hub, url)
    before = crm_copies(url)
    assert before == (sorted(THEIRS + [MINE]), sorted(THEIRS + [MINE]))

    report = json.loads(run_dsr(hub, "erase", SUBJECT, None))
    assert report["status"] == "completed"
    assert crm_copies(url) == before
    for system in ("salesforce", "hubspot"):
        assert report["systems"][system]["erased"]["comment_copies"] == []
        [kept] = [k for k in report["systems"][system]["kept"] if k["records"] == "comment_copies"]
        assert kept["count"] == 1 and "fraud case" in kept["reason"]
    # Nothing is copied twice when the ticket changes and its comments are read again.
    zd_comment(url, ticket["id"], "Any news?", ticket["requester_id"])
    converge(hub, url)
    assert crm_copies(url) == tuple(sorted(found + ["Any news?"]) for found in before)


def test_a_copy_the_sync_has_not_written_yet_is_cancelled_and_never_written(hub, url):
    from hub.db import OutboxAction
    from hub.sync import run_pass
    from plugins.privacy.dsr import run_dsr
    subject_id = zd_user(url, SUBJECT, "Sam Subject")
    ticket = others_ticket(url, subject_id)
    run_pass(hub)  # the copies are waiting in the outbox, not written yet
    mine = next(c for c in zd_comments(url, ticket["id"]) if c["author_id"] == subject_id)

    report = json.loads(run_dsr(hub, "erase", SUBJECT, None))
    assert report["status"] == "completed"
    for system in ("salesforce", "hubspot"):
        [entry] = report["systems"][system]["erased"]["comment_copies"]
        assert entry["id"] is None and entry["outcome"] == "write_cancelled"
        assert entry["of"] == {"system": "zendesk", "id": str(mine["id"])}
    with hub.db.session() as session:
        cancelled = session.execute(select(OutboxAction).where(
            OutboxAction.key.like(f"sync:%:comment:zendesk-{mine['id']}"))).scalars().all()
    assert sorted(a.system for a in cancelled) == ["hubspot", "salesforce"]
    assert all(a.status == "dead" and "07700" not in a.payload for a in cancelled)

    converge(hub, url)  # the rest of the pass is written: the ticket and everybody else's comments
    assert crm_copies(url) == (THEIRS, THEIRS)
    converge(hub, url)
    assert crm_copies(url) == (THEIRS, THEIRS)
