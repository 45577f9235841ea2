"""Webhook signing matches the SDK's verifier; event batching per subscription."""

from __future__ import annotations

import time

import pytest
from hubspot.utils.signature import Signature

from hub.sandbox.hubspot.webhooks import sign_v1, sign_v3

pytestmark = pytest.mark.unit


def test_v3_signature_matches_the_sdk():
    body = b'[{"eventId":1,"objectId":5}]'
    ts = str(int(time.time() * 1000))
    uri = "https://hub.example/webhooks/hubspot?x=1"
    ours = sign_v3("secret", "POST", uri, body, int(ts))
    assert ours == Signature.get_signature("secret", body.decode(), "v3", uri, "POST", ts)
    assert Signature.is_valid(ours, "secret", body.decode(), uri, "POST", "v3", ts)
    assert not Signature.is_valid(ours, "secret", body.decode() + " ", uri, "POST", "v3", ts)


def test_v1_signature_matches_the_sdk():
    body = b"[]"
    assert sign_v1("s3cret", body) == Signature.get_signature("s3cret", "[]", "v1")
