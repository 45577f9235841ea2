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
