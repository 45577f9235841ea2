"""Signed webhooks into a real hub server (waitress, SQLite WAL): replays, concurrency, chunked bodies, sandbox."""

from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests
import stripe
from sqlalchemy import func, select

from hub.db import InboxEvent
from webhooks.verifiers import standard

pytestmark = pytest.mark.e2e

SECRET = "whsec_" + "ZTJlLWRlc2ticmlkZ2Utd2ViaG9vay1zZWNyZXQtMzI="
STRIPE_SECRET = "whsec_e2e_stripe"
CAP = 1024 * 1024
TIMEOUT = 10


@pytest.fixture
def running(make_hub, monkeypatch):
    from hub.sandbox.bank.state import DEFAULT_WEBHOOK_SECRET, SECRET_ENV
    from hub.server import start_hub_in_thread
    monkeypatch.delenv(SECRET_ENV, raising=False)
    hub = make_hub(overrides={"webhooks": {"banking_secrets": [SECRET, DEFAULT_WEBHOOK_SECRET],
                                           "stripe_secrets": [STRIPE_SECRET]}})
    server = start_hub_in_thread(hub, workers=True, scheduler=False)
    yield server
    server.stop()


def signed(event: dict, msg_id: str) -> tuple[bytes, dict]:
    body = json.dumps(event).encode()
    ts = int(time.time())
    return body, {"webhook-id": msg_id, "webhook-timestamp": str(ts), "Content-Type": "application/json",
                  "webhook-signature": standard.sign(SECRET, msg_id, ts, body)}


def fraud(event_id: str = "evt_e2e_1") -> dict:
    return {"id": event_id, "type": "fraud.alert.created", "created_at": "2026-11-28T12:00:00Z",
            "data": {"alert_id": "AL-9", "customer_id": "CUST-0001", "risk_score": 0.97, "reason": "card testing",
                     "amount": "120.00", "currency": "EUR", "card_last4": "4242"}}


def rows(hub, source: str | None = None) -> int:
    with hub.db.session() as session:
        query = select(func.count()).select_from(InboxEvent)
        if source:
            query = query.where(InboxEvent.source == source)
        return session.execute(query).scalar_one()


def test_100_serial_replays_store_one_event(running):
    body, headers = signed(fraud(), "msg_serial")
    with requests.Session() as session:
        codes = [session.post(running.url + "/webhooks/banking", data=body, headers=headers, timeout=TIMEOUT).status_code
                 for _ in range(100)]
    assert codes[0] == 202 and codes[1:] == [200] * 99
    assert rows(running.hub) == 1


def test_20_concurrent_replays_store_one_event(running):
    body, headers = signed(fraud(), "msg_concurrent")
    barrier = threading.Barrier(20)
    codes: list[int] = []

    def deliver():
        with requests.Session() as session:
            barrier.wait(TIMEOUT)
            codes.append(session.post(running.url + "/webhooks/banking", data=body, headers=headers,
                                      timeout=TIMEOUT).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert sorted(codes) == [200] * 19 + [202]
    assert rows(running.hub) == 1


def _chunked_post(url: str, chunks, headers: dict) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        conn.request("POST", "/webhooks/banking", body=iter(chunks), headers=headers, encode_chunked=True)
        return conn.getresponse().status
    finally:
        conn.close()


def test_chunked_bodies_are_capped_without_content_length(running):
    body, headers = signed(fraud("evt_chunked"), "msg_chunked")
    small = [body[:10], body[10:]]
    assert _chunked_post(running.url, small, headers) == 202
    big = [b" " * 65536] * (CAP // 65536 + 1)
    assert _chunked_post(running.url, big, headers) == 413
    assert rows(running.hub) == 1


def test_oversize_with_content_length_is_413(running):
    body = b"x" * (CAP + 1)
    response = requests.post(running.url + "/webhooks/banking", data=body, timeout=TIMEOUT,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert rows(running.hub) == 0


def test_failure_modes_over_the_wire(running):
    url = running.url + "/webhooks/banking"
    body, headers = signed(fraud(), "msg_modes")
    flipped = bytearray(body)
    flipped[5] ^= 1
    assert requests.post(url, data=bytes(flipped), headers=headers, timeout=TIMEOUT).status_code == 401
    stale = dict(headers, **{"webhook-timestamp": str(int(time.time()) - 301)})
    assert requests.post(url, data=body, headers=stale, timeout=TIMEOUT).status_code == 401
    bad_json, bad_headers = b"{oops", signed(fraud(), "x")[1]
    bad_headers["webhook-signature"] = standard.sign(SECRET, "x", int(bad_headers["webhook-timestamp"]), bad_json)
    assert requests.post(url, data=bad_json, headers=bad_headers, timeout=TIMEOUT).status_code == 400
    event = fraud()
    event["data"]["risk_score"] = 1.7
    body, headers = signed(event, "msg_schema")
    response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 422 and response.json()["field"] == "data.risk_score"
    assert rows(running.hub) == 0


def test_stripe_sdk_signed_event_is_stored_mapped(running):
    event = {"id": "evt_stripe_e2e", "object": "event", "type": "charge.dispute.created", "created": int(time.time()),
             "data": {"object": {"id": "dp_1", "object": "dispute", "amount": 2500, "currency": "eur",
                                 "charge": "ch_1", "status": "needs_response", "reason": "fraudulent",
                                 "metadata": {"customer_id": "CUST-0003"}, "evidence_details": {"due_by": None}}}}
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, STRIPE_SECRET)
    response = requests.post(running.url + "/webhooks/stripe", data=payload.encode(), timeout=TIMEOUT,
                             headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    assert response.status_code == 202
    with running.hub.db.session() as session:
        row = session.execute(select(InboxEvent).where(InboxEvent.source == "stripe")).scalar_one()
    assert row.type == "dispute.opened"
    assert json.loads(row.payload)["data"]["amount"] == "25.00"


def test_sandbox_bank_event_is_verified_and_stored(running):
    from hub.sandbox.server import start_in_thread
    sandbox = start_in_thread(webhook_target=running.url + "/webhooks/banking")
    try:
        data = {"alert_id": "AL-SBX", "customer_id": "CUST-0001", "risk_score": 0.9, "reason": "velocity"}
        emitted = requests.post(sandbox.url + "/_sandbox/bank/events", timeout=TIMEOUT,
                                json={"type": "fraud.alert.created", "data": data})
        assert emitted.status_code == 201
        event_id = emitted.json()["id"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and rows(running.hub, "banking") == 0:
            time.sleep(0.05)
        with running.hub.db.session() as session:
            row = session.execute(select(InboxEvent).where(InboxEvent.source == "banking")).scalar_one()
        assert (row.event_id, row.type) == (event_id, "fraud.alert.created")
    finally:
        sandbox.stop()


def _wait_for_rows(hub, source: str, minimum: int = 1, seconds: float = 10) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and rows(hub, source) < minimum:
        time.sleep(0.05)
    return rows(hub, source)


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_vendor_emulator_webhooks_are_verified_and_stored(make_hub):
    """The sandbox's Zendesk, HubSpot and Salesforce emulators sign like the vendors; the hub accepts them."""
    from hub.sandbox.salesforce import ORG_ID
    from hub.sandbox.server import start_in_thread
    from hub.server import start_hub_in_thread
    sandbox = start_in_thread()
    port = _free_port()
    hub_url = f"http://127.0.0.1:{port}"
    zd_auth = ("agent@sandbox.test/token", "sandbox-token")
    try:
        hook = requests.post(sandbox.url + "/api/v2/webhooks", auth=zd_auth, timeout=TIMEOUT, json={"webhook": {
            "name": "hub", "endpoint": hub_url + "/webhooks/zendesk", "http_method": "POST",
            "request_format": "json", "status": "active", "subscriptions": ["zen:event-type:ticket.created"]}})
        assert hook.status_code == 201, hook.text
        secret = requests.get(f"{sandbox.url}/api/v2/webhooks/{hook.json()['webhook']['id']}/signing_secret",
                              auth=zd_auth, timeout=TIMEOUT).json()["signing_secret"]["secret"]
        hub = make_hub(overrides={"public_url": hub_url, "webhooks": {
            "zendesk_secrets": [secret], "hubspot_client_secrets": ["hs-e2e-secret"], "salesforce_org_ids": [ORG_ID]}})
        running = start_hub_in_thread(hub, port=port, workers=False, scheduler=False)
        try:
            ticket = requests.post(sandbox.url + "/api/v2/tickets.json", auth=zd_auth, timeout=TIMEOUT,
                                   json={"ticket": {"subject": "Card declined", "comment": {"body": "help"}}})
            assert ticket.status_code == 201, ticket.text
            assert _wait_for_rows(hub, "zendesk") >= 1

            subscribed = requests.post(sandbox.url + "/_sandbox/hubspot/subscriptions", timeout=TIMEOUT, json={
                "targetUrl": hub_url + "/webhooks/hubspot", "clientSecret": "hs-e2e-secret"})
            assert subscribed.status_code == 201, subscribed.text
            contact = requests.post(sandbox.url + "/crm/v3/objects/contacts", timeout=TIMEOUT,
                                    headers={"Authorization": "Bearer sandbox-token"},
                                    json={"properties": {"email": "e2e@example.com", "firstname": "Ada"}})
            assert contact.status_code == 201, contact.text
            assert _wait_for_rows(hub, "hubspot") >= 1

            listener = requests.post(sandbox.url + "/_sandbox/salesforce/outbound", timeout=TIMEOUT,
                                     json={"url": hub_url + "/webhooks/salesforce", "object": "Case"})
            assert listener.status_code in (200, 201), listener.text
            case = requests.post(sandbox.url + "/services/data/v59.0/sobjects/Case", timeout=TIMEOUT,
                                 headers={"Authorization": "Bearer sandbox-session"},
                                 json={"Subject": "Dispute on card payment", "Status": "New"})
            assert case.status_code == 201, case.text
            assert _wait_for_rows(hub, "salesforce") == 1
            with hub.db.session() as session:
                stored = session.execute(select(InboxEvent).where(InboxEvent.source == "salesforce")).scalar_one()
            assert stored.type == "outbound_message.Case"
            assert json.loads(stored.payload)["fields"]["Id"] == case.json()["id"]
        finally:
            running.stop()
    finally:
        sandbox.stop()
