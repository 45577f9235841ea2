"""Identity step-up end to end: a real hub server and the sandbox (bank + Zendesk), codes read from the bank's
notifications, the customer page over HTTP, the Zendesk ticket updated, a gated refund allowed exactly once."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from hub import clock
from hub.api import create_token
from hub.db import AuditEntry, OutboxAction

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TIMEOUT = 10
CUSTOMER = "CUST-0001"
REFUND = "core_banking.create_refund"


@pytest.fixture(scope="module")
def sandbox():
    from hub.sandbox.server import start_in_thread
    running = start_in_thread(port=0, systems=("bank", "zendesk"))
    requests.post(f"{running.url}/_sandbox/seed", timeout=60).raise_for_status()
    yield running
    running.stop()


@pytest.fixture
def running(make_hub, sandbox):
    from hub.server import start_hub_in_thread
    hub = make_hub({
        "connectors": {
            "zendesk": {"base_url": sandbox.url, "subdomain": "sandbox", "email": "agent@sandbox.test",
                        "token": "sandbox-token"},
            "core_banking": {"base_url": f"{sandbox.url}/bank/v1", "api_key": "sandbox-key"}},
        "plugins": {"identity": {"max_failures": 3}},
    })
    server = start_hub_in_thread(hub, workers=True, scheduler=False)
    yield server
    clock.set_clock(None)
    server.stop()


def wait_for(predicate, what: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def outbox_done(hub, key: str) -> bool:
    with hub.db.session() as session:
        row = session.execute(select(OutboxAction).where(OutboxAction.key == key)).scalar_one_or_none()
        assert row is None or row.status != "dead", row and row.last_error
        return row is not None and row.status == "done"


def latest_code(sandbox, running, seen: int) -> tuple[str, str]:
    """The newest identity notification for the customer, as the bank delivered it: (code, page URL)."""
    def fetch():
        items = requests.get(f"{sandbox.url}/_sandbox/bank/notifications", timeout=TIMEOUT,
                             params={"customer_id": CUSTOMER}).json()["notifications"]
        codes = [n for n in items if n["template"] == "identity_code"]
        return codes[-1] if len(codes) > seen else None
    note = wait_for(fetch, "the code notification")
    code = re.search(r"code is (\d{6})", note["message"]).group(1)
    path = re.search(r"https?://[^/]+(/s/verify/\S+)", note["message"]).group(1)
    return code, running.url + path


def zendesk_ticket(running) -> dict:
    zd = running.hub.connectors["zendesk"]
    user = zd.client.get_json("users/search.json", {"external_id": CUSTOMER})["users"][0]
    created = zd.execute("upsert_ticket", {"external_id": "E2E-IDENTITY-1", "ticket": {
        "subject": "Please refund the duplicate charge", "comment": {"body": "I was charged twice."},
        "requester_id": user["id"]}}, "e2e-identity-ticket")
    return {"id": int(created["id"])}


def submit(session: requests.Session, url: str, code: str) -> requests.Response:
    form = session.get(url, timeout=TIMEOUT)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return session.post(url, data={"code": code, "csrf": token}, timeout=TIMEOUT)


def ask(running, auth, ticket_id=None, action=REFUND) -> requests.Response:
    body = {"customer_id": CUSTOMER, "action": action}
    if ticket_id:
        body.update(ticket_system="zendesk", ticket_id=str(ticket_id))
    return requests.post(f"{running.url}/api/v1/identity/requests", json=body, headers=auth, timeout=TIMEOUT)


def refund(hub, key: str, transaction_id: str) -> None:
    hub.emit("core_banking", "create_refund", {"transaction_id": transaction_id, "amount": "1.00",
                                               "reason": "requested_by_customer", "customer_id": CUSTOMER}, key=key)


def posted_transaction(hub) -> str:
    bank = hub.connectors["core_banking"]
    txns = [t for page in bank.client.pages(f"customers/{CUSTOMER}/transactions") for t in page]
    return next(t["id"] for t in txns if t["status"] == "posted" and float(t["amount"]) <= -1)


def test_step_up_flow_over_http(running, sandbox):
    from hub.pipeline import ActionRefused
    hub = running.hub
    auth = {"Authorization": "Bearer " + create_token(hub, "agent", ["admin"])}
    ticket = zendesk_ticket(running)
    seen = len([n for n in requests.get(f"{sandbox.url}/_sandbox/bank/notifications", timeout=TIMEOUT,
                                        params={"customer_id": CUSTOMER}).json()["notifications"]
                if n["template"] == "identity_code"])
    txn = posted_transaction(hub)

    # No verification yet: the refund is refused and never reaches the outbox.
    with pytest.raises(ActionRefused, match="identity not verified"):
        refund(hub, "refund-0", txn)

    # A wrong code is refused on the page; the right one verifies; reusing it is refused.
    assert ask(running, auth, ticket["id"]).status_code == 201
    code, url = latest_code(sandbox, running, seen)
    customer = requests.Session()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert submit(customer, url, wrong).status_code == 422
    assert submit(customer, url, code).status_code == 200
    assert submit(customer, url, code).status_code == 410

    # The ticket shows it: the "Identity verified" field and an internal note.
    challenge = re.search(r"identity:(\w+):code", next(
        r.key for r in _outbox(hub) if r.key.startswith("identity:") and r.key.endswith(":code"))).group(1)
    wait_for(lambda: outbox_done(hub, f"identity:{challenge}:field") and
             outbox_done(hub, f"identity:{challenge}:verified-note"), "ticket updates")
    zd = hub.connectors["zendesk"]
    shown = zd.client.get_json(f"tickets/{ticket['id']}.json")["ticket"]
    field_id = zd.directory.field_id("Identity verified")
    assert {"id": field_id, "value": True} in shown["custom_fields"]
    notes = [c for c in zd.read_comments(ticket["id"]) if c["body"].startswith("Identity verified")]
    assert len(notes) == 1 and notes[0]["public"] is False

    # The verification is consumed by exactly one refund, which the bank then carries out.
    refund(hub, "refund-1", txn)
    with pytest.raises(ActionRefused):
        refund(hub, "refund-2", txn)
    wait_for(lambda: outbox_done(hub, "refund-1"), "the refund")

    # Wrong action: a code for unfreezing does not allow a refund.
    assert ask(running, auth, action="core_banking.unfreeze_card").status_code == 201
    code, url = latest_code(sandbox, running, seen + 1)
    assert submit(requests.Session(), url, code).status_code == 200
    with pytest.raises(ActionRefused):
        refund(hub, "refund-3", txn)

    # Expired: a code entered after five minutes is refused.
    assert ask(running, auth).status_code == 201
    code, _ = latest_code(sandbox, running, seen + 2)
    later = clock.now() + timedelta(minutes=5, seconds=5)
    clock.set_clock(lambda: later)
    expired = requests.post(f"{running.url}/api/v1/identity/verify", headers=auth, timeout=TIMEOUT, json={
        "customer_id": CUSTOMER, "action": REFUND, "code": code})
    assert expired.status_code == 403 and expired.json()["outcome"] == "expired"
    clock.set_clock(None)

    # Wrong customer: the code of CUST-0001 entered for CUST-0002 is refused.
    assert ask(running, auth).status_code == 201
    code, url = latest_code(sandbox, running, seen + 3)
    other = requests.post(f"{running.url}/api/v1/identity/verify", headers=auth, timeout=TIMEOUT, json={
        "customer_id": "CUST-0002", "action": REFUND, "code": code})
    assert other.status_code in (403, 404) and other.json()["verified"] is False

    # Lockout after three wrong codes; the audit log shows every attempt.
    for expected in (422, 422, 423):
        assert submit(requests.Session(), url, f"{(int(code) + 7) % 1_000_000:06d}").status_code == expected
    assert submit(requests.Session(), url, code).status_code == 423
    assert ask(running, auth).status_code == 423
    with hub.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action.in_(
            ["identity.verify", "identity.lockout"])).order_by(AuditEntry.id)).scalars().all()
        trail = [(r.action, r.outcome) for r in rows]
    assert trail.count(("identity.verify", "ok")) == 2
    assert trail.count(("identity.lockout", "locked")) == 1
    # wrong, right, reused, unfreeze, expired, other customer, three wrong, right-but-locked
    assert len([t for t in trail if t[0] == "identity.verify"]) == 10
    assert requests.get(f"{running.url}/api/v1/audit/verify", headers=auth, timeout=TIMEOUT).json()["ok"]


def _outbox(hub):
    with hub.db.session() as session:
        rows = session.execute(select(OutboxAction).order_by(OutboxAction.id)).scalars().all()
        for row in rows:
            session.expunge(row)
        return rows
