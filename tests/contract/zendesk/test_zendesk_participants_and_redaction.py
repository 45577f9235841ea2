"""Email CCs, followers and collaborators; users/{id}/tickets/ccd|followed; search cc:/commenter:; Agent
Workspace comment redaction; a permanent user deletion leaves their comments on other people's tickets. Through
zenpy where it has a method, plain HTTP otherwise."""

from __future__ import annotations

import io

import pytest
import requests
from zenpy.lib.api_objects import Comment, Ticket, User

pytestmark = pytest.mark.contract
BLOCK = "▇"


@pytest.fixture
def people(zc):
    """Ann (a requester), Bo and Cy (end users), and the signed-in agent."""
    ann = zc.users.create(User(name="Ann", email="ann@example.com"))
    bo = zc.users.create(User(name="Bo", email="bo@example.com"))
    cy = zc.users.create(User(name="Cy", email="cy@example.com"))
    return {"ann": ann.id, "bo": bo.id, "cy": cy.id, "agent": zc.users.me().id}


def ticket_of(api, ticket_id: int) -> dict:
    return api("GET", f"/api/v2/tickets/{ticket_id}.json").json()["ticket"]


def update(api, ticket_id: int, **change):
    return api("PUT", f"/api/v2/tickets/{ticket_id}.json", json={"ticket": change})


# -- email CCs, followers, collaborators -------------------------------------------------------------------------

def test_email_ccs_and_followers_are_relative_edits_and_collaborators_follow_them(zc, api, people, sandbox):
    created = zc.tickets.create(Ticket(
        subject="Card frozen", comment=Comment(body="Frozen abroad"), requester_id=people["ann"],
        email_ccs=[{"user_id": people["bo"]}, {"user_email": "dee@example.com", "user_name": "Dee"}],
        followers=[{"user_id": people["agent"], "action": "put"}])).ticket
    dee = [u.id for u in zc.search("email:dee@example.com", type="user")]
    assert len(dee) == 1 and zc.users(id=dee[0]).role == "end-user"  # an unknown CC address becomes an end user
    ticket = ticket_of(api, created.id)
    assert ticket["email_cc_ids"] == [people["bo"], dee[0]] and ticket["follower_ids"] == [people["agent"]]
    assert ticket["collaborator_ids"] == [people["bo"], dee[0], people["agent"]]

    sandbox.sandbox.advance_clock(60)
    answer = zc.tickets.update(Ticket(id=created.id, email_ccs=[{"user_id": people["cy"]},
                                                                {"user_id": people["bo"], "action": "delete"}]))
    assert answer.ticket.email_cc_ids == [dee[0], people["cy"]]
    ticket = ticket_of(api, created.id)
    assert ticket["follower_ids"] == [people["agent"]]  # untouched by a CC edit
    assert ticket["collaborator_ids"] == [dee[0], people["cy"], people["agent"]]
    assert ticket["updated_at"] > created.updated_at

    # Deleting someone who is not there, or adding the requester as a CC, changes nothing.
    same = update(api, created.id, email_ccs=[{"user_email": "nobody@example.com", "action": "delete"},
                                              {"user_id": people["ann"]}], followers=[{"user_id": people["bo"],
                                                                                      "action": "delete"}])
    assert same.status_code == 200 and ticket_of(api, created.id) == ticket
    assert update(api, created.id, followers=[{"user_id": people["agent"], "action": "delete"}]).json()[
        "ticket"]["collaborator_ids"] == [dee[0], people["cy"]]


def test_legacy_collaborator_ids_split_into_ccs_and_followers_and_bad_entries_are_refused(api, people, zc):
    created = zc.tickets.create(Ticket(subject="Fee", comment=Comment(body="Fee?"), requester_id=people["ann"],
                                       collaborator_ids=[people["agent"], people["bo"]])).ticket
    ticket = ticket_of(api, created.id)
    assert ticket["email_cc_ids"] == [people["bo"]] and ticket["follower_ids"] == [people["agent"]]
    assert sorted(ticket["collaborator_ids"]) == sorted([people["agent"], people["bo"]])
    for bad in ([{"user_id": 999}], [{"action": "put"}], [{"user_id": people["bo"], "action": "remove"}], "bo"):
        answer = update(api, created.id, email_ccs=bad)
        assert answer.status_code == 422, bad
        assert answer.json()["error"] == "RecordInvalid"
    assert ticket_of(api, created.id) == ticket  # a refused edit writes nothing


def test_ccd_and_followed_lists_and_cc_and_commenter_search(zc, api, people):
    copied = zc.tickets.create(Ticket(subject="Copied", comment=Comment(body="x"), requester_id=people["ann"],
                                      email_ccs=[{"user_id": people["bo"]}])).ticket
    commented = zc.tickets.create(Ticket(subject="Commented", comment=Comment(body="y"),
                                         requester_id=people["cy"])).ticket
    zc.tickets.update(Ticket(id=commented.id, comment=Comment(body="I am Cy's partner", author_id=people["bo"])))
    followed = zc.tickets.create(Ticket(subject="Followed", comment=Comment(body="z"), requester_id=people["cy"],
                                        followers=[{"user_id": people["agent"]}])).ticket

    assert [t.id for t in zc.users.cced(people["bo"])] == [copied.id]
    assert [t["id"] for t in api("GET", f"/api/v2/users/{people['agent']}/tickets/followed.json").json()[
        "tickets"]] == [followed.id]
    assert api("GET", f"/api/v2/users/{people['cy']}/tickets/ccd.json", params={"page[size]": 10}).json()[
        "tickets"] == []
    assert api("GET", "/api/v2/users/999/tickets/ccd.json").status_code == 404

    def found(query):
        return sorted(r.id for r in zc.search(query, type="ticket"))

    assert found("cc:bo@example.com") == [copied.id]
    assert found(f"cc:{people['agent']}") == [followed.id]
    assert found(f"commenter:{people['bo']}") == [commented.id]
    assert found("commenter:bo@example.com") == [commented.id]
    assert sorted(t.id for t in zc.search_export(f"commenter:{people['bo']}", type="ticket")) == [commented.id]
    assert found("cc:none") == [commented.id]


# -- Agent Workspace redaction -------------------------------------------------------------------------------------

def redact(api, comment_id: int, **body):
    return api("PUT", f"/api/v2/comment_redactions/{comment_id}", json=body)


def test_redaction_replaces_the_marked_text_and_attachments_everywhere_the_comment_shows(zc, api, people, sandbox):
    upload = zc.attachments.upload(io.BytesIO(b"passport scan"), target_name="passport.jpg",
                                   content_type="image/jpeg")
    ticket = zc.tickets.create(Ticket(subject="Transfer", comment=Comment(body="Transfer stuck"),
                                      requester_id=people["ann"])).ticket
    markup = ('<div class="zd-comment" dir="auto"><p>My IBAN is <b>GB00 1234</b>, see '
              '<a href="http://x.test">this</a></p></div>')
    zc.tickets.update(Ticket(id=ticket.id, comment=Comment(html_body=markup, author_id=people["bo"],
                                                           uploads=[upload.token])))
    comment = list(zc.tickets.comments(ticket=ticket.id))[1]
    attachment = comment.attachments[0]

    marked = markup.replace("GB00 1234", "<redact>GB00 1234</redact>").replace(
        '<a href="http://x.test">this</a>', '<a redact href="http://x.test"><redact>this</redact></a>')
    answer = redact(api, comment.id, ticket_id=ticket.id, html_body=marked)
    assert answer.status_code == 200, answer.text
    shown = answer.json()["comment"]
    assert shown["body"] == f"My IBAN is {BLOCK * 9}, see {BLOCK * 4}" and "x.test" not in shown["html_body"]
    assert [c.body for c in zc.tickets.comments(ticket=ticket.id)][1] == shown["body"]
    events = [e for a in zc.tickets.audits(ticket=ticket.id) for e in a.events if e["type"] == "Comment"]
    assert not any("GB00" in e["body"] or "GB00" in e["html_body"] for e in events)
    assert requests.get(attachment.content_url, timeout=10).content == b"passport scan"  # not listed: kept

    answer = redact(api, comment.id, ticket_id=ticket.id, external_attachment_urls=[attachment.content_url])
    assert answer.status_code == 200
    redacted = answer.json()["comment"]["attachments"][0]
    assert (redacted["file_name"], redacted["size"]) == ("redacted.txt", 0)
    assert requests.get(attachment.content_url, timeout=10).content == b""


def test_redaction_of_the_first_comment_on_a_closed_ticket_covers_the_description(zc, api, people):
    ticket = zc.tickets.create(Ticket(subject="Old", comment=Comment(body="Call me on 07700 900123"),
                                      requester_id=people["ann"])).ticket
    update(api, ticket.id, status="closed")
    first = list(zc.tickets.comments(ticket=ticket.id))[0]
    marked = first.html_body.replace("Call me on 07700 900123", "<redact>Call me on 07700 900123</redact>")
    assert redact(api, first.id, ticket_id=ticket.id, html_body=marked).status_code == 200
    assert ticket_of(api, ticket.id)["description"] == BLOCK * len("Call me on 07700 900123")


def test_redaction_refuses_what_it_cannot_match(zc, api, people):
    ticket = zc.tickets.create(Ticket(subject="A", comment=Comment(body="Mine"), requester_id=people["ann"])).ticket
    other = zc.tickets.create(Ticket(subject="B", comment=Comment(body="Other"), requester_id=people["cy"])).ticket
    comment = list(zc.tickets.comments(ticket=ticket.id))[0]
    assert redact(api, comment.id, html_body="<redact>Mine</redact>").status_code == 400  # no ticket_id
    assert redact(api, comment.id, ticket_id=other.id, html_body="x").status_code == 404  # not that ticket's
    changed = redact(api, comment.id, ticket_id=ticket.id, html_body="<p><redact>Not the text</redact></p>")
    assert changed.status_code == 400 and "html_body" in changed.json()["description"]
    assert redact(api, comment.id, ticket_id=ticket.id).status_code == 400  # nothing to redact
    stranger = redact(api, comment.id, ticket_id=ticket.id,
                      external_attachment_urls=["https://sandbox.zendesk.com/attachments/token/nope/?name=x"])
    assert stranger.status_code == 400
    assert [c.body for c in zc.tickets.comments(ticket=ticket.id)] == ["Mine"]


def test_permanent_user_deletion_leaves_their_comments_on_other_peoples_tickets(zc, api, people):
    own = zc.tickets.create(Ticket(subject="Mine", comment=Comment(body="my IBAN is GB00", author_id=people["bo"]),
                                   requester_id=people["bo"])).ticket
    theirs = zc.tickets.create(Ticket(subject="Ann's", comment=Comment(body="Help"), requester_id=people["ann"])).ticket
    zc.tickets.update(Ticket(id=theirs.id, comment=Comment(body="Bo here: GB11", author_id=people["bo"])))
    assert api("DELETE", f"/api/v2/users/{people['bo']}.json").status_code == 200
    assert api("DELETE", f"/api/v2/deleted_users/{people['bo']}.json").status_code == 200
    assert "GB00" not in [c.body for c in zc.tickets.comments(ticket=own.id)][0]
    assert [c.body for c in zc.tickets.comments(ticket=theirs.id)] == ["Help", "Bo here: GB11"]


def test_redaction_of_an_unknown_ticket_or_comment_is_404(api, zc, people):
    ticket = zc.tickets.create(Ticket(subject="A", comment=Comment(body="Mine"), requester_id=people["ann"])).ticket
    for path, ticket_id in (("/api/v2/comment_redactions/1", 999), ("/api/v2/comment_redactions/1.json", ticket.id)):
        answer = api("PUT", path, json={"ticket_id": ticket_id, "html_body": "x"})
        assert (answer.status_code, answer.json()["error"]) == (404, "RecordNotFound")
