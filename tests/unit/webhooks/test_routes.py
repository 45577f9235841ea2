"""Webhook intake routes through the Flask test client: one test per failure mode, no 5xx under fuzzing."""

from __future__ import annotations

import json
import random
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hub import clock
from hub.db import InboxEvent
from webhooks.verifiers import hubspot as hs
from webhooks.verifiers import standard, zendesk
from webhooks.verifiers import stripe as st_sig

pytestmark = pytest.mark.unit

BANKING = "whsec_" + "ZGVza2JyaWRnZS1yb3V0ZXMtdGVzdC1zZWNyZXQtMzJi"
STRIPE = "whsec_stripe_routes_test"
ZENDESK = "zendesk-signing-secret"
HUBSPOT = "hubspot-client-secret"
PUBLIC = "https://hub.example.com"
ORG = "00D5g000004ABCDEAA"
SF_TEMPLATE = (Path(__file__).parents[2] / "fixtures/webhooks/salesforce_outbound_message.xml").read_text()


def sf_message(org: str = ORG) -> bytes:
    return SF_TEMPLATE.replace("{ORG}", org).encode()


@pytest.fixture
def hub(make_hub):
    return make_hub(overrides={"public_url": PUBLIC, "webhooks": {
        "banking_secrets": [BANKING], "stripe_secrets": [STRIPE], "zendesk_secrets": [ZENDESK],
        "hubspot_client_secrets": [HUBSPOT], "salesforce_org_ids": [ORG], "max_body_bytes": 4096}})


@pytest.fixture
def client(hub):
    from hub.app import create_app
    return create_app(hub=hub).test_client()


def fraud_event(event_id="evt_1", **data):
    base = {"alert_id": "AL-1", "customer_id": "CUST-0001", "risk_score": 0.93, "reason": "card testing"}
    return {"id": event_id, "type": "fraud.alert.created", "created_at": "2026-11-28T12:00:00Z",
            "data": dict(base, **data)}


def banking_headers(body: bytes, msg_id="msg_1", ts: int | None = None) -> dict:
    ts = int(time.time()) if ts is None else ts
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": standard.sign(BANKING, msg_id, ts, body), "Content-Type": "application/json"}


def post_banking(client, body: bytes | dict, msg_id="msg_1", ts=None, **extra):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = banking_headers(raw, msg_id, ts) | extra
    return client.post("/webhooks/banking", data=raw, headers=headers)


def inbox_rows(hub, source=None) -> int:
    with hub.db.session() as session:
        query = select(func.count()).select_from(InboxEvent)
        if source:
            query = query.where(InboxEvent.source == source)
        return session.execute(query).scalar_one()


def test_valid_banking_event_is_stored_then_acknowledged(client, hub):
    response = post_banking(client, fraud_event())
    assert response.status_code == 202
    assert response.json["status"] == "accepted" and isinstance(response.json["id"], int)
    with hub.db.session() as session:
        row = session.execute(select(InboxEvent)).scalar_one()
    assert (row.source, row.event_id, row.type) == ("banking", "msg_1", "fraud.alert.created")
    assert json.loads(row.payload)["data"]["risk_score"] == 0.93


def test_replays_are_acknowledged_once_stored_once(client, hub):
    body = json.dumps(fraud_event()).encode()
    statuses = [post_banking(client, body).status_code for _ in range(100)]
    assert statuses[0] == 202 and set(statuses[1:]) == {200}
    assert post_banking(client, body).json == {"status": "duplicate", "id": 1}
    assert inbox_rows(hub) == 1


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_missing_header_is_401_and_touches_nothing(client, hub, missing):
    raw = json.dumps(fraud_event()).encode()
    headers = banking_headers(raw)
    del headers[missing]
    response = client.post("/webhooks/banking", data=raw, headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "invalid_signature" and missing in response.json["message"]
    assert inbox_rows(hub) == 0


def test_a_sample_of_bit_flips_over_http_is_refused(client, hub):
    raw = json.dumps(fraud_event()).encode()
    rng = random.Random(5)
    for _ in range(40):
        flipped = bytearray(raw)
        flipped[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        response = client.post("/webhooks/banking", data=bytes(flipped), headers=banking_headers(raw))
        assert response.status_code == 401
    assert inbox_rows(hub) == 0


@pytest.mark.parametrize(("skew", "status"), [(-301, 401), (-299, 202), (299, 202), (301, 401)])
def test_timestamp_window_through_http(client, hub, skew, status):
    signed_at = 1_790_000_000
    clock.set_clock(lambda: datetime.fromtimestamp(signed_at - skew, tz=timezone.utc))
    try:
        response = post_banking(client, fraud_event(), ts=signed_at)
    finally:
        clock.set_clock(None)
    assert response.status_code == status
    if status == 401:
        assert "timestamp" in response.json["message"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [(b"{not json", "not valid JSON"), (b'{"a": NaN}', "NaN"), (b"\xff\xfe{}", "UTF-8"),
     (b"[" * 2000 + b"]" * 2000, "JSON"), (b"", "not valid JSON")],
)
def test_malformed_json_is_400(client, hub, raw, fragment):
    response = post_banking(client, raw)
    assert response.status_code == 400
    assert fragment in response.json["message"]
    assert inbox_rows(hub) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [(fraud_event(risk_score=1.7), "data.risk_score"), ({"id": "x", "type": "fraud.alert.created"}, "created_at"),
     ([], "body"), (fraud_event(customer_id=""), "data.customer_id")],
)
def test_schema_failures_are_422_naming_the_field(client, hub, body, field):
    response = post_banking(client, body)
    assert response.status_code == 422
    assert response.json["field"] == field and response.json["message"].startswith(field)
    assert inbox_rows(hub) == 0


def test_oversize_body_is_413_before_verification(client, hub):
    raw = b'{"pad": "' + b"x" * 5000 + b'"}'
    response = client.post("/webhooks/banking", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert inbox_rows(hub) == 0


def test_unconfigured_source_is_401(make_hub):
    from hub.app import create_app
    bare = create_app(hub=make_hub(overrides={"webhooks": {"stripe_secrets": []}})).test_client()
    response = bare.post("/webhooks/stripe", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    assert response.status_code == 401 and response.json["error"] == "not_configured"


def stripe_post(client, event: dict):
    raw = json.dumps(event).encode()
    return client.post("/webhooks/stripe", data=raw,
                       headers={"Stripe-Signature": st_sig.sign(STRIPE, int(time.time()), raw)})


def test_stripe_event_is_stored_as_a_banking_event(client, hub):
    efw = {"id": "issfr_1", "object": "radar.early_fraud_warning", "actionable": True, "charge": "ch_1",
           "fraud_type": "made_with_stolen_card", "metadata": {"customer_id": "CUST-0007"}}
    event = {"id": "evt_9", "type": "radar.early_fraud_warning.created", "created": 1_790_000_000,
             "data": {"object": efw}}
    assert stripe_post(client, event).status_code == 202
    assert stripe_post(client, event).json["status"] == "duplicate"
    with hub.db.session() as session:
        row = session.execute(select(InboxEvent)).scalar_one()
    assert (row.source, row.event_id, row.type) == ("stripe", "evt_9", "fraud.alert.created")
    assert json.loads(row.payload)["data"]["customer_id"] == "CUST-0007"


def test_stripe_unmapped_is_ignored_and_missing_customer_is_422(client, hub):
    ignored = stripe_post(client, {"id": "evt_2", "type": "charge.succeeded", "data": {"object": {}}})
    assert (ignored.status_code, ignored.json["status"]) == (200, "ignored")
    broken = stripe_post(client, {"id": "evt_3", "type": "payment_intent.payment_failed", "created": 1,
                                  "data": {"object": {"id": "pi_1", "amount": 100, "currency": "usd"}}})
    assert broken.status_code == 422 and broken.json["field"] == "data.object.customer"
    assert inbox_rows(hub) == 0


def test_zendesk_event_is_stored_for_the_sync_engine(client, hub):
    raw = json.dumps({"id": "01HZ", "type": "zen:event-type:ticket.created", "detail": {"id": "42"}}).encode()
    ts = clock.isoformat(clock.now())
    headers = {zendesk.SIGNATURE_HEADER: zendesk.sign(ZENDESK, ts, raw), zendesk.TIMESTAMP_HEADER: ts}
    assert client.post("/webhooks/zendesk", data=raw, headers=headers).status_code == 202
    assert client.post("/webhooks/zendesk", data=raw, headers=headers).status_code == 200
    assert inbox_rows(hub, "zendesk") == 1
    headers[zendesk.SIGNATURE_HEADER] = zendesk.sign("wrong", ts, raw)
    assert client.post("/webhooks/zendesk", data=raw, headers=headers).status_code == 401


def test_hubspot_batch_is_stored_per_event_and_signed_over_the_public_url(client, hub):
    raw = json.dumps([{"eventId": 11, "subscriptionType": "ticket.propertyChange", "objectId": 7},
                      {"eventId": 12, "subscriptionType": "contact.creation", "objectId": 8}]).encode()
    ts = int(time.time() * 1000)
    headers = {hs.V3_HEADER: hs.sign_v3(HUBSPOT, "POST", PUBLIC + "/webhooks/hubspot", raw, ts),
               hs.TIMESTAMP_HEADER: str(ts)}
    first = client.post("/webhooks/hubspot", data=raw, headers=headers)
    assert first.status_code == 202 and len(first.json["ids"]) == 2
    assert client.post("/webhooks/hubspot", data=raw, headers=headers).json["status"] == "duplicate"
    assert inbox_rows(hub, "hubspot") == 2
    elsewhere = dict(headers, **{hs.V3_HEADER: hs.sign_v3(HUBSPOT, "POST", "https://evil.test/webhooks/hubspot", raw, ts)})
    assert client.post("/webhooks/hubspot", data=raw, headers=elsewhere).status_code == 401


def test_hubspot_batch_without_event_id_is_422(client):
    raw = json.dumps([{"subscriptionType": "ticket.creation"}]).encode()
    ts = int(time.time() * 1000)
    headers = {hs.V3_HEADER: hs.sign_v3(HUBSPOT, "POST", PUBLIC + "/webhooks/hubspot", raw, ts),
               hs.TIMESTAMP_HEADER: str(ts)}
    response = client.post("/webhooks/hubspot", data=raw, headers=headers)
    assert response.status_code == 422 and response.json["field"] == "[0].eventId"


def test_salesforce_outbound_message_is_acked_and_stored_once(client, hub):
    body = sf_message()
    for _ in range(2):
        response = client.post("/webhooks/salesforce", data=body, headers={"Content-Type": "text/xml"})
        assert response.status_code == 200 and b"<Ack>true</Ack>" in response.data
        assert response.mimetype == "text/xml"
    assert inbox_rows(hub, "salesforce") == 1
    with hub.db.session() as session:
        row = session.execute(select(InboxEvent)).scalar_one()
    assert row.type == "outbound_message.Case" and "SECRETSESSION" not in row.payload
    assert client.post("/webhooks/salesforce", data=sf_message(org="00D000000000001AAA")).status_code == 401
    assert client.post("/webhooks/salesforce", data=b"<x").status_code == 400


header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["banking", "stripe", "zendesk", "hubspot", "salesforce"]),
       headers=st.dictionaries(st.sampled_from([
           "webhook-id", "webhook-timestamp", "webhook-signature", "Stripe-Signature", "X-Zendesk-Webhook-Signature",
           "X-Zendesk-Webhook-Signature-Timestamp", "X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp",
           "X-HubSpot-Signature", "X-HubSpot-Signature-Version", "Content-Type"]), header_text, max_size=6),
       body=st.binary(max_size=600))
def test_fuzzed_headers_and_bodies_never_5xx(client, path, headers, body):
    assert client.post(f"/webhooks/{path}", data=body, headers=headers).status_code < 500


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(["alert_id", "customer_id", "risk_score", "reason", "amount"]),
                            json_values, max_size=5),
       event_type=st.sampled_from(["fraud.alert.created", "payment.failed", "kyc.status.changed", "nope"]),
       envelope_extra=st.dictionaries(st.sampled_from(["id", "created_at", "data"]), json_values, max_size=2),
       msg_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=20))
def test_fuzzed_signed_bodies_never_5xx(client, data, event_type, envelope_extra, msg_id):
    body = dict({"id": msg_id, "type": event_type, "created_at": "2026-11-28T12:00:00Z", "data": data}, **envelope_extra)
    response = post_banking(client, body, msg_id=msg_id)
    assert response.status_code in (200, 202, 400, 422)


def test_metrics_count_requests_by_code_and_stored_events(client, hub):
    post_banking(client, fraud_event())
    post_banking(client, fraud_event())
    client.post("/webhooks/banking", data=b"{}", headers={"webhook-id": "x"})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'deskbridge_webhooks_total{code="202",source="banking"} 1.0' in text
    assert 'deskbridge_webhooks_total{code="200",source="banking"} 1.0' in text
    assert 'deskbridge_webhooks_total{code="401",source="banking"} 1.0' in text
    assert 'deskbridge_events_received_total{duplicate="false",source="banking"} 1.0' in text
    assert 'deskbridge_events_received_total{duplicate="true",source="banking"} 1.0' in text


def test_routes_never_let_flask_parse_the_body_before_verification():
    import webhooks.intake
    import webhooks.routes
    for module in (webhooks.routes, webhooks.intake):
        source = Path(module.__file__).read_text()
        for forbidden in ("get_json", "request.json", "request.data", "request.form", "get_data("):
            assert forbidden not in source, f"{module.__name__} uses {forbidden}"
