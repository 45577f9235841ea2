"""The subject's comments on other customers' tickets found through the sync's links, with fake connectors: a
comment written in a CRM (its Zendesk copy redacted, the original deleted, the other copy archived), a copy whose
write is still waiting or running, a copy whose answer never reached its link, a retained ticket."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub import clock
from hub.db import OutboxAction
from hub.errors import PermanentError, RetryableError
from hub.hookspecs import hookimpl
from hub.pipeline import enqueue_action
from hub.sync.links import Links
from plugins.privacy import hubtables
from plugins.privacy.config import DEFAULT_RETENTION
from plugins.privacy.copies import CommentCopies
from plugins.privacy.systems import Subject

pytestmark = pytest.mark.unit
EMAIL, OTHER = "sam@example.org", "olga@example.org"


class FakeCrm:
    """A connector: ``execute`` records the call; tickets and comments are what the test puts in."""

    def __init__(self, name: str):
        self.name = name
        self.calls: list[tuple[str, dict]] = []
        self.tickets: dict[str, dict] = {}
        self.comments: dict[str, list[dict]] = {}

    def execute(self, operation, payload, key):
        self.calls.append((operation, payload))
        if operation == "redact_comment":
            if str(payload["ticket_id"]) not in self.tickets:
                raise PermanentError("zendesk answered 404", status=404)
            return {"redacted": True}
        return {"deleted": True} if operation == "delete_case_comment" else {"archived": True}

    def get(self, object, id):
        return self.tickets.get(str(id))

    def read_comments(self, ticket_id):
        return self.comments.get(str(ticket_id), [])

    def check(self):
        return {"ok": True}


class Fakes:
    def __init__(self):
        self.zendesk, self.salesforce, self.hubspot = FakeCrm("zendesk"), FakeCrm("salesforce"), FakeCrm("hubspot")

    @hookimpl
    def register_connectors(self, hub):
        return [self.zendesk, self.salesforce, self.hubspot]


@pytest.fixture
def fakes():
    found = Fakes()
    found.zendesk.tickets["900"] = {"id": 900, "tags": []}
    found.salesforce.tickets["500X"] = {"Id": "500X", "Category__c": "cards"}
    found.hubspot.tickets["61"] = {"id": "61", "properties": {"category": "cards"}}
    return found


@pytest.fixture
def hub(make_hub, fakes):
    return make_hub({"plugins": {"privacy": {}}}, plugins=[fakes])


TICKET_LINKS = {"zendesk": "900", "salesforce": "500X", "hubspot": "61"}


def seed(hub, comments: dict[str, tuple[str, str, dict]]) -> None:
    """The other customer's ticket ``zendesk-900`` in all three systems, and ``comments``: canonical id ->
    (origin, author email, {system: (native id, marker)})."""
    with hub.db.session() as session:
        links = Links(session)
        links.create_record("ticket", "zendesk-900", "zendesk", {"subject": "Card stolen",
                                                                 "requester": {"email": OTHER}}, {})
        for system, native in TICKET_LINKS.items():
            links.ensure("ticket", "zendesk-900", system, native)
        for canonical_id, (origin, author, records) in comments.items():
            links.create_record("comment", canonical_id, origin, {
                "id": canonical_id, "ticket_id": "zendesk-900", "body": f"{author} wrote: call me on 07700 900123",
                "public": True, "author_email": author, "author_role": "end-user", "created_at": None}, {})
            for system, (native, marker) in records.items():
                link = links.ensure("comment", canonical_id, system, native)
                if marker:
                    links.set_marker(link, marker)


def run(hub, action: str, systems=("zendesk", "salesforce", "hubspot")) -> tuple[Subject, dict]:
    subject = Subject(EMAIL)
    with hub.db.session() as session:
        subject.comments = hubtables.subject_comments(session, EMAIL, None)
    copies = CommentCopies(hub, subject, list(DEFAULT_RETENTION))
    results = {}
    for system in systems:
        result = {"found": False, "erased": {}, "kept": []} if action == "erase" else {"exported": {}}
        if action == "erase":
            copies.erase(system, result, f"dsr:r1:{system}")
        else:
            copies.export(system, result)
        results[system] = result
    return subject, results


def test_a_comment_the_subject_wrote_in_a_crm_is_removed_from_every_system_it_reached(hub, fakes):
    seed(hub, {"salesforce-00aA": ("salesforce", EMAIL, {"salesforce": ("00aA", None), "zendesk": ("7001", "m1"),
                                                         "hubspot": ("501", "m2")}),
               "zendesk-7002": ("zendesk", OTHER, {"zendesk": ("7002", None), "salesforce": ("00aB", "m3"),
                                                   "hubspot": ("502", "m4")})})
    subject, exported = run(hub, "export")
    assert subject.comments == ["salesforce-00aA"]
    of = {"system": "salesforce", "id": "00aA"}
    assert {s: r["comment_copies"] for s, r in exported.items()} == {
        "zendesk": [{"id": "7001", "ticket": "900", "of": of}],
        "salesforce": [{"id": "00aA", "ticket": "500X", "of": of}],
        "hubspot": [{"id": "501", "ticket": "61", "of": of}]}
    assert all(r["exported"]["comment_copies"] == 1 and r["found"] for r in exported.values())
    assert not fakes.zendesk.calls + fakes.salesforce.calls + fakes.hubspot.calls

    _, erased = run(hub, "erase")
    assert {s: [(e["id"], e["outcome"]) for e in r["erased"]["comment_copies"]] for s, r in erased.items()} == {
        "zendesk": [("7001", "redacted")], "salesforce": [("00aA", "deleted")], "hubspot": [("501", "archived")]}
    # Only the subject's comment: the other customer's stays everywhere.
    assert fakes.zendesk.calls == [("redact_comment", {"ticket_id": "900", "comment_id": "7001"})]
    assert fakes.salesforce.calls == [("delete_case_comment", {"comment_id": "00aA"})]
    assert fakes.hubspot.calls == [("archive_note", {"note_id": "501"})]


def test_a_copy_still_waiting_to_be_written_is_cancelled_and_one_being_written_fails_the_step(hub, fakes):
    seed(hub, {"zendesk-7001": ("zendesk", EMAIL, {"zendesk": ("7001", None), "salesforce": (None, "m1"),
                                                   "hubspot": (None, "m2")})})
    with hub.db.session() as session:
        for system in ("salesforce", "hubspot"):
            enqueue_action(session, system, "add_case_comment" if system == "salesforce" else "add_note",
                           {"body": "call me on 07700 900123"}, f"sync:{system}:comment:zendesk-7001",
                           origin="sync")
        leased = session.execute(select(OutboxAction).where(OutboxAction.system == "hubspot")).scalar_one()
        leased.leased_until, leased.lease_owner = clock.now() + timedelta(minutes=5), "worker-1"

    subject, results = run(hub, "erase", ("salesforce",))
    assert results["salesforce"]["erased"]["comment_copies"] == [
        {"id": None, "ticket": "500X", "of": {"system": "zendesk", "id": "7001"}, "outcome": "write_cancelled"}]
    with hub.db.session() as session:
        action = session.execute(select(OutboxAction).where(OutboxAction.system == "salesforce")).scalar_one()
    assert action.status == "dead" and "07700" not in action.payload and "erasure" in action.last_error
    assert fakes.salesforce.calls == []
    # Being sent right now: the step fails (the DSR is incomplete and resumed), the write is left alone.
    with pytest.raises(RetryableError, match="run the same command again"):
        run(hub, "erase", ("hubspot",))
    with hub.db.session() as session:
        action = session.execute(select(OutboxAction).where(OutboxAction.system == "hubspot")).scalar_one()
    assert action.status == "pending" and "07700" in action.payload


def test_a_copy_whose_answer_never_reached_its_link_is_found_by_the_hubs_marker(hub, fakes):
    seed(hub, {"zendesk-7001": ("zendesk", EMAIL, {"zendesk": ("7001", None), "salesforce": (None, "0badc0de"),
                                                   "hubspot": (None, "feedf00d")})})
    with hub.db.session() as session:
        enqueue_action(session, "salesforce", "add_case_comment", {"body": "x"}, "sync:salesforce:comment:zendesk-7001")
        session.flush()
        done = session.execute(select(OutboxAction)).scalar_one()
        done.status = "done"
    fakes.salesforce.comments["500X"] = [{"Id": "00aT", "CommentBody": "Theirs\n[db:12345678]"},
                                         {"Id": "00aM", "CommentBody": "Mine\n[db:0badc0de]"}]
    fakes.hubspot.comments["61"] = [{"id": "77", "properties": {"hs_note_body": "Theirs [db:87654321]"}}]
    _, results = run(hub, "erase", ("salesforce", "hubspot"))
    assert [(e["id"], e["outcome"]) for e in results["salesforce"]["erased"]["comment_copies"]] == [
        ("00aM", "deleted")]
    assert fakes.salesforce.calls == [("delete_case_comment", {"comment_id": "00aM"})]
    assert results["hubspot"]["erased"]["comment_copies"] == [] and fakes.hubspot.calls == []  # no copy was made


def test_a_ticket_retained_in_any_system_keeps_the_copies_everywhere(hub, fakes):
    seed(hub, {"zendesk-7001": ("zendesk", EMAIL, {"zendesk": ("7001", None), "salesforce": ("00aA", "m1"),
                                                   "hubspot": ("501", "m2")})})
    fakes.salesforce.tickets["500X"]["Category__c"] = "compliance_fraud"
    _, results = run(hub, "erase")
    for system in ("salesforce", "hubspot"):
        assert results[system]["erased"]["comment_copies"] == []
        [kept] = results[system]["kept"]
        assert kept["records"] == "comment_copies" and kept["ids"] == [{"salesforce": "00aA", "hubspot": "501"}[
            system]] and "fraud case" in kept["reason"] and "retained ticket" in kept["reason"]
    assert results["zendesk"]["erased"]["comment_copies"] == []  # the Zendesk original is the Zendesk step's
    assert not fakes.zendesk.calls + fakes.salesforce.calls + fakes.hubspot.calls


def test_a_zendesk_copy_on_a_ticket_gone_from_zendesk_counts_as_gone(hub, fakes):
    seed(hub, {"hubspot-501": ("hubspot", EMAIL, {"hubspot": ("501", None), "zendesk": ("7001", "m1")})})
    del fakes.zendesk.tickets["900"]
    _, results = run(hub, "erase", ("zendesk",))
    assert [(e["id"], e["outcome"]) for e in results["zendesk"]["erased"]["comment_copies"]] == [
        ("7001", "already_gone")]


def test_the_hub_step_scrubs_the_subjects_comments_and_keeps_their_links(hub):
    seed(hub, {"zendesk-7001": ("zendesk", EMAIL, {"zendesk": ("7001", None), "salesforce": ("00aA", "m1")}),
               "zendesk-7002": ("zendesk", OTHER, {"zendesk": ("7002", None), "salesforce": ("00aB", "m2")})})
    subject = Subject(EMAIL, ids={"zendesk": ["7001"]})  # an id of the subject's that a comment link shares
    with hub.db.session() as session:
        subject.comments = hubtables.subject_comments(session, EMAIL, None)
        erased = hubtables.erase(session, subject)
    assert erased["sync_comments_scrubbed"] == 1 and erased["sync_records"] == 0
    with hub.db.session() as session:
        links = Links(session)
        mine, theirs = links.record("comment", "zendesk-7001"), links.record("comment", "zendesk-7002")
        assert links.native_ids("comment", "zendesk-7001") == {"zendesk": "7001", "salesforce": "00aA"}
        data = json.loads(mine.data)
    assert data == {"id": "zendesk-7001", "ticket_id": "zendesk-900", "body": hubtables.REDACTED_COMMENT,
                    "public": True, "author_email": None, "author_role": None, "created_at": None}
    assert EMAIL not in mine.data and "07700" not in mine.data and mine.version == 2
    assert OTHER in theirs.data and "07700" in theirs.data
    with hub.db.session() as session:  # idempotent
        assert hubtables.erase(session, subject)["sync_comments_scrubbed"] == 0
