"""Payout details change end to end: a real hub server with workers and the sandbox (bank + Zendesk). Support asks
through the API, the customer gets the code from the bank, enters it on /s/verify, and only then the bank's
payout account changes — once; the ticket gets the note; the bank tells the customer."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from hub.api import create_token
from hub.db import AuditEntry, OutboxAction
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
