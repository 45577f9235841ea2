"""The full text and payload redaction pipeline, and the plugin's Config."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from plugins.redaction import Config, Redactor, contains_pan, redact_payload, redact_text

pytestmark = pytest.mark.unit

TICKET = (
    "Hello, my card 4111 1111 1111 1111 (CVV: 123, PIN 9876) was charged twice on 2024-05-01 for order "
    "#88231. Refund to DE89 3704 0044 0532 0130 00 please. Call me on +44 20 7946 0958. SSN 123-45-6789."
)


def test_ticket_redacted_end_to_end():
    out = redact_text(TICKET)
    assert "**** **** **** 1111" in out
    for secret in ("4111 1111 1111 1111", "123,", "9876", "3704 0044", "123-45-6789"):
        assert secret not in out
    for kept in ("2024-05-01", "#88231", "+44 20 7946 0958", "DE**", "30 00"):
        assert kept in out
    assert not contains_pan(out)


def test_payload_deep_keys_kept_values_redacted():
    payload = {
        "subject": "card 5555555555554444",
        "custom_fields": [{"id": 1, "value": "4111-1111-1111-1111"}, {"id": 2, "value": 42}],
        "card": {"number": 4111111111111111, "cvv": "123", "Security-Code": 987, "expiry": "12/28"},
        "tags": ("refund", "pan 378282246310005"),
        "none": None,
    }
    out = redact_payload(payload)
    assert out["subject"] == "card ************4444"
    assert out["custom_fields"][0] == {"id": 1, "value": "****-****-****-1111"}
    assert out["custom_fields"][1] == {"id": 2, "value": 42}
    assert out["card"] == {"number": "**** **** **** 1111", "cvv": "[REDACTED]", "Security-Code": "[REDACTED]",
                           "expiry": "12/28"}
    assert out["tags"] == ("refund", "pan ***********0005")
    assert out["none"] is None
    assert payload["card"]["cvv"] == "123", "the input is not modified"
    assert not contains_pan(json.dumps(out))


def test_config_picks_mask_and_extra_keys():
    redactor = Config(pan_mask="bin_last4", drop_keys=["passport_no"]).redactor()
    out = redactor.redact_payload({"passport_no": "X123", "note": "4111111111111111"})
    assert out == {"passport_no": "[REDACTED]", "note": "411111******1111"}


def test_config_rejects_unknown_keys_and_modes():
    with pytest.raises(ValidationError):
        Config(pan_mask="first8")
    with pytest.raises(ValidationError):
        Config(colour="red")


def test_config_rejects_bad_national_id_regex():
    with pytest.raises(ValidationError):
        Config(national_ids={"broken": "(unclosed"})


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_redaction_is_idempotent_and_total(text):
    once = redact_text(text)
    assert redact_text(once) == once
    assert not contains_pan(once)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",))))
def test_text_without_digits_unchanged(text):
    assert redact_text(text) == text


def test_redactor_contains_secret():
    assert Redactor().contains_secret("cvv 123")
    assert not Redactor().contains_secret("order 123")
