"""Stripe-Signature verifier, cross-checked against the stripe SDK."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st

from webhooks.verifiers import VerificationError
from webhooks.verifiers.stripe import StripeVerifier, sign

pytestmark = pytest.mark.unit

SECRET = "whsec_test_0123456789abcdefghijklmnop"
BODY = b'{"id": "evt_1", "object": "event", "type": "charge.dispute.created"}'
TS = 1_700_000_000
NOW = datetime.fromtimestamp(TS, tz=timezone.utc)


def verify(header: str | None, body: bytes = BODY, secrets=(SECRET,), now=NOW):
    headers = {} if header is None else {"Stripe-Signature": header}
    return StripeVerifier(list(secrets)).verify(headers, body, now=now)


def test_valid_signature_matches_the_sdk_format():
    header = sign(SECRET, TS, BODY)
    assert header == stripe.WebhookSignature.generate_signature_header(BODY.decode(), SECRET, timestamp=TS)
    assert verify(header).timestamp == TS


def test_header_lookup_is_case_insensitive():
    StripeVerifier([SECRET]).verify({"stripe-signature": sign(SECRET, TS, BODY)}, BODY, now=NOW)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing Stripe-Signature"),
        ("", "missing Stripe-Signature"),
        ("v1=abc", "no timestamp"),
        (f"t={TS}", "no v1 signature"),
        (f"t={TS},v0=" + "0" * 64, "no v1 signature"),
        (f"t={TS},t={TS},v1=00", "more than one timestamp"),
        (f"t=abc,v1=00", "not an integer"),
        (f"t={TS},garbage", "not 'key=value'"),
        (f"t={TS}," + ",".join(["v1=00"] * 40), "more than"),
        (f"t={TS},v1=ÿ", "non-ASCII"),
        (f"t={TS},v1=" + "0" * 64, "no matching"),
    ],
)
def test_malformed_or_wrong_headers_are_refused(header, reason):
    with pytest.raises(VerificationError, match=reason):
        verify(header)


def test_several_v1_entries_one_valid():
    good = sign(SECRET, TS, BODY).split(",")[1]
    verify(f"t={TS},v1={'0' * 64},{good},v0={'1' * 64}")


def test_uppercase_hex_is_not_the_signature():
    t, v1 = sign(SECRET, TS, BODY).split(",")
    with pytest.raises(VerificationError):
        verify(f"{t},{v1.upper()}")


@pytest.mark.parametrize("offset", [-300, -299, 299, 300])
def test_window_edges_accepted(offset):
    verify(sign(SECRET, TS + offset, BODY))


@pytest.mark.parametrize(("offset", "reason"), [(-301, "too old"), (301, "in the future")])
def test_beyond_window_refused(offset, reason):
    with pytest.raises(VerificationError, match=reason):
        verify(sign(SECRET, TS + offset, BODY))


def test_rotation():
    other = "whsec_rotated_secret_value_abcdef"
    verify(sign(other, TS, BODY), secrets=(SECRET, other))
    with pytest.raises(VerificationError):
        verify(sign(other, TS, BODY), secrets=(SECRET,))


@pytest.mark.parametrize("part", ["timestamp", "body", "signature"])
def test_every_single_bit_flip_is_refused(part):
    header = sign(SECRET, TS, BODY)
    sig = header.split("v1=")[1]
    target = {"timestamp": str(TS).encode(), "body": BODY, "signature": sig.encode()}[part]
    accepted = 0
    for i in range(len(target)):
        for bit in range(8):
            flipped = bytearray(target)
            flipped[i] ^= 1 << bit
            text = bytes(flipped)
            body, ts, s = BODY, str(TS), sig
            if part == "body":
                body = text
            elif part == "timestamp":
                ts = text.decode("latin-1")
            else:
                s = text.decode("latin-1")
            try:
                verify(f"t={ts},v1={s}", body=body)
                accepted += 1
            except VerificationError:
                pass
    assert accepted == 0


@settings(max_examples=200, deadline=None)
@given(
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=40).map("whsec_".__add__),
    body=st.text(max_size=300).map(str.encode),
    age=st.integers(0, 290),
    tamper=st.booleans(),
)
def test_agrees_with_the_stripe_sdk(secret, body, age, tamper):
    now = int(time.time())
    header = sign(secret, now - age, body)
    sent = body + b"x" if tamper else body
    try:
        stripe.WebhookSignature.verify_header(sent.decode(), header, secret, tolerance=300)
        sdk_ok = True
    except stripe.SignatureVerificationError:
        sdk_ok = False
    try:
        StripeVerifier([secret]).verify({"Stripe-Signature": header}, sent, now=datetime.fromtimestamp(now, timezone.utc))
        ours_ok = True
    except VerificationError:
        ours_ok = False
    assert ours_ok == sdk_ok == (not tamper)
