"""Identity service: codes hashed and bound to customer + action, TTL, single use, lockout, the action gate."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hub import clock
from hub.db import AuditEntry, OutboxAction
from hub.hookspecs import hookimpl
from hub.inbox import store_event
from hub.pipeline import ActionRefused, EventContext, process_next_event
from plugins.identity.models import Attempt, Challenge
from plugins.identity.service import IdentityError, code_hash, code_key, new_code, request_verification, verify_code

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
REFUND = "core_banking.create_refund"
UNFREEZE = "core_banking.unfreeze_card"


class FakeZendesk:
    name = "zendesk"

    def execute(self, operation, payload, key):
        return {}

    def check(self):
        return {"ok": True, "detail": "fake"}


class FakeHelpdesk:
    @hookimpl
    def register_connectors(self, hub):
        return FakeZendesk()


@pytest.fixture
def now():
    moment = {"t": T0}
    clock.set_clock(lambda: moment["t"])
    yield moment
    clock.set_clock(None)


@pytest.fixture
def hub(make_hub, now):
    return make_hub({"plugins": {"identity": {"max_failures": 3}}}, plugins=[FakeHelpdesk()])


def tx(hub):
    class Tx:
        def __enter__(self):
            self.cm = hub.db.session()
            return EventContext(hub, self.cm.__enter__())

        def __exit__(self, *exc):
            return self.cm.__exit__(*exc)
    return Tx()


def sent_code(hub, challenge_id: str) -> str:
    with hub.db.session() as session:
        query = select(OutboxAction).where(OutboxAction.key == f"identity:{challenge_id}:code")
        row = session.execute(query).scalar_one()
        return re.search(r"code is (\d{6})", json.loads(row.payload)["message"]).group(1)


def request(hub, customer="CUST-0001", action=REFUND, ticket=None) -> tuple[str, str]:
    with tx(hub) as ctx:
        created = request_verification(ctx, customer, action, "agent:test", "zendesk" if ticket else None, ticket)
    return created["challenge_id"], sent_code(hub, created["challenge_id"])


def verify(hub, code, **kw):
    with tx(hub) as ctx:
        return verify_code(ctx, code, **kw)


def emit_refund(hub, customer="CUST-0001", key="refund-1", action=("core_banking", "create_refund")):
    with tx(hub) as ctx:
        ctx.emit(action[0], action[1], {"transaction_id": "TXN-1", "customer_id": customer}, key=key)


def audit(hub, action: str) -> list[tuple[str, str, dict]]:
    with hub.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return [(r.outcome, r.target, json.loads(r.detail)) for r in rows.scalars()]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_codes_are_six_digits_and_vary():
    codes = {new_code() for _ in range(500)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 450


def test_only_the_hmac_of_the_code_is_stored(hub):
    challenge_id, code = request(hub)
    with hub.db.session() as session:
        row = session.get(Challenge, challenge_id)
        assert code not in row.code_hash
        assert row.code_hash == code_hash(code_key(hub), challenge_id, code)
        assert (row.expires_at - row.created_at) == timedelta(minutes=5)
    assert all(code not in json.dumps(detail) for _, _, detail in audit(hub, "identity.request"))


def test_right_code_verifies_once_and_allows_the_action_once(hub):
    challenge_id, code = request(hub)
    assert verify(hub, code, challenge_id=challenge_id).ok
    assert verify(hub, code, challenge_id=challenge_id).outcome == "used"
    emit_refund(hub, key="refund-1")
    with pytest.raises(ActionRefused, match="identity not verified"):
        emit_refund(hub, key="refund-2")
    # The refusal rolls back with the caller's transaction; the caller records it.
    assert [o for o, _, _ in audit(hub, "identity.consume")] == ["ok"]


def test_action_without_verification_is_refused_and_not_emitted(hub):
    with pytest.raises(ActionRefused, match=r"create_refund for customer CUST-0001 needs a fresh"):
        emit_refund(hub)
    with hub.db.session() as session:
        assert session.execute(select(OutboxAction).where(OutboxAction.key == "refund-1")).first() is None


def test_payload_without_customer_is_refused(hub):
    with pytest.raises(ActionRefused, match="needs the customer_id"), tx(hub) as ctx:
        ctx.emit("core_banking", "freeze_card", {"card_id": "CARD-1"}, key="f1")


def test_expired_code_is_refused(hub, now):
    challenge_id, code = request(hub)
    now["t"] = T0 + timedelta(minutes=5, seconds=1)
    assert verify(hub, code, challenge_id=challenge_id).outcome == "expired"
    with pytest.raises(ActionRefused):
        emit_refund(hub)


def test_verification_must_be_used_within_its_ttl(hub, now):
    challenge_id, code = request(hub)
    assert verify(hub, code, challenge_id=challenge_id).ok
    now["t"] = T0 + timedelta(minutes=6)
    with pytest.raises(ActionRefused):
        emit_refund(hub)


def test_wrong_customer_cannot_use_or_enter_the_code(hub):
    challenge_id, code = request(hub, customer="CUST-0001")
    request(hub, customer="CUST-0002")
    outcome = verify(hub, code, customer_id="CUST-0002", action=REFUND)
    assert not outcome.ok and outcome.outcome == "wrong_code"
    outcome = verify(hub, code, challenge_id=challenge_id, customer_id="CUST-0002")
    assert outcome.outcome == "wrong_customer"
    assert verify(hub, code, challenge_id=challenge_id).ok
    with pytest.raises(ActionRefused):
        emit_refund(hub, customer="CUST-0002")
    emit_refund(hub, customer="CUST-0001")


def test_wrong_action_cannot_use_the_verification(hub):
    challenge_id, code = request(hub, action=UNFREEZE)
    assert verify(hub, code, challenge_id=challenge_id, action=REFUND).outcome == "wrong_action"
    assert verify(hub, code, customer_id="CUST-0001", action=REFUND).outcome == "no_challenge"
    assert verify(hub, code, challenge_id=challenge_id).ok
    with pytest.raises(ActionRefused):
        emit_refund(hub)
    with tx(hub) as ctx:
        ctx.emit("core_banking", "unfreeze_card", {"card_id": "CARD-1", "customer_id": "CUST-0001"}, key="u1")


def test_newer_code_supersedes_the_older(hub):
    first_id, first_code = request(hub)
    second_id, second_code = request(hub)
    assert verify(hub, first_code, challenge_id=first_id).outcome == "superseded"
    assert verify(hub, second_code, challenge_id=second_id).ok


def test_lockout_after_max_failures_is_audited_and_blocks_new_codes(hub, now):
    challenge_id, code = request(hub, ticket="42")
    outcomes = [verify(hub, wrong(code), challenge_id=challenge_id).outcome for _ in range(3)]
    assert outcomes == ["wrong_code", "wrong_code", "locked"]
    assert verify(hub, code, challenge_id=challenge_id).outcome == "locked"
    assert [o for o, _, _ in audit(hub, "identity.lockout")] == ["locked"]
    with pytest.raises(IdentityError, match="locked out"):
        request(hub)
    with hub.db.session() as session:
        keys = [r.key for r in session.execute(select(OutboxAction)).scalars()]
    assert f"identity:{challenge_id}:locked-note" in keys
    now["t"] = T0 + timedelta(minutes=31)
    new_id, new_code_ = request(hub)
    assert verify(hub, new_code_, challenge_id=new_id).ok


def test_every_attempt_is_recorded_and_audited(hub):
    challenge_id, code = request(hub)
    verify(hub, "12", challenge_id=challenge_id)
    verify(hub, code, challenge_id=challenge_id, customer_id="CUST-0009")
    verify(hub, code, challenge_id=challenge_id)
    verify(hub, code, challenge_id="nope")
    with hub.db.session() as session:
        attempts = [a.outcome for a in session.execute(select(Attempt).order_by(Attempt.id)).scalars()]
    assert attempts == ["wrong_code", "wrong_customer", "ok", "no_challenge"]
    assert [(o, d["reason"]) for o, _, d in audit(hub, "identity.verify")] == [
        ("refused", "wrong_code"), ("refused", "wrong_customer"), ("ok", "ok"), ("refused", "no_challenge")]


def test_success_records_field_and_note_on_the_ticket(hub):
    challenge_id, code = request(hub, ticket="42")
    verify(hub, code, challenge_id=challenge_id)
    with hub.db.session() as session:
        rows = {r.key: json.loads(r.payload) for r in session.execute(select(OutboxAction)).scalars()}
    assert rows[f"identity:{challenge_id}:field"] == {"ticket_id": "42", "fields": {"Identity verified": True}}
    assert "Identity verified" in rows[f"identity:{challenge_id}:verified-note"]["body"]
    assert rows[f"identity:{challenge_id}:verified-note"]["public"] is False


def test_unknown_action_cannot_be_requested(hub):
    with pytest.raises(IdentityError, match="not a gated action"):
        request(hub, action="core_banking.send_notification")


def test_fraud_alert_may_freeze_without_verification(hub):
    class Freezer:
        @hookimpl
        def on_event(self, event, ctx):
            ctx.emit("core_banking", "freeze_card", {"card_id": "CARD-1", "customer_id": "CUST-1"}, key="fz")
    hub.pm.register(Freezer())
    with hub.db.session() as session:
        store_event(session, "banking", "e1", "fraud.alert.created", {"data": {}})
    process_next_event(hub, "t")
    with hub.db.session() as session:
        assert session.execute(select(OutboxAction).where(OutboxAction.key == "fz")).first() is not None


def test_tagged_ticket_and_event_request_codes(hub):
    def send(event_id, type_, data, source="zendesk"):
        with hub.db.session() as session:
            store_event(session, source, event_id, type_, {"data": data})
        while process_next_event(hub, "t"):
            pass
    ticket = {"system": "zendesk", "id": 7, "tags": ["verify_identity_refund"], "customer_id": "CUST-0003"}
    send("t1", "ticket.created", ticket)
    send("t2", "ticket.updated", ticket)
    send("r1", "identity.requested", {"customer_id": "CUST-0004", "action": UNFREEZE}, source="banking")
    with hub.db.session() as session:
        challenges = [(c.customer_id, c.action, c.ticket_id) for c in session.execute(
            select(Challenge).order_by(Challenge.created_at, Challenge.customer_id)).scalars()]
    assert sorted(challenges) == [("CUST-0003", REFUND, "7"), ("CUST-0004", UNFREEZE, None)]


def test_sent_code_is_scrubbed_from_the_outbox_after_sending(hub):
    from hub.pipeline import process_next_action

    class Bank:
        name = "core_banking"

        def execute(self, operation, payload, key):
            return {"id": "NTF-1"}

        def check(self):
            return {"ok": True}
    hub.connectors["core_banking"] = Bank()
    challenge_id, code = request(hub)
    while process_next_action(hub, "t"):
        pass
    with hub.db.session() as session:
        query = select(OutboxAction).where(OutboxAction.key == f"identity:{challenge_id}:code")
        row = session.execute(query).scalar_one()
        assert row.status == "done" and code not in row.payload


@pytest.mark.parametrize("system, expected", [
    ("salesforce", [("salesforce", "add_case_comment", "case_id")]),
    ("hubspot", [("hubspot", "update_ticket", "ticket_id"), ("hubspot", "add_note", "ticket_id")]),
])
def test_ticket_records_use_each_help_desks_operations(make_hub, now, system, expected):
    class Desk(FakeZendesk):
        name = system

    class Offer:
        @hookimpl
        def register_connectors(self, hub):
            return Desk()
    hub = make_hub({"plugins": {"identity": {}}}, plugins=[Offer()])
    with tx(hub) as ctx:
        created = request_verification(ctx, "CUST-0001", REFUND, "agent:test", system, "500X")
    code = sent_code(hub, created["challenge_id"])
    assert verify(hub, code, challenge_id=created["challenge_id"]).ok
    with hub.db.session() as session:
        rows = session.execute(select(OutboxAction).where(OutboxAction.system == system)
                               .order_by(OutboxAction.id)).scalars().all()
        found = [(r.system, r.operation, next(k for k in ("case_id", "ticket_id") if k in json.loads(r.payload)))
                 for r in rows]
    assert found == expected


def test_undeliverable_code_ends_the_challenge_with_a_ticket_note(hub):
    from hub.errors import PermanentError
    from hub.pipeline import process_next_action

    class Bank:
        name = "core_banking"

        def execute(self, operation, payload, key):
            raise PermanentError("core_banking answered 422: no_contact: customer has no sms contact", status=422)

        def check(self):
            return {"ok": True}
    hub.connectors["core_banking"] = Bank()
    challenge_id, code = request(hub, ticket="42")
    while process_next_action(hub, "t"):
        pass
    with hub.db.session() as session:
        assert session.get(Challenge, challenge_id).status == "undelivered"
        rows = {r.key: r for r in session.execute(select(OutboxAction)).scalars()}
        assert code not in rows[f"identity:{challenge_id}:code"].payload
        note = json.loads(rows[f"identity:{challenge_id}:undelivered-note"].payload)
    assert "could not be sent by sms" in note["body"] and "no sms contact" in note["body"]
    assert verify(hub, code, challenge_id=challenge_id).outcome == "expired"
