"""The sync engine's and the console's tables in a data-subject request (declared by name, read by reflection).

A canonical record is the subject's by its fields (a customer's email or bank customer id, a ticket's requester,
a comment's ticket), never because another customer's record mentions them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import column, insert, select, table

from hub import clock
from plugins.privacy import hubdata, hubtables
from plugins.privacy.systems import Subject

pytestmark = pytest.mark.unit
EMAIL = "ada@example.org"
OTHER = "bob@example.org"


@pytest.fixture
def hub(make_hub):
    return make_hub({"plugins": {"privacy": {}}})


def t(name: str, *names: str):
    return table(name, *[column(n) for n in names])


RECORDS = t("sync_records", "object", "canonical_id", "origin", "data", "stamps", "version", "deleted", "email",
            "created_at", "updated_at")
LINKS = t("sync_links", "object", "canonical_id", "system", "native_id", "seen", "updated_at")
FAILURES = t("sync_failures", "system", "object", "native_id", "reason", "attempts", "at")
TICKETS = t("analytics_tickets", "key", "system", "record_id", "subject", "customer_id", "status", "created_at",
            "created_day", "updated_at", "sla_state", "links")


def add_records(session, *rows):
    now = clock.now()
    session.execute(insert(RECORDS), [
        {"origin": "zendesk", "stamps": "{}", "version": 1, "deleted": False, "created_at": now, "updated_at": now,
         "object": object, "canonical_id": canonical_id, "email": (data.get("email") or "").lower() or None,
         "data": json.dumps({"id": canonical_id, **data})} for object, canonical_id, data in rows])


def add_links(session, *rows):
    now = clock.now()
    session.execute(insert(LINKS), [{"object": o, "canonical_id": c, "system": s, "native_id": n, "seen": "{}",
                                     "updated_at": now} for o, c, s, n in rows])


def seed(session):
    now = clock.now()
    add_records(session,
                ("customer", "c-ada", {"email": EMAIL, "external_id": "CUST-0007"}),
                ("ticket", "t-ada", {"subject": "Card", "requester": {"customer_id": "CUST-0007"}}),
                ("customer", "c-bob", {"email": OTHER, "external_id": "CUST-00070"}))
    add_links(session, ("customer", "c-ada", "zendesk", "501"), ("ticket", "t-ada", "salesforce", "500X"),
              ("customer", "c-bob", "zendesk", "502"))
    session.execute(insert(TICKETS), [
        {"key": k, "system": "zendesk", "record_id": k, "subject": f"About {who}", "customer_id": who,
         "status": "open", "created_at": now, "created_day": "2026-11-28", "updated_at": now, "sla_state": "met",
         "links": "{}"} for k, who in (("zd:1", "CUST-0007"), ("zd:2", "CUST-00070"))])


def test_export_finds_the_subjects_rows_only(hub):
    subject = Subject(EMAIL, "CUST-0007")
    with hub.db.session() as session:
        seed(session)
        data = hubtables.export(session, subject)
    assert sorted(r["canonical_id"] for r in data["sync_records"]) == ["c-ada", "t-ada"]
    assert sorted(r["native_id"] for r in data["sync_links"]) == ["500X", "501"]
    assert [r["key"] for r in data["analytics_tickets"]] == ["zd:1"]


def test_erase_deletes_records_and_links_and_anonymises_analytics(hub):
    subject = Subject(EMAIL, "CUST-0007")
    with hub.db.session() as session:
        seed(session)
        erased = hubtables.erase(session, subject)
    assert erased["sync_records"] == 2 and erased["sync_links"] == 2 and erased["analytics_tickets"] == 1
    with hub.db.session() as session:
        assert [r.canonical_id for r in session.execute(select(RECORDS.c.canonical_id))] == ["c-bob"]
        assert [r.native_id for r in session.execute(select(LINKS.c.native_id))] == ["502"]
        rows = {r.key: (r.subject, r.customer_id) for r in session.execute(select(TICKETS))}
    assert rows == {"zd:1": ("(erased)", None), "zd:2": ("About CUST-00070", "CUST-00070")}


def seed_mentions(session):
    """Ada's customer record and ticket (with an agent's reply that names nobody); Bob's ticket, whose description
    mentions Ada's email, with Bob's comment naming her customer id; Ada's own comment on Bob's ticket; a ticket
    whose requester is someone else whose address merely ends in Ada's."""
    add_records(
        session,
        ("customer", "c-ada", {"email": "Ada@Example.org", "external_id": "CUST-0007"}),
        ("customer", "c-bob", {"email": OTHER, "external_id": "CUST-0008"}),
        ("organisation", "o-1", {"name": "Acme", "domain": "example.org", "notes": f"contact {EMAIL}"}),
        ("ticket", "zendesk-1", {"subject": "Card blocked", "requester": {"email": EMAIL, "customer_id": None}}),
        ("ticket", "zendesk-2", {"subject": "Login", "requester": {"email": None, "customer_id": "CUST-0007"}}),
        ("ticket", "zendesk-3", {"subject": "Transfer", "description": f"my colleague {EMAIL} also saw this",
                                 "requester": {"email": OTHER, "customer_id": "CUST-0008"}}),
        ("ticket", "zendesk-4", {"subject": "Fees", "description": "nothing about anybody",
                                 "requester": {"email": "xada@example.org", "customer_id": "CUST-00070"}}),
        ("comment", "zendesk-11", {"ticket_id": "zendesk-1", "body": "We blocked it.", "author_email": None,
                                   "author_role": "agent"}),
        ("comment", "zendesk-12", {"ticket_id": "zendesk-2", "body": "Reset done", "author_email": "agent@bank.test"}),
        ("comment", "zendesk-31", {"ticket_id": "zendesk-3", "body": "Ada is CUST-0007, ask her",
                                   "author_email": OTHER}),
        ("comment", "zendesk-32", {"ticket_id": "zendesk-3", "body": "Same for me", "author_email": EMAIL}),
        ("comment", "zendesk-41", {"ticket_id": "zendesk-4", "body": "ok", "author_email": "xada@example.org"}))
    add_links(
        session,
        ("customer", "c-ada", "zendesk", "501"), ("customer", "c-ada", "hubspot", "51"),
        ("customer", "c-bob", "zendesk", "502"),
        ("ticket", "zendesk-1", "zendesk", "1"), ("ticket", "zendesk-1", "salesforce", "500A"),
        ("ticket", "zendesk-1", "hubspot", "61"),
        ("ticket", "zendesk-2", "zendesk", "2"), ("ticket", "zendesk-2", "hubspot", "62"),
        ("ticket", "zendesk-3", "zendesk", "3"), ("ticket", "zendesk-3", "salesforce", "500C"),
        ("ticket", "zendesk-3", "hubspot", "63"),
        ("ticket", "zendesk-4", "zendesk", "4"),
        ("comment", "zendesk-11", "zendesk", "11"), ("comment", "zendesk-11", "hubspot", "711"),
        ("comment", "zendesk-12", "zendesk", "12"),
        ("comment", "zendesk-31", "zendesk", "31"), ("comment", "zendesk-31", "hubspot", "731"),
        ("comment", "zendesk-32", "zendesk", "32"), ("comment", "zendesk-32", "hubspot", "732"),
        ("comment", "zendesk-41", "zendesk", "41"),
        # Another customer's records that share a native id with Ada's records of another type.
        ("ticket", "zendesk-3-dup", "hubspot", "51"), ("comment", "zendesk-33", "hubspot", "61"),
        ("ticket", "zendesk-5", "zendesk", "501"))


def keys(session, target) -> set:
    return {tuple(r) for r in session.execute(select(target.c.object, target.c.canonical_id))}


def test_only_the_records_the_subject_owns_are_deleted_others_mentioning_them_are_listed(hub):
    subject = Subject(EMAIL, "CUST-0007", records={"hubspot": {"customer": ["51"], "ticket": ["61", "62"]},
                                                   "zendesk": {"customer": ["501"], "ticket": ["1", "2"]}})
    with hub.db.session() as session:
        seed_mentions(session)
        subject.comments = hubtables.subject_comments(session, EMAIL, "CUST-0007")
        assert subject.comments == ["zendesk-32"]
        assert hubtables.linked_tickets(session, EMAIL, "CUST-0007") == {
            "hubspot": ["61", "62"], "salesforce": ["500A"], "zendesk": ["1", "2"]}
        result = hubdata.erase(session, subject, "req1", [])
    assert result["mentioned_in"] == [
        {"object": "comment", "canonical_id": "zendesk-31", "systems": {"zendesk": "31", "hubspot": "731"}},
        {"object": "organisation", "canonical_id": "o-1", "systems": {}},
        {"object": "ticket", "canonical_id": "zendesk-3", "systems": {"zendesk": "3", "salesforce": "500C",
                                                                      "hubspot": "63"}}]
    erased = result["erased"]
    assert erased["sync_records"] == 5 and erased["sync_comments_scrubbed"] == 1
    with hub.db.session() as session:
        assert keys(session, RECORDS) == {
            ("customer", "c-bob"), ("organisation", "o-1"), ("ticket", "zendesk-3"), ("ticket", "zendesk-4"),
            ("comment", "zendesk-31"), ("comment", "zendesk-32"), ("comment", "zendesk-41")}
        assert keys(session, LINKS) == {
            ("customer", "c-bob"), ("ticket", "zendesk-3"), ("ticket", "zendesk-4"), ("comment", "zendesk-31"),
            ("comment", "zendesk-32"), ("comment", "zendesk-41"),
            ("ticket", "zendesk-3-dup"), ("comment", "zendesk-33"), ("ticket", "zendesk-5")}
        bob = json.loads(session.execute(select(RECORDS.c.data).where(
            RECORDS.c.canonical_id == "zendesk-3")).scalar_one())
    assert bob["description"] == f"my colleague {EMAIL} also saw this"  # the other customer's words stay
    assert erased["sync_links"] == 10


def test_export_lists_the_subjects_records_and_what_only_mentions_them(hub):
    subject = Subject(EMAIL, "CUST-0007")
    with hub.db.session() as session:
        seed_mentions(session)
        result = hubdata.export(session, subject)
    records = {(r["object"], r["canonical_id"]) for r in result["data"]["sync_records"]}
    assert records == {("customer", "c-ada"), ("ticket", "zendesk-1"), ("ticket", "zendesk-2"),
                       ("comment", "zendesk-11"), ("comment", "zendesk-12"), ("comment", "zendesk-32")}
    assert [(m["object"], m["canonical_id"]) for m in result["mentioned_in"]] == [
        ("comment", "zendesk-31"), ("organisation", "o-1"), ("ticket", "zendesk-3")]
    assert "mentioned_in" not in result["exported"]


def test_an_untyped_id_of_the_subjects_matches_only_their_people_and_tickets_in_that_system(hub):
    """``Subject.ids`` (a request saved before ids had an object type, or an export's) names customers and tickets
    of one system: a comment or another system's record with the same native id keeps its link."""
    with hub.db.session() as session:
        add_records(session, ("customer", "c-ada", {"email": EMAIL}))
        add_links(session, ("customer", "c-ada-zd", "zendesk", "77"), ("comment", "c-9", "zendesk", "77"),
                  ("customer", "c-x", "hubspot", "77"))
        session.execute(insert(FAILURES), [
            {"system": s, "object": o, "native_id": "77", "reason": "r", "attempts": 1, "at": clock.now()}
            for s, o in (("zendesk", "customer"), ("zendesk", "comment"), ("hubspot", "customer"))])
        erased = hubtables.erase(session, Subject(EMAIL, ids={"zendesk": ["77"]}))
    assert erased["sync_links"] == 1 and erased["sync_failures"] == 1
    with hub.db.session() as session:
        assert keys(session, LINKS) == {("comment", "c-9"), ("customer", "c-x")}
        assert {(r.system, r.object) for r in session.execute(select(FAILURES))} == {
            ("zendesk", "comment"), ("hubspot", "customer")}


def test_the_typed_ids_a_request_saves_come_from_the_steps_reports():
    from plugins.privacy.dsr import _records_in
    result = {"erased": {"users": [501], "tickets": ["1", "2"], "tickets_of_others": [{"ticket": "3"}],
                         "comment_copies": [{"id": "00a1"}], "notes": ["711"]},
              "kept": [{"records": "tickets", "ids": ["9"]}, {"records": "tickets_of_others", "ids": ["4"]},
                       {"records": "comment_copies", "ids": ["00a2"]}, {"records": "transactions", "ids": ["T1"]}]}
    assert _records_in(result) == {"customer": ["501"], "ticket": ["1", "2", "9"], "comment": ["711"]}
    assert _records_in({"erased": {"fields": ["email"], "deleted": {"consents": 1}}, "kept": []}) == {}
