"""Privacy on PostgreSQL (the scale-out database): the hub-table part of an erasure and the consent gate."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from hub.db import InboxEvent, PluginState
from hub.inbox import store_event
from hub.pipeline import ActionRefused, EventContext
from plugins.privacy import hubdata
from plugins.privacy.consents import record_consent
from plugins.privacy.systems import Subject
from tests.support.postgres import pg_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.scaleout


def test_hub_erasure_and_consent_gate_on_postgresql(make_hub, pg_url):
    hub = make_hub({"plugins": {"privacy": {}}, "database_url": pg_url})
    with hub.db.session() as session:
        ctx = EventContext(hub, session)
        store_event(session, "zendesk", "z1", "ticket.created", {"data": {"requester": "Ada@Example.org"}})
        store_event(session, "banking", "b1", "payment.failed", {"data": {"customer_id": "CUST-00071"}})
        ctx.state("sla").set("clock:1", {"customer_id": "CUST-0007"})
        record_consent(ctx, "CUST-0007", "marketing", True, "v1", "app", "test")
    with hub.db.session() as session:
        result = hubdata.erase(session, Subject("ada@example.org", "CUST-0007"), "req1", [])
    assert result["erased"]["inbox_payloads"] == 1 and result["erased"]["plugin_state"] == 1
    assert result["erased"]["consents"] == 1
    with hub.db.session() as session:
        payloads = {r.event_id: json.loads(r.payload) for r in session.execute(select(InboxEvent)).scalars()}
        assert session.execute(select(PluginState)).first() is None
    assert payloads["z1"] == {"dsr": "req1", "erased": True} and "data" in payloads["b1"]
    with pytest.raises(ActionRefused, match="never consented"), hub.db.session() as session:
        EventContext(hub, session).emit("core_banking", "send_notification", {
            "customer_id": "CUST-0007", "template": "marketing_x", "channel": "email", "message": "m"}, key="m1")


def test_the_subjects_comments_on_others_tickets_are_scrubbed_with_their_links_kept_on_postgresql(make_hub, pg_url):
    from hub.sync.links import Links
    from plugins.privacy import hubtables
    hub = make_hub({"plugins": {"privacy": {}}, "database_url": pg_url})
    email = "sam@example.org"
    with hub.db.session() as session:
        links = Links(session)
        links.create_record("ticket", "zendesk-900", "zendesk", {"requester": {"email": "olga@example.org"}}, {})
        links.create_record("ticket", "zendesk-901", "zendesk", {"requester": {"email": email}}, {})
        for canonical_id, ticket in (("zendesk-7001", "zendesk-900"), ("zendesk-7002", "zendesk-901")):
            links.create_record("comment", canonical_id, "zendesk", {
                "id": canonical_id, "ticket_id": ticket, "body": "call me", "author_email": email}, {})
            links.ensure("comment", canonical_id, "salesforce", f"00a{canonical_id[-4:]}")
    subject = Subject(email)
    with hub.db.session() as session:
        subject.comments = hubtables.subject_comments(session, email, None)
        assert subject.comments == ["zendesk-7001"]  # the comment on their own ticket goes with the ticket
        result = hubdata.erase(session, subject, "req1", [])
    assert result["erased"]["sync_comments_scrubbed"] == 1
    with hub.db.session() as session:
        links = Links(session)
        assert json.loads(links.record("comment", "zendesk-7001").data)["body"] == hubtables.REDACTED_COMMENT
        assert links.native_ids("comment", "zendesk-7001") == {"salesforce": "00a7001"}
        assert links.record("comment", "zendesk-7002") is None and links.record("ticket", "zendesk-901") is None
        assert links.native_ids("comment", "zendesk-7002") == {}


def test_a_ticket_of_another_customer_that_mentions_the_subject_is_kept_and_listed_on_postgresql(make_hub, pg_url):
    from hub.sync.links import Links
    from plugins.privacy import hubtables
    hub = make_hub({"plugins": {"privacy": {}}, "database_url": pg_url})
    email = "ada@example.org"
    with hub.db.session() as session:
        links = Links(session)
        links.create_record("customer", "CUST-0007", "core_banking", {"email": email, "external_id": "CUST-0007"}, {})
        links.ensure("customer", "CUST-0007", "hubspot", "51")
        links.create_record("ticket", "zendesk-1", "zendesk", {"requester": {"email": "ADA@example.org"}}, {})
        links.ensure("ticket", "zendesk-1", "zendesk", "1")
        links.create_record("ticket", "zendesk-3", "zendesk", {
            "description": f"my colleague {email} also saw this", "requester": {"email": "bob@example.org"}}, {})
        for system, native_id in (("zendesk", "3"), ("salesforce", "500C"), ("hubspot", "51")):
            links.ensure("ticket", "zendesk-3", system, native_id)
    subject = Subject(email, "CUST-0007", records={"hubspot": {"customer": ["51"]}})
    with hub.db.session() as session:
        assert hubtables.linked_tickets(session, email, "CUST-0007") == {"zendesk": ["1"]}
        result = hubdata.erase(session, subject, "req1", [])
    assert result["mentioned_in"] == [{"object": "ticket", "canonical_id": "zendesk-3", "systems": {
        "zendesk": "3", "salesforce": "500C", "hubspot": "51"}}]
    assert result["erased"]["sync_records"] == 2 and result["erased"]["sync_links"] == 2
    with hub.db.session() as session:
        links = Links(session)
        assert links.record("customer", "CUST-0007") is None and links.record("ticket", "zendesk-1") is None
        assert email in links.record("ticket", "zendesk-3").data
        assert links.native_ids("ticket", "zendesk-3") == {"zendesk": "3", "salesforce": "500C", "hubspot": "51"}
