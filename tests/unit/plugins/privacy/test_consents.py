"""Consent ledger: grant and withdraw through the same call, mirrored to the bank, enforced at emit time."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from hub.api import create_token
from hub.app import create_app
from hub.db import AuditEntry, OutboxAction
from hub.hookspecs import hookimpl
from hub.pipeline import ActionRefused, EventContext

pytestmark = pytest.mark.unit


class FakeBank:
    name = "core_banking"

    def execute(self, operation, payload, key):
        return {}

    def check(self):
        return {"ok": True}


class Bank:
    @hookimpl
    def register_connectors(self, hub):
        return FakeBank()


@pytest.fixture
def hub(make_hub):
    return make_hub({"plugins": {"privacy": {}}}, plugins=[Bank()])


@pytest.fixture
def client(hub):
    app = create_app(hub=hub)
    app.testing = True
    return app.test_client()


@pytest.fixture
def auth(hub):
    return {"Authorization": "Bearer " + create_token(hub, "console", ["admin"])}


def consent(client, auth, granted: bool, purpose="marketing", customer="CUST-0001"):
    return client.post("/api/v1/consents", headers=auth, json={
        "customer_id": customer, "purpose": purpose, "granted": granted, "text_version": "2026-10",
        "channel": "app"})


def marketing(hub, key: str, template="marketing_autumn", customer="CUST-0001"):
    with hub.db.session() as session:
        EventContext(hub, session).emit("core_banking", "send_notification", {
            "customer_id": customer, "channel": "email", "template": template, "message": "Offer"}, key=key)


def test_grant_and_withdraw_take_the_same_single_call(hub, client, auth):
    granted = consent(client, auth, True)
    withdrawn = consent(client, auth, False)
    assert granted.status_code == withdrawn.status_code == 201
    assert set(granted.get_json()) == set(withdrawn.get_json())
    shown = client.get("/api/v1/consents?customer_id=CUST-0001", headers=auth).get_json()
    assert shown["current"]["marketing"]["granted"] is False
    assert [(h["granted"], h["text_version"], h["channel"]) for h in shown["history"]] == [
        (True, "2026-10", "app"), (False, "2026-10", "app")]
    with hub.db.session() as session:
        bank = [json.loads(r.payload)["action"] for r in session.execute(
            select(OutboxAction).where(OutboxAction.operation == "record_consent").order_by(OutboxAction.id)).scalars()]
        audited = [r.action for r in session.execute(select(AuditEntry).where(
            AuditEntry.action.like("consent.%")).order_by(AuditEntry.id)).scalars()]
    assert bank == ["grant", "withdraw"]
    assert audited == ["consent.grant", "consent.withdraw"]


def test_marketing_stops_when_consent_is_withdrawn(hub, client, auth):
    with pytest.raises(ActionRefused, match="never consented to marketing"):
        marketing(hub, "m0")
    consent(client, auth, True)
    marketing(hub, "m1")
    consent(client, auth, False)
    with pytest.raises(ActionRefused, match="withdrew marketing consent"):
        marketing(hub, "m2")
    marketing(hub, "service", template="identity_code")  # service messages need no consent
    with pytest.raises(ActionRefused):
        marketing(hub, "other", customer="CUST-0002")


@pytest.mark.parametrize("change, message", [
    ({"purpose": "telepathy"}, "not a known purpose"),
    ({"granted": "yes"}, "granted: must be true or false"),
    ({"channel": "pigeon"}, "channel: must be one of"),
    ({"text_version": ""}, "text_version: required"),
    ({"customer_id": ""}, "customer_id: required"),
])
def test_invalid_consents_are_422(client, auth, change, message):
    body = {"customer_id": "CUST-0001", "purpose": "marketing", "granted": True, "text_version": "v1",
            "channel": "web", **change}
    answer = client.post("/api/v1/consents", headers=auth, json=body)
    assert answer.status_code == 422 and message in answer.get_json()["message"]


def test_reading_consents_needs_a_customer(client, auth):
    assert client.get("/api/v1/consents", headers=auth).status_code == 422


class BankWithConsents(FakeBank):
    def __init__(self):
        self.consents: dict[str, dict] = {}
        self.client = self

    def get_optional(self, path, params=None):
        customer_id = path.split("/")[1]
        return {"data": list(self.consents.get(customer_id, {}).values())}


class Marketer:
    """Sends a marketing message for every payment.failed event, recording whether it was allowed."""

    def __init__(self):
        self.outcomes = []

    @hookimpl
    def on_event(self, event, ctx):
        try:
            ctx.emit("core_banking", "send_notification", {"customer_id": event.data["customer_id"],
                     "channel": "email", "template": "marketing_x", "message": "Offer"}, key=f"mk-{event.event_id}")
            self.outcomes.append("sent")
        except ActionRefused as exc:
            self.outcomes.append(str(exc))


def test_a_withdrawal_at_the_bank_stops_marketing_and_enters_the_ledger(make_hub):
    from hub.inbox import store_event
    from hub.pipeline import process_next_event
    from plugins.privacy.consents import history

    bank, marketer = BankWithConsents(), Marketer()

    class Plugins:
        @hookimpl
        def register_connectors(self, hub):
            return bank

    hub = make_hub({"plugins": {"privacy": {}}}, plugins=[Plugins(), marketer])

    def event(event_id):
        with hub.db.session() as session:
            store_event(session, "banking", event_id, "payment.failed", {"data": {"customer_id": "CUST-0005"}})
        while process_next_event(hub, "t"):
            pass

    bank.consents["CUST-0005"] = {"marketing": {"purpose": "marketing", "granted": True, "text_version": "v3",
                                                "channel": "app", "at": "2026-11-01T10:00:00Z"}}
    event("e1")
    bank.consents["CUST-0005"]["marketing"] = {"purpose": "marketing", "granted": False, "text_version": "v3",
                                               "channel": "app", "at": "2026-11-02T10:00:00Z"}
    event("e2")
    event("e3")
    assert marketer.outcomes[0] == "sent"
    assert all("withdrew marketing consent at 2026-11-02T10:00:00Z" in o for o in marketer.outcomes[1:])
    with hub.db.session() as session:
        ledger = [(h["granted"], h["actor"], h["at"]) for h in history(session, "CUST-0005")]
    assert ledger == [(True, "bank", "2026-11-01T10:00:00Z"), (False, "bank", "2026-11-02T10:00:00Z")]


def test_a_bank_outage_does_not_hold_up_events(make_hub):
    from hub.inbox import store_event
    from hub.pipeline import process_next_event

    class DownBank(BankWithConsents):
        def get_optional(self, path, params=None):
            raise ConnectionError("bank unreachable")

    bank, marketer = DownBank(), Marketer()

    class Plugins:
        @hookimpl
        def register_connectors(self, hub):
            return bank

    hub = make_hub({"plugins": {"privacy": {}}}, plugins=[Plugins(), marketer])
    with hub.db.session() as session:
        store_event(session, "banking", "e1", "payment.failed", {"data": {"customer_id": "CUST-0005"}})
    assert process_next_event(hub, "t")
    assert marketer.outcomes == ["consent required: customer CUST-0005 never consented to marketing"]
