"""HubSpot v3 (and v1/v2) verifier, cross-checked against hubspot.utils.signature.Signature."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from hubspot.utils.signature import Signature
from hypothesis import given, settings
from hypothesis import strategies as st

from webhooks.verifiers import VerificationError
from webhooks.verifiers.hubspot import (
    LEGACY_HEADER,
    TIMESTAMP_HEADER,
    V3_HEADER,
    VERSION_HEADER,
    HubSpotVerifier,
    normalise_uri,
    sign_v3,
)

pytestmark = pytest.mark.unit

SECRET = "client-secret-1234"
URI = "https://hub.example.com/webhooks/hubspot?portal=62515"
BODY = b'[{"eventId":1,"subscriptionType":"ticket.propertyChange","objectId":7}]'
TS_MS = 1_700_000_000_123
NOW = datetime.fromtimestamp(TS_MS / 1000, tz=timezone.utc)


def v3_headers(ts_ms=TS_MS, sig=None):
    return {V3_HEADER: sig or sign_v3(SECRET, "POST", URI, BODY, ts_ms), TIMESTAMP_HEADER: str(ts_ms)}


def verify(hdrs, body=BODY, uris=URI, method="POST", secrets=(SECRET,)):
    return HubSpotVerifier(list(secrets)).verify(hdrs, body, method, uris, now=NOW)


def test_v3_matches_the_sdk_and_verifies():
    assert sign_v3(SECRET, "POST", URI, BODY, TS_MS) == Signature.get_signature(
        SECRET, BODY.decode(), "v3", URI, "POST", str(TS_MS)
    )
    assert verify(v3_headers()).version == "v3"


def test_v3_wrong_uri_method_or_secret_refused():
    for kwargs in ({"uris": URI + "&x=1"}, {"method": "PUT"}, {"secrets": ("other",)}):
        with pytest.raises(VerificationError, match="does not match"):
            verify(v3_headers(), **kwargs)


def test_any_candidate_uri_may_match():
    assert verify(v3_headers(), uris=["http://127.0.0.1:8800/webhooks/hubspot", URI]).version == "v3"


def test_escaped_uri_characters_are_decoded_like_hubspot():
    assert normalise_uri("https://h/p?a=b%3Ac%2Cd%40e") == "https://h/p?a=b:c,d@e"
    escaped = "https://hub.example.com/webhooks/hubspot?x=a%3Ab"
    sig = sign_v3(SECRET, "POST", "https://hub.example.com/webhooks/hubspot?x=a:b", BODY, TS_MS)
    verify(v3_headers(sig=sig), uris=escaped)


@pytest.mark.parametrize("missing", [V3_HEADER, TIMESTAMP_HEADER])
def test_each_missing_v3_header(missing):
    hdrs = v3_headers()
    del hdrs[missing]
    with pytest.raises(VerificationError, match="missing"):
        verify(hdrs)


@pytest.mark.parametrize(("offset_ms", "ok"), [(-299_000, True), (299_000, True), (-301_000, False), (301_000, False)])
def test_window_in_milliseconds(offset_ms, ok):
    hdrs = v3_headers(TS_MS + offset_ms)
    if ok:
        verify(hdrs)
    else:
        with pytest.raises(VerificationError, match="too old|in the future"):
            verify(hdrs)


@pytest.mark.parametrize("ts", ["abc", "1.7e12", "-1700000000000", "9" * 40])
def test_bad_timestamp(ts):
    with pytest.raises(VerificationError, match="not an integer"):
        verify(v3_headers() | {TIMESTAMP_HEADER: ts})


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_legacy_versions_when_asked(version):
    sig = Signature.get_signature(SECRET, BODY.decode(), version, URI, "POST")
    assert verify({LEGACY_HEADER: sig, VERSION_HEADER: version}).version == version
    with pytest.raises(VerificationError):
        verify({LEGACY_HEADER: sig, VERSION_HEADER: version}, body=BODY + b" ")


def test_legacy_refused_when_disabled_or_unlabelled():
    sig = Signature.get_signature(SECRET, BODY.decode(), "v1", URI, "POST")
    with pytest.raises(VerificationError, match=f"missing {V3_HEADER}"):
        verify({LEGACY_HEADER: sig})
    with pytest.raises(VerificationError, match=f"missing {V3_HEADER}"):
        HubSpotVerifier([SECRET], allow_legacy=False).verify({LEGACY_HEADER: sig, VERSION_HEADER: "v1"}, BODY, "POST", URI, now=NOW)


def test_every_single_bit_flip_refused():
    good = v3_headers()
    accepted = 0
    for target in (V3_HEADER, TIMESTAMP_HEADER, "body"):
        source = BODY if target == "body" else good[target].encode()
        for i in range(len(source)):
            for bit in range(8):
                b = bytearray(source)
                b[i] ^= 1 << bit
                hdrs, body = dict(good), BODY
                if target == "body":
                    body = bytes(b)
                else:
                    hdrs[target] = bytes(b).decode("latin-1")
                try:
                    verify(hdrs, body)
                    accepted += 1
                except VerificationError:
                    pass
    assert accepted == 0


@settings(max_examples=200, deadline=None)
@given(
    secret=st.text(alphabet="abcdef0123456789-", min_size=8, max_size=36),
    body=st.text(max_size=200).map(str.encode),
    path=st.text(alphabet="abcdefghijklmnopqrstuvwxyz/", max_size=30),
    age_ms=st.integers(0, 290_000),
    tamper=st.booleans(),
)
def test_agrees_with_the_sdk(secret, body, path, age_ms, tamper):
    now_ms = int(time.time() * 1000)
    uri = "https://hub.example.com/" + path
    ts = str(now_ms - age_ms)
    sig = sign_v3(secret, "POST", uri, body, int(ts))
    sent = body + b"!" if tamper else body
    sdk_ok = Signature.is_valid(sig, secret, sent.decode(), uri, "POST", signature_version="v3", timestamp=ts)
    try:
        HubSpotVerifier([secret]).verify(
            {V3_HEADER: sig, TIMESTAMP_HEADER: ts}, sent, "POST", uri, now=datetime.fromtimestamp(now_ms / 1000, timezone.utc)
        )
        ours_ok = True
    except VerificationError:
        ours_ok = False
    assert ours_ok == sdk_ok == (not tamper)
