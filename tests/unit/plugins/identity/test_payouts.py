"""Payout details change: requested by support, sent to the bank only after the customer's fresh verification,
once; the full IBAN leaves the hub's tables once the bank has it; refusals and failures audited."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from hub.api import create_token
from hub.app import create_app
from hub.db import AuditEntry, OutboxAction, PluginState
from hub.errors import PermanentError
from hub.hookspecs import hookimpl
from hub.pipeline import ActionRefused, EventContext, process_next_action
from plugins.identity.payouts import PayoutError, normalise_iban
from plugins.identity.service import verify_code

pytestmark = pytest.mark.unit
IBAN = "GB82 WEST 1234 5698 7654 32"  # the ISO 13616 example IBAN
CUSTOMER = "CUST-0001"


class FakeBank:
    name = "core_banking"

    def __init__(self):
        self.calls: list[tuple[str, dict, str]] = []
        self.refuse = False

    def execute(self, operation, payload, key):
        self.calls.append((operation, dict(payload), key))
        if operation == "update_payout_details":
            if self.refuse:
                raise PermanentError("core_banking: 409 customer_closed", status=409)
            return {"id": "PYD-1", "iban_last4": payload["iban"][-4:], "status": "active"}
        return {"id": "NTF-1"}

    def check(self):
        return {"ok": True, "detail": "fake"}


class FakeZendesk:
    name = "zendesk"

    def execute(self, operation, payload, key):
        return {}

    def check(self):
        return {"ok": True, "detail": "fake"}


class Systems:
    def __init__(self):
        self.bank = FakeBank()

    @hookimpl
    def register_connectors(self, hub):
        return [self.bank, FakeZendesk()]


@pytest.fixture
def systems():
    return Systems()


@pytest.fixture
def hub(make_hub, systems):
    return make_hub({"plugins": {"identity": {}}}, plugins=[systems])


@pytest.fixture
def api(hub):
    client = create_app(hub=hub).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + create_token(hub, "support", ["admin"])
    return client


def outbox(hub, operation: str | None = None) -> list[OutboxAction]:
    with hub.db.session() as session:
        query = select(OutboxAction).order_by(OutboxAction.id)
        if operation:
            query = query.where(OutboxAction.operation == operation)
        rows = session.execute(query).scalars().all()
        session.expunge_all()
        return rows


def code_of(hub, challenge_id: str) -> str:
    (row,) = [r for r in outbox(hub, "send_notification") if r.key == f"identity:{challenge_id}:code"]
    return re.search(r"code is (\d{6})", json.loads(row.payload)["message"]).group(1)


def drain(hub) -> None:
    while process_next_action(hub, "test"):
        pass


def audit(hub, action: str) -> list[tuple[str, dict]]:
    with hub.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return [(r.outcome, json.loads(r.detail or "{}")) for r in rows.scalars()]


def ask(api, **extra):
    body = {"customer_id": CUSTOMER, "account_holder": "Ada Lovelace", "iban": IBAN, "ticket_system": "zendesk",
            "ticket_id": "42", **extra}
    return api.post("/api/v1/identity/payout-changes", json=body)


def verify(api, code: str):
    return api.post("/api/v1/identity/verify", json={"customer_id": CUSTOMER, "code": code,
                                                     "action": "core_banking.update_payout_details"})


def test_iban_is_checked_before_anything_is_sent():
    assert normalise_iban(IBAN) == "GB82WEST12345698765432"
    for bad in ("GB83WEST12345698765432", "GB82", "not an iban", None):
        with pytest.raises(PayoutError):
            normalise_iban(bad)


def test_bad_requests_are_422_and_send_nothing(hub, api):
    assert ask(api, iban="GB83 WEST 1234 5698 7654 32").status_code == 422
    assert ask(api, account_holder=" ").status_code == 422
    assert ask(api, bic="NOPE").status_code == 422
    assert outbox(hub) == []


def test_change_is_sent_once_after_verification_and_the_iban_then_leaves_the_hub(hub, api, systems):
    answer = ask(api)
    assert answer.status_code == 202, answer.get_json()
    created = answer.get_json()
    assert created["status"] == "awaiting_verification" and created["iban_last4"] == "5432"
    assert outbox(hub, "update_payout_details") == []  # nothing goes to the bank before the code
    code = code_of(hub, created["challenge_id"])
    assert verify(api, code).status_code == 200
    (action,) = outbox(hub, "update_payout_details")
    assert action.key == f"payout:{created['challenge_id']}"
    drain(hub)
    ((operation, payload, key),) = [c for c in systems.bank.calls if c[0] == "update_payout_details"]
    assert payload == {"customer_id": CUSTOMER, "account_holder": "Ada Lovelace", "iban": "GB82WEST12345698765432"}
    assert key == f"payout:{created['challenge_id']}"
    # The full IBAN is gone from the hub's tables once the bank has it.
    with hub.db.session() as session:
        stored = [r.payload for r in session.execute(select(OutboxAction)).scalars()]
        stored += [r.value for r in session.execute(select(PluginState)).scalars()]
    assert not any("GB82WEST12345698765432" in text for text in stored)
    ((outcome, detail),) = audit(hub, "payout.update")
    assert outcome == "ok" and detail["iban_last4"] == "5432"
    notes = [json.loads(r.payload) for r in outbox(hub) if r.key.endswith(":done-note")]
    assert len(notes) == 1 and "ending 5432" in notes[0]["body"]
    # The verification was used by this change: the same code cannot send another one.
    assert verify(api, code).get_json()["outcome"] == "used"
    assert len(outbox(hub, "update_payout_details")) == 1


def test_wrong_code_sends_nothing_and_a_direct_action_is_refused(hub, api):
    ask(api)
    assert verify(api, "000000").status_code == 403
    assert outbox(hub, "update_payout_details") == []
    with hub.db.session() as session:
        with pytest.raises(ActionRefused, match="identity not verified"):
            EventContext(hub, session).emit("core_banking", "update_payout_details", {
                "customer_id": CUSTOMER, "account_holder": "Mallory", "iban": IBAN}, key="direct")


def test_a_verification_for_another_purpose_does_not_carry_out_a_change(hub, api):
    """A plain verification request for the payout action (no pending change) lets a later action through,
    but carries nothing out by itself."""
    created = api.post("/api/v1/identity/requests", json={
        "customer_id": CUSTOMER, "action": "core_banking.update_payout_details"}).get_json()
    assert verify(api, code_of(hub, created["challenge_id"])).status_code == 200
    assert outbox(hub, "update_payout_details") == []


def test_bank_refusal_is_audited_noted_and_scrubbed(hub, api, systems):
    systems.bank.refuse = True
    created = ask(api).get_json()
    with hub.db.session() as session:
        verify_code(EventContext(hub, session), code_of(hub, created["challenge_id"]),
                    challenge_id=created["challenge_id"])
    drain(hub)
    (action,) = outbox(hub, "update_payout_details")
    assert action.status == "dead" and "GB82WEST12345698765432" not in action.payload
    ((outcome, detail),) = audit(hub, "payout.update")
    assert outcome == "failed" and "409" in detail["reason"]
    assert [r for r in outbox(hub) if r.key.endswith(":failed-note")]
