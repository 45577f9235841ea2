"""Stripe events → banking events, on Stripe's own fixtures."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from webhooks.schemas import validate_event
from webhooks.stripe_events import StripeMappingError, minor_to_major, to_banking_event

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parents[2] / "fixtures/webhooks/stripe"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def envelope(event_type: str, obj: dict, event_id: str = "evt_1Pgc76B7WZ01zgkWwyRHS12y") -> dict:
    env = load("openapi_event.json")
    env.update(id=event_id, type=event_type, created=1_732_795_200)
    env["data"] = {"object": obj}
    return env


def with_customer(obj: dict, customer_id: str = "CUST-0001") -> dict:
    obj = copy.deepcopy(obj)
    obj["metadata"] = dict(obj.get("metadata") or {}, customer_id=customer_id)
    return obj


def test_early_fraud_warning_becomes_a_fraud_alert():
    efw = with_customer(load("openapi_radar.early_fraud_warning.json"))
    event = to_banking_event(envelope("radar.early_fraud_warning.created", efw))
    validate_event(event)
    assert event["id"] == "evt_1Pgc76B7WZ01zgkWwyRHS12y"
    assert event["type"] == "fraud.alert.created"
    assert event["created_at"] == "2024-11-28T12:00:00Z"
    assert event["data"] == {"alert_id": "issfr_1Pgc79B7WZ01zgkWxwDzEIPX", "customer_id": "CUST-0001",
                             "risk_score": 0.9, "reason": "misc", "transaction_id": "ch_1234"}


def test_early_fraud_warning_with_expanded_charge_takes_customer_amount_card_and_radar_score():
    charge = load("charge_ch_fakefakefakefakefake0001.json")
    charge["outcome"]["risk_score"] = 97
    efw = load("early_fraud_warning_fake_issfr_fakefakefakefakefake0001.json")
    efw.update(charge=charge, fraud_type="made_with_stolen_card")
    data = to_banking_event(envelope("radar.early_fraud_warning.created", efw))["data"]
    assert data["customer_id"] == "cus_6lsBvm5rJ0zyHc"  # no bank id in metadata: the Stripe customer
    assert (data["amount"], data["currency"], data["card_last4"]) == ("20.00", "USD", "4242")
    assert data["transaction_id"] == "ch_fakefakefakefakefake0001"
    assert data["risk_score"] == 0.97


def test_fraud_type_and_actionable_shape_the_risk_score():
    efw = with_customer(load("openapi_radar.early_fraud_warning.json"))
    efw.update(fraud_type="unauthorized_use_of_card", actionable=False)
    assert to_banking_event(envelope("radar.early_fraud_warning.created", efw))["data"]["risk_score"] == 0.85


@pytest.mark.parametrize(
    ("stripe_type", "banking_type"),
    [("charge.dispute.created", "dispute.opened"), ("charge.dispute.updated", "dispute.updated"),
     ("charge.dispute.closed", "dispute.closed")],
)
def test_disputes(stripe_type, banking_type):
    dispute = with_customer(load("dispute_dp_fakefakefakefake01.json"), "CUST-0042")
    if stripe_type.endswith("closed"):
        dispute["status"] = "lost"
    event = to_banking_event(envelope(stripe_type, dispute))
    validate_event(event)
    data = event["data"]
    assert event["type"] == banking_type
    assert data["dispute_id"] == "dp_1JAyTwJSZQVUcJYgPqasUEn1"
    assert (data["customer_id"], data["transaction_id"]) == ("CUST-0042", "ch_fakefakefakefakefake0001")
    assert (data["amount"], data["currency"]) == ("10.00", "USD")
    assert data["evidence_due_by"] == "2021-07-17T23:59:59Z"
    assert data["reason"] == "fraudulent"
    assert data.get("outcome") == ("lost" if stripe_type.endswith("closed") else None)


def test_openapi_dispute_fixture_maps_status_verbatim():
    dispute = with_customer(load("openapi_dispute.json"))
    data = to_banking_event(envelope("charge.dispute.updated", dispute))["data"]
    assert data["status"] == "warning_needs_response"
    assert data["transaction_id"] == "ch_1PgafuB7WZ01zgkWXYmPNZs8"


def test_payment_failed():
    intent = load("payment_intent_pi_fakefakefakefakefake0001.json")
    intent["last_payment_error"] = {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"}
    event = to_banking_event(envelope("payment_intent.payment_failed", intent))
    validate_event(event)
    assert event["data"] == {"payment_id": "pi_fakefakefakefakefake0001", "customer_id": "cus_6lsBvm5rJ0zyHc",
                             "amount": "20.00", "currency": "USD", "failure_code": "insufficient_funds"}


def test_payment_failed_falls_back_to_error_type():
    intent = with_customer(load("openapi_payment_intent.json"))
    data = to_banking_event(envelope("payment_intent.payment_failed", intent))["data"]
    assert (data["amount"], data["failure_code"]) == ("10.99", "idempotency_error")


def test_missing_customer_names_the_field():
    intent = load("openapi_payment_intent.json")  # customer null, metadata empty
    with pytest.raises(StripeMappingError) as caught:
        to_banking_event(envelope("payment_intent.payment_failed", intent))
    assert caught.value.field_path == "data.object.customer"


def test_unmapped_types_are_ignored():
    assert to_banking_event(envelope("plan.created", {"id": "price_1"})) is None
    assert to_banking_event({"type": "charge.succeeded"}) is None


@pytest.mark.parametrize(
    ("event", "path"),
    [
        ({"type": "charge.dispute.created", "data": {"object": {}}}, "id"),
        ({"id": "evt_1", "type": "charge.dispute.created", "data": {}}, "data.object"),
        ({"id": "evt_1", "type": "charge.dispute.created", "created": 1, "data": {"object": {"id": "dp_1"}}},
         "data.object.amount"),
    ],
)
def test_broken_events_name_the_field(event, path):
    with pytest.raises(StripeMappingError) as caught:
        to_banking_event(event)
    assert caught.value.field_path == path


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(1000, "usd", "10.00"), (5, "eur", "0.05"), (1000, "jpy", "1000"), (1234, "KWD", "1.234"), (0, "gbp", "0.00")],
)
def test_minor_units(amount, currency, expected):
    assert minor_to_major(amount, currency) == expected
