"""Standard Webhooks verifier: vectors, every failure mode, bit flips, and a differential check."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hub import clock
from webhooks.verifiers import MAX_SIGNATURE_ENTRIES, VerificationError
from webhooks.verifiers.standard import StandardWebhookVerifier, decode_secret, sign

pytestmark = pytest.mark.unit

VECTORS = json.loads((Path(__file__).parents[3] / "fixtures/webhooks/standard-webhooks-vectors.json").read_text())
KNOWN = VECTORS["fixed_vectors"][0]
SECRET = KNOWN["secret"]
MSG_ID = KNOWN["msg_id"]
TS = KNOWN["timestamp"]
BODY = KNOWN["payload"].encode()
NOW = datetime.fromtimestamp(TS, tz=timezone.utc)


def headers(sig: str = KNOWN["expected_signature"], msg_id: str = MSG_ID, ts: int | str = TS) -> dict:
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sig}


def verifier(*secrets: str) -> StandardWebhookVerifier:
    return StandardWebhookVerifier(list(secrets) or [SECRET])


def test_known_answer_vector_signs_and_verifies():
    assert sign(SECRET, MSG_ID, TS, BODY) == KNOWN["expected_signature"]
    result = verifier().verify(headers(), BODY, now=NOW)
    assert (result.msg_id, result.timestamp) == (MSG_ID, TS)


@pytest.mark.parametrize("secret", [SECRET, SECRET.removeprefix("whsec_")])
def test_secret_with_or_without_prefix(secret):
    verifier(secret).verify(headers(), BODY, now=NOW)


@pytest.mark.parametrize("secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr"])
def test_unpadded_secrets_are_accepted(secret):
    assert decode_secret(secret)


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_@@@not-base64"])
def test_bad_secrets_refused_at_construction(secret):
    with pytest.raises(ValueError):
        StandardWebhookVerifier([secret])


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_missing_header_is_refused(missing):
    given_headers = headers()
    del given_headers[missing]
    with pytest.raises(VerificationError, match=f"missing {missing}"):
        verifier().verify(given_headers, BODY, now=NOW)


@pytest.mark.parametrize(
    ("sig", "ts", "msg_id", "reason"),
    [
        ("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", TS, MSG_ID, "no matching signature"),
        ("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", TS, MSG_ID, "no matching signature"),
        ("v1,", TS, MSG_ID, "no v1 signature"),
        ("v1", TS, MSG_ID, "not 'version,signature'"),
        ("v2," + KNOWN["expected_signature"][3:], TS, MSG_ID, "no v1 signature"),
        (KNOWN["expected_signature"], "hello", MSG_ID, "not an integer"),
        (KNOWN["expected_signature"], "1614265330.5", MSG_ID, "not an integer"),
        (KNOWN["expected_signature"], "-1614265330", MSG_ID, "not an integer"),
        (KNOWN["expected_signature"], TS, "msg.with.dots", "contains '.'"),
        (KNOWN["expected_signature"], TS, "msg_é", "non-ASCII"),
        (KNOWN["expected_signature"], TS, "x" * 256, "too long"),
        (KNOWN["expected_signature"] + " v1,???" * MAX_SIGNATURE_ENTRIES, TS, MSG_ID, "more than"),
        ("v1," + "A" * 5000, TS, MSG_ID, "too long"),
    ],
)
def test_malformed_or_wrong_headers_are_refused(sig, ts, msg_id, reason):
    with pytest.raises(VerificationError, match=reason):
        verifier().verify(headers(sig, msg_id, ts), BODY, now=NOW)


def test_one_valid_signature_among_several_is_enough():
    sig = " ".join(VECTORS["behavioural_cases"][10]["signature_list"]).replace(
        "<valid v1 signature>", KNOWN["expected_signature"]
    )
    verifier().verify(headers(sig), BODY, now=NOW)


@pytest.mark.parametrize("offset", [-300, -299, 0, 299, 300])
def test_timestamps_within_300s_either_way_are_accepted(offset):
    ts = TS + offset
    verifier().verify(headers(sign(SECRET, MSG_ID, ts, BODY), ts=ts), BODY, now=NOW)


@pytest.mark.parametrize(("offset", "reason"), [(-301, "too old"), (301, "in the future"), (-86400, "too old")])
def test_timestamps_beyond_300s_are_refused(offset, reason):
    ts = TS + offset
    with pytest.raises(VerificationError, match=reason):
        verifier().verify(headers(sign(SECRET, MSG_ID, ts, BODY), ts=ts), BODY, now=NOW)


def test_default_clock_is_the_hub_clock():
    clock.set_clock(lambda: NOW + timedelta(seconds=301))
    try:
        with pytest.raises(VerificationError, match="too old"):
            verifier().verify(headers(), BODY)
        clock.set_clock(lambda: NOW + timedelta(seconds=299))
        verifier().verify(headers(), BODY)
    finally:
        clock.set_clock(None)


def test_rotation_old_and_new_secrets_both_valid_then_old_removed():
    new = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    old_sig, new_sig = sign(SECRET, MSG_ID, TS, BODY), sign(new, MSG_ID, TS, BODY)
    both = verifier(SECRET, new)
    both.verify(headers(old_sig), BODY, now=NOW)
    both.verify(headers(new_sig), BODY, now=NOW)
    only_new = verifier(new)
    only_new.verify(headers(new_sig), BODY, now=NOW)
    with pytest.raises(VerificationError):
        only_new.verify(headers(old_sig), BODY, now=NOW)


def test_reserialised_json_is_refused_even_if_equal():
    reserialised = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    assert reserialised != BODY
    with pytest.raises(VerificationError):
        verifier().verify(headers(), reserialised, now=NOW)


def _bit_flips(text: bytes):
    for index in range(len(text)):
        for bit in range(8):
            flipped = bytearray(text)
            flipped[index] ^= 1 << bit
            yield bytes(flipped)


@pytest.mark.parametrize("part", ["id", "timestamp", "body", "signature"])
def test_every_single_bit_flip_is_refused(part):
    good = {"id": MSG_ID.encode(), "timestamp": str(TS).encode(), "body": BODY,
            "signature": KNOWN["expected_signature"].encode()}
    v = verifier()
    accepted = 0
    for flipped in _bit_flips(good[part]):
        values = dict(good, **{part: flipped})
        hdrs = {
            "webhook-id": values["id"].decode("latin-1"),
            "webhook-timestamp": values["timestamp"].decode("latin-1"),
            "webhook-signature": values["signature"].decode("latin-1"),
        }
        try:
            v.verify(hdrs, values["body"], now=NOW)
            accepted += 1
        except VerificationError:
            pass
    assert accepted == 0


secrets_strategy = st.binary(min_size=24, max_size=64).map(lambda b: "whsec_" + __import__("base64").b64encode(b).decode())
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=1, max_size=64)
bodies = st.text(max_size=300).map(str.encode)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=secrets_strategy, msg_id=ids, body=bodies, skew=st.integers(-290, 290))
def test_agrees_with_standardwebhooks_on_signed_messages(secret, msg_id, body, skew):
    now = datetime.now(timezone.utc)
    signed_at = now + timedelta(seconds=skew)
    sig = Webhook(secret).sign(msg_id, signed_at, body.decode())
    hdrs = headers(sig, msg_id, int(signed_at.timestamp()))
    Webhook(secret).verify(body, hdrs, json_parse=False)
    StandardWebhookVerifier([secret]).verify(hdrs, body, now=now)


@settings(max_examples=200, deadline=None)
@given(secret=secrets_strategy, msg_id=ids, body=bodies, sig_header=st.text(max_size=120))
def test_never_accepts_what_standardwebhooks_refuses(secret, msg_id, body, sig_header):
    now = datetime.now(timezone.utc)
    hdrs = headers(sig_header, msg_id, int(now.timestamp()))
    try:
        StandardWebhookVerifier([secret]).verify(hdrs, body, now=now)
    except VerificationError:
        return
    Webhook(secret).verify(body, hdrs, json_parse=False)  # ours accepted, so the reference must too
