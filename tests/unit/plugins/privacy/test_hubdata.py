"""The hub's inbox and outbox in a data-subject request: a row is the subject's by its fields (a sync write's key
naming one of their canonical records, a payload's requester/customer/email), never because it mentions them; the
sync's records of a ticket kept by a retention rule stay with their links and writes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from hub.db import InboxEvent, OutboxAction
from hub.inbox import store_event
from hub.pipeline import EventContext
from plugins.privacy import hubdata
from plugins.privacy.systems import Subject
from tests.unit.plugins.privacy.test_hubtables import LINKS, RECORDS, keys, seed_mentions

pytestmark = pytest.mark.unit
EMAIL = "ada@example.org"
OTHER = "bob@example.org"
MENTION = f"my colleague {EMAIL} also saw this"


@pytest.fixture
def hub(make_hub):
    return make_hub({"plugins": {"privacy": {}}})


def add_action(session, key: str, system: str, operation: str, payload: dict, status: str = "pending") -> None:
    from hub import clock
    now = clock.now()
    order = key.rsplit(":v", 1)[0] if ":v" in key else key
    session.add(OutboxAction(key=key, system=system, operation=operation, payload=json.dumps(payload),
                             order_key=order, origin="sync" if key.startswith("sync:") else None, status=status,
                             attempts=0, created_at=now, available_at=now))


def seed_rows(hub):
    """Writes and events of Ada's (none of them naming her in the text, or naming her as requester/customer) and of
    Bob's that only mention her."""
    with hub.db.session() as session:
        seed_mentions(session)
        # Ada's: a change to her Case (no email in it), the copy of the agent's reply on her ticket, a finished
        # write of her customer record, a service message to her.
        add_action(session, "sync:salesforce:ticket:zendesk-1:v2:update_case", "salesforce", "update_case",
                   {"case_id": "500A", "fields": {"Priority": "High"}})
        add_action(session, "sync:hubspot:comment:zendesk-11", "hubspot", "add_note",
                   {"external_id": "zendesk-1", "body": "We blocked it.", "public": True, "ticket_id": "61"})
        add_action(session, "sync:hubspot:customer:c-ada:v1:upsert_contact", "hubspot", "upsert_contact",
                   {"external_id": "c-ada", "contact": {"email": "Ada@Example.org", "firstname": "Ada"}},
                   status="done")
        # Bob's ticket, whose description mentions Ada: still waiting, and already written.
        add_action(session, "sync:salesforce:ticket:zendesk-3:v1:upsert_case", "salesforce", "upsert_case",
                   {"external_id": "zendesk-3", "case": {"Description": MENTION, "SuppliedEmail": OTHER}})
        add_action(session, "sync:hubspot:ticket:zendesk-3:v1:upsert_ticket", "hubspot", "upsert_ticket",
                   {"external_id": "zendesk-3", "ticket": {"content": MENTION}}, status="done")
        ctx = EventContext(hub, session)
        ctx.emit("core_banking", "send_notification", {"customer_id": "CUST-0007", "template": "card_blocked",
                                                       "channel": "email", "message": "Your card is blocked"},
                 key="notice-ada")
        ctx.emit("zendesk", "add_comment", {"ticket_id": "3", "body": f"Also ask {EMAIL}"}, key="note-bob")
        store_event(session, "zendesk", "z-ada", "ticket.created", {"data": {"ticket": {
            "id": 1, "subject": "Card blocked", "requester": {"email": "ADA@example.org", "name": "Ada"}}}})
        store_event(session, "banking", "b-ada", "payment.failed", {"data": {"customer_id": "CUST-0007"}})
        store_event(session, "zendesk", "z-bob", "ticket.created", {"data": {"ticket": {
            "id": 3, "description": MENTION, "requester": {"email": OTHER}}}})
        store_event(session, "banking", "b-other", "payment.failed", {"data": {"customer_id": "CUST-00071"}})


def outbox(hub) -> dict:
    with hub.db.session() as session:
        return {r.key: (r.status, json.loads(r.payload)) for r in session.execute(select(OutboxAction)).scalars()}


def inbox(hub) -> dict:
    with hub.db.session() as session:
        return {r.event_id: json.loads(r.payload) for r in session.execute(select(InboxEvent)).scalars()}


def test_the_subjects_writes_and_events_are_erased_others_mentioning_them_are_left_and_listed(hub):
    seed_rows(hub)
    before_outbox, before_inbox = outbox(hub), inbox(hub)
    with hub.db.session() as session:
        result = hubdata.erase(session, Subject(EMAIL, "CUST-0007"), "req1", [])
    marker = {"erased": True, "dsr": "req1"}
    after = outbox(hub)
    for key in ("sync:salesforce:ticket:zendesk-1:v2:update_case", "sync:hubspot:comment:zendesk-11",
                "notice-ada"):
        assert after[key] == ("dead", marker), key
    assert after["sync:hubspot:customer:c-ada:v1:upsert_contact"] == ("done", marker)
    for key in ("sync:salesforce:ticket:zendesk-3:v1:upsert_case", "sync:hubspot:ticket:zendesk-3:v1:upsert_ticket",
                "note-bob"):
        assert after[key] == before_outbox[key], key  # Bob's, only mentioning Ada: untouched
    events = inbox(hub)
    assert events["z-ada"] == marker and events["b-ada"] == marker
    assert events["z-bob"] == before_inbox["z-bob"] and events["b-other"] == before_inbox["b-other"]
    assert result["erased"]["outbox_cancelled"] == 3 and result["erased"]["outbox_payloads"] == 1
    assert result["erased"]["inbox_payloads"] == 2
    with hub.db.session() as session:
        ids = {r.key: r.id for r in session.execute(select(OutboxAction)).scalars()}
        z_bob = session.execute(select(InboxEvent.id).where(InboxEvent.event_id == "z-bob")).scalar_one()
    rows = [m for m in result["mentioned_in"] if m["object"] in ("inbox_event", "outbox_action")]
    assert rows == [
        {"object": "inbox_event", "id": z_bob, "source": "zendesk", "type": "ticket.created"},
        {"object": "outbox_action", "id": ids["sync:salesforce:ticket:zendesk-3:v1:upsert_case"],
         "system": "salesforce", "operation": "upsert_case", "status": "pending"},
        {"object": "outbox_action", "id": ids["sync:hubspot:ticket:zendesk-3:v1:upsert_ticket"],
         "system": "hubspot", "operation": "upsert_ticket", "status": "done"},
        {"object": "outbox_action", "id": ids["note-bob"], "system": "zendesk", "operation": "add_comment",
         "status": "pending"}]


def test_export_holds_only_the_subjects_rows_and_lists_the_ones_that_mention_them(hub):
    seed_rows(hub)
    with hub.db.session() as session:
        result = hubdata.export(session, Subject(EMAIL, "CUST-0007"))
    data = result["data"]
    assert sorted(r["payload"].get("customer_id") or r["operation"] for r in data["outbox"]) == [
        "CUST-0007", "add_note", "update_case", "upsert_contact"]
    assert len(data["inbox"]) == 2 and all(OTHER not in json.dumps(r) for r in data["inbox"] + data["outbox"])
    assert {m["object"] for m in result["mentioned_in"]} == {"comment", "organisation", "ticket", "inbox_event",
                                                             "outbox_action"}


def test_a_retained_ticket_keeps_its_records_links_and_writes_and_is_listed_as_kept(hub):
    """Zendesk kept ticket 1 (a fraud case) and Ada's user with it; Salesforce kept the Case; HubSpot archived its
    copy and GDPR-deleted the contact. Ticket 2 was erased everywhere."""
    fraud = "fraud case: kept 5 years"
    subject = Subject(EMAIL, "CUST-0007", records={
        "zendesk": {"customer": ["501"], "ticket": ["1", "2"]}, "salesforce": {"ticket": ["500A"]},
        "hubspot": {"customer": ["51"], "ticket": ["61", "62"]}},
        retained={"zendesk": {"ticket": {"1": fraud}, "customer": {"501": "requester of retained tickets"}},
                  "salesforce": {"ticket": {"500A": fraud}}})
    with hub.db.session() as session:
        seed_mentions(session)
        add_action(session, "sync:salesforce:ticket:zendesk-1:v2:update_case", "salesforce", "update_case",
                   {"case_id": "500A", "fields": {"Priority": "High"}})
        add_action(session, "sync:hubspot:ticket:zendesk-2:v2:update_ticket", "hubspot", "update_ticket",
                   {"ticket_id": "62", "properties": {"hs_ticket_priority": "HIGH"}})
    with hub.db.session() as session:
        result = hubdata.erase(session, subject, "req1", [])
    kept = {k["records"]: k for k in result["kept"]}
    assert kept["sync_tickets"]["ids"] == ["zendesk-1"] and fraud in kept["sync_tickets"]["reason"]
    assert kept["sync_comments"]["ids"] == ["zendesk-11"]
    assert kept["sync_customers"]["ids"] == ["c-ada"] and "requester" in kept["sync_customers"]["reason"]
    assert kept["outbox_actions"]["count"] == 1
    after = outbox(hub)
    assert after["sync:salesforce:ticket:zendesk-1:v2:update_case"][0] == "pending"
    assert after["sync:hubspot:ticket:zendesk-2:v2:update_ticket"][0] == "dead"
    with hub.db.session() as session:
        records = keys(session, RECORDS)
        links = {(r.object, r.canonical_id, r.system) for r in session.execute(
            select(LINKS.c.object, LINKS.c.canonical_id, LINKS.c.system))}
    assert {("ticket", "zendesk-1"), ("comment", "zendesk-11"), ("customer", "c-ada")} <= records
    assert ("ticket", "zendesk-2") not in records and ("comment", "zendesk-12") not in records
    # The links to the records the systems kept stay; those to records a system erased go.
    assert {("ticket", "zendesk-1", "zendesk"), ("ticket", "zendesk-1", "salesforce"),
            ("comment", "zendesk-11", "zendesk"), ("customer", "c-ada", "zendesk")} <= links
    assert not {("ticket", "zendesk-1", "hubspot"), ("customer", "c-ada", "hubspot"),
                ("ticket", "zendesk-2", "zendesk")} & links
