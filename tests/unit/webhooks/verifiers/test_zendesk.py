"""Zendesk webhook signature verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone

import pytest

from webhooks.verifiers import VerificationError
from webhooks.verifiers.zendesk import SIGNATURE_HEADER, TIMESTAMP_HEADER, ZendeskVerifier, sign

pytestmark = pytest.mark.unit

SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="  # Zendesk's documented test-webhook secret
TS = "2026-11-28T12:00:00Z"
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)
BODY = b'{"type":"zen:event-type:ticket.created","id":"01HZ","detail":{"id":"42"}}'


def headers(sig=None, ts=TS):
    return {SIGNATURE_HEADER: sign(SECRET, ts, BODY) if sig is None else sig, TIMESTAMP_HEADER: ts}


def verify(hdrs, body=BODY, secrets=(SECRET,)):
    return ZendeskVerifier(list(secrets)).verify(hdrs, body, now=NOW)


def test_formula_is_timestamp_then_body_with_the_secret_as_text():
    expected = base64.b64encode(hmac.new(SECRET.encode(), TS.encode() + BODY, hashlib.sha256).digest()).decode()
    assert sign(SECRET, TS, BODY) == expected
    assert verify(headers()).signed_at == NOW


def test_body_then_timestamp_order_is_refused():
    wrong = base64.b64encode(hmac.new(SECRET.encode(), BODY + TS.encode(), hashlib.sha256).digest()).decode()
    with pytest.raises(VerificationError, match="does not match"):
        verify(headers(wrong))


@pytest.mark.parametrize("missing", [SIGNATURE_HEADER, TIMESTAMP_HEADER])
def test_each_missing_header(missing):
    hdrs = headers()
    del hdrs[missing]
    with pytest.raises(VerificationError, match=f"missing {missing}"):
        verify(hdrs)


@pytest.mark.parametrize("ts", ["1700000000", "2026-11-28 12:00:00Z", "2026-11-28T12:00:00", "2026-13-28T12:00:00Z"])
def test_bad_timestamps(ts):
    with pytest.raises(VerificationError, match="not"):
        verify(headers(ts=ts))


@pytest.mark.parametrize(("ts", "ok"), [
    ("2026-11-28T11:55:01Z", True), ("2026-11-28T12:04:59Z", True),
    ("2026-11-28T11:54:59Z", False), ("2026-11-28T12:05:01Z", False),
    ("2026-11-28T13:04:59+01:00", True), ("2026-11-28T13:05:01+01:00", False),
])
def test_window(ts, ok):
    if ok:
        verify(headers(ts=ts))
    else:
        with pytest.raises(VerificationError, match="too old|in the future"):
            verify(headers(ts=ts))


def test_rotation_and_bit_flips():
    new = "second-signing-secret"
    verify({SIGNATURE_HEADER: sign(new, TS, BODY), TIMESTAMP_HEADER: TS}, secrets=(SECRET, new))
    accepted = 0
    good = sign(SECRET, TS, BODY).encode()
    for target in ("sig", "body", "ts"):
        source = {"sig": good, "body": BODY, "ts": TS.encode()}[target]
        for i in range(len(source)):
            for bit in range(8):
                b = bytearray(source)
                b[i] ^= 1 << bit
                hdrs = {SIGNATURE_HEADER: good.decode(), TIMESTAMP_HEADER: TS}
                body = BODY
                if target == "sig":
                    hdrs[SIGNATURE_HEADER] = bytes(b).decode("latin-1")
                elif target == "ts":
                    hdrs[TIMESTAMP_HEADER] = bytes(b).decode("latin-1")
                else:
                    body = bytes(b)
                try:
                    verify(hdrs, body)
                    accepted += 1
                except VerificationError:
                    pass
    assert accepted == 0
