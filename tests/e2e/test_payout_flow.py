"""Payout details change end to end: a real hub server with workers and the sandbox (bank + Zendesk). Support asks
through the API, the customer gets the code from the bank, enters it on /s/verify, and only then the bank's
payout account changes — once; the ticket gets the note; the bank tells the customer. A change the bank never
answered is dead-lettered and replayed through the API — the same verified change, once — within the replay
window; after it, the replay fails saying why and nothing reaches the bank."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from hub import clock
from hub.api import create_token
from hub.db import AuditEntry, DeadLetter, OutboxAction, PluginState
from tests.e2e.test_identity_flow import (  # noqa: F401 - fixtures
    CUSTOMER, TIMEOUT, latest_code, running, sandbox, submit, wait_for, zendesk_ticket)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PAYOUT = "core_banking.update_payout_details"
IBAN = "DE89 3704 0044 0532 0130 00"


def payout_details(sandbox) -> dict | None:
    answer = requests.get(f"{sandbox.url}/bank/v1/customers/{CUSTOMER}/payout-details", timeout=TIMEOUT,
                          headers={"Authorization": "Bearer sandbox-key"})
    return answer.json() if answer.status_code == 200 else None


def test_payout_details_change_only_after_the_customer_verifies(running, sandbox):
    hub = running.hub
    auth = {"Authorization": "Bearer " + create_token(hub, "support", ["admin"])}
    ticket = zendesk_ticket(running)
    before = payout_details(sandbox)
    seen = len([n for n in requests.get(f"{sandbox.url}/_sandbox/bank/notifications", timeout=TIMEOUT,
                                        params={"customer_id": CUSTOMER}).json()["notifications"]
                if n["template"] == "identity_code"])
    asked = requests.post(f"{running.url}/api/v1/identity/payout-changes", headers=auth, timeout=TIMEOUT, json={
        "customer_id": CUSTOMER, "account_holder": "Ada Lovelace", "iban": IBAN,
        "ticket_system": "zendesk", "ticket_id": str(ticket["id"])})
    assert asked.status_code == 202, asked.text
    code, page = latest_code(sandbox, running, seen)
    assert payout_details(sandbox) == before  # nothing changes at the bank before the code

    customer = requests.Session()
    wrong = submit(customer, page, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 422 and payout_details(sandbox) == before
    assert submit(customer, page, code).status_code == 200
    changed = wait_for(lambda: (payout_details(sandbox) or {}).get("iban_last4") == "3000" and
                       payout_details(sandbox), "the bank's payout account to change")
    assert changed["account_holder"] == "Ada Lovelace" and "iban" not in changed

    def noted():
        comments = hub.connectors["zendesk"].read_comments(ticket["id"])
        return [c for c in comments if "Payout details changed" in (c.get("body") or "")]
    assert len(wait_for(noted, "the ticket note")) == 1
    notices = requests.get(f"{sandbox.url}/_sandbox/bank/notifications", timeout=TIMEOUT,
                           params={"customer_id": CUSTOMER}).json()["notifications"]
    assert [n for n in notices if n["template"] == "payout_details_changed" and "ending 3000" in n["message"]]
    with hub.db.session() as session:
        actions = session.execute(select(OutboxAction).where(OutboxAction.operation == "update_payout_details")
                                  ).scalars().all()
        assert len(actions) == 1 and "DE89370400440532013000" not in actions[0].payload
        trail = [(r.action, r.outcome) for r in session.execute(select(AuditEntry).where(AuditEntry.action.in_(
            ["payout.request", "identity.verify", "identity.consume", "payout.update"])).order_by(AuditEntry.id)
        ).scalars()]
    assert trail == [("payout.request", "ok"), ("identity.verify", "refused"), ("identity.verify", "ok"),
                     ("identity.consume", "ok"), ("payout.update", "ok")]
    # The code is spent: entering it again changes nothing.
    assert submit(requests.Session(), page, code).status_code == 410


@pytest.fixture
def impatient(make_hub, sandbox):
    """A hub that gives up on an action after two quick attempts (the bank is down for the whole test)."""
    from hub.server import start_hub_in_thread
    hub = make_hub({
        "connectors": {"core_banking": {"base_url": f"{sandbox.url}/bank/v1", "api_key": "sandbox-key"}},
        "plugins": {"identity": {}},
        "workers": {"max_attempts": 2, "backoff_base": 0.01, "backoff_cap": 0.05},
    })
    server = start_hub_in_thread(hub, workers=True, scheduler=False)
    yield server
    clock.set_clock(None)
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=TIMEOUT)
    server.stop()


def _dead_change(server, sandbox, auth, iban: str) -> OutboxAction:
    """Ask for a change, let the customer verify it while the bank answers 500 to everything: dead-lettered."""
    seen = len([n for n in requests.get(f"{sandbox.url}/_sandbox/bank/notifications", timeout=TIMEOUT,
                                        params={"customer_id": CUSTOMER}).json()["notifications"]
                if n["template"] == "identity_code"])
    asked = requests.post(f"{server.url}/api/v1/identity/payout-changes", headers=auth, timeout=TIMEOUT, json={
        "customer_id": CUSTOMER, "account_holder": "Grace Hopper", "iban": iban})
    assert asked.status_code == 202, asked.text
    code, page = latest_code(sandbox, server, seen)
    down = requests.post(f"{sandbox.url}/_sandbox/faults", timeout=TIMEOUT, json={
        "system": "bank", "rate": 1.0, "kinds": ["500"], "retry_after": 0})
    assert down.status_code == 200, down.text
    assert submit(requests.Session(), page, code).status_code == 200
    key = f"payout:{asked.json()['challenge_id']}"

    def dead():
        with server.hub.db.session() as session:
            row = session.execute(select(OutboxAction).where(OutboxAction.key == key)).scalar_one_or_none()
            session.expunge_all()
            return row if row is not None and row.status == "dead" else None
    row = wait_for(dead, "the payout change to be dead-lettered")
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=TIMEOUT)
    return row


def _replay(server, auth, row: OutboxAction) -> None:
    with server.hub.db.session() as session:
        ids = session.execute(select(DeadLetter.id).where(DeadLetter.ref_id == row.id, DeadLetter.kind == "outbox",
                                                          DeadLetter.replayed_at.is_(None))).scalars().all()
    answer = requests.post(f"{server.url}/api/v1/dead-letters/replay", headers=auth, json={"ids": ids},
                           timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.json()["replayed"] == 1, answer.text


def _changed_notices(sandbox, last4: str) -> int:
    notices = requests.get(f"{sandbox.url}/_sandbox/bank/notifications", timeout=TIMEOUT,
                           params={"customer_id": CUSTOMER}).json()["notifications"]
    return len([n for n in notices if n["template"] == "payout_details_changed" and f"ending {last4}" in n["message"]])


def test_a_dead_lettered_change_is_replayed_within_the_window_and_refused_after(impatient, sandbox):
    hub = impatient.hub
    auth = {"Authorization": "Bearer " + create_token(hub, "support", ["admin"])}
    before, notified = payout_details(sandbox), _changed_notices(sandbox, "5432")
    row = _dead_change(impatient, sandbox, auth, "GB82 WEST 1234 5698 7654 32")
    assert payout_details(sandbox) == before and "gave up after 2 attempts" in row.last_error

    _replay(impatient, auth, row)
    changed = wait_for(lambda: (payout_details(sandbox) or {}).get("iban_last4") == "5432" and
                       payout_details(sandbox), "the replayed change to reach the bank")
    assert changed["account_holder"] == "Grace Hopper"
    wait_for(lambda: _updates(hub) == ["failed", "ok"], "the change to be recorded done")
    assert _changed_notices(sandbox, "5432") == notified + 1  # the bank changed the account once
    with hub.db.session() as session:
        stored = [r.value for r in session.execute(select(PluginState)).scalars()]
        stored += [r.payload for r in session.execute(select(OutboxAction)).scalars()]
    assert not any("GB82WEST12345698765432" in text or "sealed" in text for text in stored)

    # A second change dead-lettered, then replayed after the window: refused with the reason, the bank untouched.
    notified = _changed_notices(sandbox, "3000")
    row = _dead_change(impatient, sandbox, auth, "DE89 3704 0044 0532 0130 00")
    later = clock.now() + timedelta(days=7, minutes=1)
    clock.set_clock(lambda: later)
    _replay(impatient, auth, row)

    def refused_again():
        with hub.db.session() as session:
            letters = session.execute(select(DeadLetter).where(DeadLetter.ref_id == row.id)).scalars().all()
            return letters[-1].reason if len(letters) == 2 else None
    reason = wait_for(refused_again, "the late replay to be dead-lettered again")
    assert "more than 7 days ago" in reason and "can no longer be replayed" in reason
    assert (payout_details(sandbox) or {}).get("iban_last4") == "5432"
    assert _changed_notices(sandbox, "3000") == notified and _updates(hub) == ["failed", "ok", "failed", "failed"]


def _updates(hub) -> list[str]:
    with hub.db.session() as session:
        return [r.outcome for r in session.execute(select(AuditEntry).where(AuditEntry.action == "payout.update")
                                                   .order_by(AuditEntry.id)).scalars()]
