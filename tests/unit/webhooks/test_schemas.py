"""Banking event JSON Schemas and validate_event."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from webhooks.schemas import SCHEMA_DIR, SchemaError, event_types, schema_for, validate_event

pytestmark = pytest.mark.unit

NOW = "2026-11-28T12:00:00Z"
VALID = {
    "fraud.alert.created": {"alert_id": "AL-1", "customer_id": "CUST-0001", "risk_score": 0.93, "reason": "card testing",
                            "account_id": "ACC-1", "transaction_id": "TXN-1", "amount": "12.50", "currency": "EUR",
                            "card_last4": "4242"},
    "payment.failed": {"payment_id": "PAY-1", "customer_id": "CUST-0001", "amount": 40, "currency": "GBP",
                       "failure_code": "insufficient_funds"},
    "account.frozen": {"account_id": "ACC-1", "customer_id": "CUST-0001", "reason": "suspected fraud"},
    "account.unfrozen": {"account_id": "ACC-1", "customer_id": "CUST-0001", "reason": "cleared"},
    "dispute.opened": {"dispute_id": "DSP-1", "customer_id": "CUST-0001", "transaction_id": "TXN-1", "amount": "9.99",
                       "currency": "USD", "status": "needs_response", "evidence_due_by": "2026-12-10T00:00:00+01:00"},
    "dispute.updated": {"dispute_id": "DSP-1", "customer_id": "CUST-0001", "transaction_id": "TXN-1", "amount": "9.99",
                        "currency": "USD", "status": "under_review"},
    "dispute.closed": {"dispute_id": "DSP-1", "customer_id": "CUST-0001", "transaction_id": "TXN-1", "amount": "9.99",
                       "currency": "USD", "status": "won", "outcome": "won"},
    "kyc.status.changed": {"customer_id": "CUST-0001", "status": "verified"},
    "incident.opened": {"incident_id": "INC-1", "title": "Card payments degraded", "severity": "high",
                        "affected": ["CUST-0001", "CUST-0002"]},
    "incident.resolved": {"incident_id": "INC-1", "title": "Card payments degraded", "severity": "high",
                          "affected": {"segment": "merchant"}},
}


def event(event_type: str, **data_changes) -> dict:
    data = dict(VALID[event_type], **data_changes)
    return {"id": "evt-1", "type": event_type, "created_at": NOW, "data": data}


def test_every_type_has_a_published_valid_schema():
    assert set(event_types()) == set(VALID)
    for path in SCHEMA_DIR.glob("*.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text()))
    assert schema_for("payment.failed")["properties"]["type"]["const"] == "payment.failed"


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_valid_events_pass(event_type):
    validate_event(event(event_type))


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_each_required_field_is_named_when_missing(event_type):
    required = schema_for(event_type)["properties"]["data"]["required"]
    for name in required:
        body = event(event_type)
        del body["data"][name]
        with pytest.raises(SchemaError) as caught:
            validate_event(body)
        assert caught.value.field_path == f"data.{name}"


@pytest.mark.parametrize(
    ("body_change", "path", "fragment"),
    [
        (lambda b: b["data"].update(risk_score=1.7), "data.risk_score", "1.7 is greater than the maximum of 1"),
        (lambda b: b["data"].update(risk_score=-0.1), "data.risk_score", "minimum"),
        (lambda b: b["data"].update(risk_score="high"), "data.risk_score", "not of type 'number'"),
        (lambda b: b["data"].update(amount="-5"), "data.amount", "does not match"),
        (lambda b: b["data"].update(currency="EURO"), "data.currency", "does not match"),
        (lambda b: b["data"].update(card_last4="4111111111111111"), "data.card_last4", "[redacted]"),
        (lambda b: b.update(type="fraud.alert.deleted"), "type", "not a known banking event type"),
        (lambda b: b.update(created_at="yesterday"), "created_at", "date-time"),
        (lambda b: b.update(created_at="2026-02-30T00:00:00Z"), "created_at", "date-time"),
        (lambda b: b.pop("id"), "id", "is required"),
        (lambda b: b.update(data=[]), "data", "not of type 'object'"),
    ],
)
def test_field_errors_name_the_field(body_change, path, fragment):
    body = event("fraud.alert.created")
    body_change(body)
    with pytest.raises(SchemaError) as caught:
        validate_event(body)
    assert caught.value.field_path == path
    assert fragment in str(caught.value)
    assert "4111111111111111" not in str(caught.value)


def test_spec_example_message():
    with pytest.raises(SchemaError, match=r"^data\.risk_score: 1\.7 is greater than the maximum of 1$"):
        validate_event(event("fraud.alert.created", risk_score=1.7))


@pytest.mark.parametrize("body", [[], "x", 3, None])
def test_non_object_bodies(body):
    with pytest.raises(SchemaError) as caught:
        validate_event(body)
    assert caught.value.field_path == "body"


def test_kyc_status_enum_and_incident_affected_shapes():
    with pytest.raises(SchemaError, match="data.status"):
        validate_event(event("kyc.status.changed", status="approved"))
    validate_event(event("incident.opened", affected="merchant"))
    with pytest.raises(SchemaError, match=r"data.affected\[0\]"):
        validate_event(event("incident.opened", affected=[1]))


def test_extra_fields_are_tolerated_for_forward_compatibility():
    body = copy.deepcopy(event("payment.failed"))
    body["data"]["network"] = "visa"
    body["livemode"] = False
    validate_event(body)


def test_schema_files_ship_inside_the_package():
    assert Path(SCHEMA_DIR).name == "schemas" and (SCHEMA_DIR / "envelope.json").is_file()


def test_published_refs_resolve_with_a_standard_registry():
    from referencing import Registry, Resource
    documents = [json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.json")]
    registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in documents)
    validator = Draft202012Validator(schema_for("fraud.alert.created"), registry=registry)
    assert validator.is_valid(event("fraud.alert.created"))
    assert not validator.is_valid(event("fraud.alert.created", risk_score=1.7))
    assert not validator.is_valid(dict(event("fraud.alert.created"), created_at=3))


# The compiled fast path must never accept what jsonschema refuses: bodies built from valid events with fields
# replaced by hostile values (wrong types, bools for numbers, bounds, patterns with trailing newlines, unicode
# digits, bad dates), dropped or added, are judged the same by validate_event and by jsonschema alone.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from webhooks import schemas as schema_module  # noqa: E402

_TRICKY = [None, True, False, 0, 1, -1, 0.5, 1.5, -0.0, 1e300, 10**20, "", " ", "AL 1", "4242\n", "EUR\n",
           "12.50\n", "٤٢٤٢", "１２.５", "12.12345", "-1", "0", "1.0", "2026-11-28T12:00:00Z\n", "2026-11-28T12:00:00",
           "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-28t12:00:00z", "2026-11-28T12:00:00.1234567891Z",
           "2026-11-28T12:00:00+0100", "x" * 129, "x" * 2001, "verified", "high", "won", "merchant",
           "fraud.alert.created", "payment.failed", [], ["CUST-1", 1], {"segment": "merchant"}, {"x": 1}]
_ODD_VALUES = st.one_of(
    st.sampled_from(_TRICKY), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False), st.text(max_size=6),
    st.lists(st.sampled_from(["CUST-1", 1, None]), max_size=3),
    st.dictionaries(st.sampled_from(["segment", "x"]), st.sampled_from(["merchant", 1]), max_size=2),
)


@st.composite
def _mutated_event(draw):
    body = copy.deepcopy(event(draw(st.sampled_from(sorted(VALID)))))
    for _ in range(draw(st.integers(1, 3))):
        target = body if draw(st.booleans()) or not isinstance(body.get("data"), dict) else body["data"]
        keys = sorted(target) + ["extra", "type", "data"]
        key = draw(st.sampled_from(keys))
        action = draw(st.sampled_from(["replace", "replace", "drop"]))
        if action == "drop":
            target.pop(key, None)
        else:
            target[key] = draw(_ODD_VALUES)
    return body


def _jsonschema_alone(body) -> str | None:
    """What the pure jsonschema path answers: None (valid) or the error's text."""
    for name in ("envelope.json", f"{body.get('type')}.json" if isinstance(body, dict) else None):
        if name is None:
            continue
        validator = schema_module._validator(name)
        if not validator.is_valid(body):
            return str(SchemaError(*schema_module._describe(
                schema_module.best_match(validator.iter_errors(body), key=schema_module._relevance))))
    return None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_event())
def test_compiled_fast_path_agrees_with_jsonschema(body):
    expected = _jsonschema_alone(body)
    try:
        validate_event(body)
        got = None
    except SchemaError as exc:
        got = str(exc)
    assert got == expected


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_compiled_fast_path_agrees_on_every_field_and_tricky_value(event_type):
    base = event(event_type)
    bodies = []
    for value in _TRICKY:
        for key in [*base, "extra"]:
            bodies.append({**copy.deepcopy(base), key: copy.deepcopy(value)})
        for key in [*base["data"], *schema_for(event_type)["properties"]["data"].get("properties", {}), "extra"]:
            body = copy.deepcopy(base)
            body["data"][key] = copy.deepcopy(value)
            bodies.append(body)
    accepted = 0
    for body in bodies:
        expected = _jsonschema_alone(body)
        try:
            validate_event(body)
            got = None
        except SchemaError as exc:
            got = str(exc)
        assert got == expected, body
        accepted += got is None
    assert 0 < accepted < len(bodies)


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_valid_events_take_the_compiled_path(event_type):
    assert schema_module._passes_fast(f"{event_type}.json", event(event_type))
    assert not schema_module._passes_fast(f"{event_type}.json", dict(event(event_type), created_at="2026-02-30T00:00:00Z"))
