"""Payout details change: requested by support, sent to the bank only after the customer's fresh verification,
once; the full IBAN is never in the hub's tables in clear, and its sealed copy goes once the bank has it; a
dead-lettered change replays the same verified request with the same key within the replay window, and not after;
refusals and failures audited."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hub import clock
from hub.api import create_token
from hub.app import create_app
from hub.db import AuditEntry, DeadLetter, InboxEvent, OutboxAction, PluginState
from hub.errors import PermanentError, RetryableError
from hub.hookspecs import hookimpl
from hub.pipeline import ActionRefused, EventContext, process_next_action, replay_dead_letters
from plugins.identity.payouts import PayoutError, normalise_iban, purge
from plugins.identity.service import verify_code

pytestmark = pytest.mark.unit
IBAN = "GB82 WEST 1234 5698 7654 32"  # the ISO 13616 example IBAN
FULL = "GB82WEST12345698765432"
OTHER = "DE89370400440532013000"  # the ISO 13616 German example
CUSTOMER = "CUST-0001"
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


class FakeBank:
    name = "core_banking"

    def __init__(self):
        self.calls: list[tuple[str, dict, str]] = []
        self.refuse = False
        self.down = False

    def execute(self, operation, payload, key):
        self.calls.append((operation, dict(payload), key))
        if operation == "update_payout_details":
            if self.refuse:
                raise PermanentError("core_banking: 409 customer_closed", status=409)
            if self.down:
                raise RetryableError("core_banking: 503 service_unavailable", status=503)
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


@pytest.fixture
def now():
    moment = {"t": T0}
    clock.set_clock(lambda: moment["t"])
    yield moment
    clock.set_clock(None)


def drain_until_settled(hub, now) -> None:
    """Run the outbox, letting the clock pass each retry's backoff, until no action is pending."""
    for _ in range(20):
        drain(hub)
        if not [r for r in outbox(hub) if r.status == "pending"]:
            return
        now["t"] += timedelta(hours=1)
    raise AssertionError("actions still pending")


def stored_text(hub) -> list[str]:
    """Everything the hub's tables hold that could carry a payout change's details."""
    with hub.db.session() as session:
        texts = [r.payload + (r.result or "") for r in session.execute(select(OutboxAction)).scalars()]
        texts += [r.value for r in session.execute(select(PluginState)).scalars()]
        texts += [r.detail or "" for r in session.execute(select(AuditEntry)).scalars()]
        texts += [r.reason for r in session.execute(select(DeadLetter)).scalars()]
        texts += [r.payload for r in session.execute(select(InboxEvent)).scalars()]
    return texts


def change(hub, challenge_id: str) -> dict:
    with hub.db.session() as session:
        return json.loads(session.get(PluginState, ("identity", f"payout:{challenge_id}")).value)


def bank_changes(systems) -> list[tuple[dict, str]]:
    return [(payload, key) for operation, payload, key in systems.bank.calls if operation == "update_payout_details"]


def dead_change(hub, api, systems, now, **extra) -> dict:
    """A verified change the bank never answered (down through every attempt): dead-lettered at T0 + a few hours."""
    systems.bank.down = True
    created = ask(api, **extra).get_json()
    assert verify(api, code_of(hub, created["challenge_id"])).status_code == 200
    drain_until_settled(hub, now)
    (row,) = [r for r in outbox(hub, "update_payout_details") if r.key == f"payout:{created['challenge_id']}"]
    assert row.status == "dead" and "gave up after" in row.last_error
    systems.bank.down = False
    return created


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
    answer = ask(api, bic="westgb22")
    assert answer.status_code == 202, answer.get_json()
    created = answer.get_json()
    assert created["status"] == "awaiting_verification" and created["iban_last4"] == "5432"
    assert outbox(hub, "update_payout_details") == []  # nothing goes to the bank before the code
    # While it waits, the change's details are in the hub only encrypted (holder, IBAN and BIC).
    assert not any(FULL in text or "Ada Lovelace" in text or "WESTGB22" in text for text in stored_text(hub))
    pending = change(hub, created["challenge_id"])
    assert pending["iban_last4"] == "5432" and set(pending["sealed"]) == {"v", "alg", "kcv", "nonce", "ciphertext"}
    code = code_of(hub, created["challenge_id"])
    assert verify(api, code).status_code == 200
    (action,) = outbox(hub, "update_payout_details")
    assert action.key == f"payout:{created['challenge_id']}"
    assert json.loads(action.payload) == {"customer_id": CUSTOMER, "challenge": created["challenge_id"],
                                          "iban_last4": "5432"}  # the queued action holds no details at all
    drain(hub)
    ((payload, key),) = bank_changes(systems)  # opened at send time
    assert payload == {"customer_id": CUSTOMER, "account_holder": "Ada Lovelace", "iban": FULL, "bic": "WESTGB22"}
    assert key == f"payout:{created['challenge_id']}"
    # Once the bank has it, not even the encrypted copy is left.
    assert not any(FULL in text or "Ada Lovelace" in text for text in stored_text(hub))
    assert "sealed" not in change(hub, created["challenge_id"])
    assert change(hub, created["challenge_id"])["status"] == "done"
    ((outcome, detail),) = audit(hub, "payout.update")
    assert outcome == "ok" and detail["iban_last4"] == "5432"
    notes = [json.loads(r.payload) for r in outbox(hub) if r.key.endswith(":done-note")]
    assert len(notes) == 1 and "ending 5432" in notes[0]["body"]
    # The verification was used by this change: the same code cannot send another one.
    assert verify(api, code).get_json()["outcome"] == "used"
    assert len(outbox(hub, "update_payout_details")) == 1
    assert len(bank_changes(systems)) == 1


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
    assert action.status == "dead" and not any(FULL in text for text in stored_text(hub))
    ((outcome, detail),) = audit(hub, "payout.update")
    assert outcome == "failed" and "409" in detail["reason"]
    (note,) = [json.loads(r.payload)["body"] for r in outbox(hub) if r.key.endswith(":failed-note")]
    assert "409" in note and "replay it from the dead-letter queue until" in note


def test_a_dead_lettered_change_is_replayed_once_with_the_same_key_and_verified_details(hub, api, systems, now):
    created = dead_change(hub, api, systems, now)
    key = f"payout:{created['challenge_id']}"
    tries = bank_changes(systems)
    assert len(tries) == 4 and all(t == tries[0] for t in tries)  # every attempt the same request, same key
    failed = change(hub, created["challenge_id"])
    assert failed["status"] == "failed" and failed["sealed"] and failed["dead_at"]
    assert not any(FULL in text for text in stored_text(hub))  # dead-lettered: kept for a replay, encrypted only
    # `deskbridge dlq replay` and the API replay both call replay_dead_letters.
    now["t"] += timedelta(days=6)
    assert replay_dead_letters(hub) >= 1
    drain(hub)
    payload, sent_key = bank_changes(systems)[-1]
    assert len(bank_changes(systems)) == 5 and sent_key == key
    assert payload == {"customer_id": CUSTOMER, "account_holder": "Ada Lovelace", "iban": FULL}
    assert [r.status for r in outbox(hub, "update_payout_details")] == ["done"]
    assert [o for o, _ in audit(hub, "payout.update")] == ["failed", "ok"]
    assert change(hub, created["challenge_id"])["status"] == "done"
    assert not any(FULL in text or "Ada Lovelace" in text for text in stored_text(hub))
    # Replaying again (the letter is spent, the change done) sends nothing more.
    replay_dead_letters(hub)
    drain(hub)
    assert len(bank_changes(systems)) == 5


@pytest.mark.parametrize("purge_job_ran", [True, False])
def test_after_the_replay_window_the_details_are_purged_and_a_replay_says_why(hub, api, systems, now,
                                                                           purge_job_ran):
    created = dead_change(hub, api, systems, now)
    dead_at = clock.parse_time(change(hub, created["challenge_id"])["dead_at"])
    sent = len(bank_changes(systems))
    now["t"] = dead_at + timedelta(days=7) - timedelta(seconds=1)
    assert purge(hub) == 0 and change(hub, created["challenge_id"])["sealed"]  # still within the window
    now["t"] = dead_at + timedelta(days=7, seconds=1)
    if purge_job_ran:
        assert purge(hub) == 1
        purged = change(hub, created["challenge_id"])
        assert "sealed" not in purged and purged["purged_at"]
        ((outcome, detail),) = audit(hub, "payout.purge")
        assert outcome == "ok" and detail["reason"] == "replay window over"
    replay_dead_letters(hub)
    drain(hub)
    assert len(bank_changes(systems)) == sent  # nothing reached the bank
    (row,) = outbox(hub, "update_payout_details")
    assert row.status == "dead"
    assert "more than 7 days ago" in row.last_error and "can no longer be replayed" in row.last_error
    assert "request the change again" in row.last_error
    assert "sealed" not in change(hub, created["challenge_id"])  # purged either way
    assert [o for o, _ in audit(hub, "payout.update")] == ["failed", "failed"]


def test_the_replay_window_is_configurable(make_hub, systems, now):
    hub = make_hub({"plugins": {"identity": {"payout_replay_days": 1}}}, plugins=[systems])
    client = create_app(hub=hub).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + create_token(hub, "support", ["admin"])
    created = dead_change(hub, client, systems, now)
    now["t"] = clock.parse_time(change(hub, created["challenge_id"])["dead_at"]) + timedelta(days=1, seconds=1)
    assert purge(hub) == 1


def test_a_replay_cannot_stand_in_for_a_verification(hub, api, systems, now):
    """Only the verified change itself goes out again: no new verification-free send of it, and its sealed
    details do not open for another change."""
    first = dead_change(hub, api, systems, now)
    # Emitting the send again under a new key needs a fresh verification of that challenge: it was used.
    with hub.db.session() as session, pytest.raises(ActionRefused, match="identity not verified"):
        EventContext(hub, session).emit("identity", "update_payout_details", {
            "customer_id": CUSTOMER, "challenge": first["challenge_id"]}, key="payout-again")
    # A change that was requested but never verified cannot be pushed out by emitting its send either.
    unverified = ask(api, iban="DE89 3704 0044 0532 0130 00").get_json()
    with hub.db.session() as session, pytest.raises(ActionRefused, match="identity not verified"):
        EventContext(hub, session).emit("identity", "update_payout_details", {
            "customer_id": CUSTOMER, "challenge": unverified["challenge_id"]},
            key=f"payout:{unverified['challenge_id']}")
    # Someone with database access moves another change's sealed details onto the dead one: it does not open.
    second = dead_change(hub, api, systems, now, iban="DE89 3704 0044 0532 0130 00")
    with hub.db.session() as session:
        rows = {c: session.get(PluginState, ("identity", f"payout:{c}")) for c in (first["challenge_id"],
                                                                                   second["challenge_id"])}
        moved = json.loads(rows[second["challenge_id"]].value)["sealed"]
        rows[first["challenge_id"]].value = json.dumps({**json.loads(rows[first["challenge_id"]].value),
                                                        "sealed": moved})
    sent = len(bank_changes(systems))
    with hub.db.session() as session:
        (letter,) = session.execute(select(DeadLetter.id).join(
            OutboxAction, OutboxAction.id == DeadLetter.ref_id).where(
            OutboxAction.key == f"payout:{first['challenge_id']}")).scalars().all()
    replay_dead_letters(hub, [letter])
    drain(hub)
    assert len(bank_changes(systems)) == sent
    (row,) = [r for r in outbox(hub) if r.key == f"payout:{first['challenge_id']}"]
    assert row.status == "dead" and "do not open for this change" in row.last_error


def test_details_of_a_change_never_verified_are_purged(hub, api, now):
    expired = ask(api).get_json()
    now["t"] += timedelta(minutes=4)
    older = ask(api, customer_id="CUST-0002").get_json()
    newer = ask(api, customer_id="CUST-0002", iban="DE89 3704 0044 0532 0130 00").get_json()  # supersedes older
    now["t"] += timedelta(minutes=2)  # the first code has expired (5 minutes); the newest is still valid
    assert purge(hub) == 2
    assert change(hub, expired["challenge_id"])["status"] == "not_verified"
    assert "sealed" not in change(hub, expired["challenge_id"])
    assert "sealed" not in change(hub, older["challenge_id"])
    assert change(hub, newer["challenge_id"])["sealed"]
    assert sorted(d["reason"] for _, d in audit(hub, "payout.purge")) == ["never verified"] * 2
