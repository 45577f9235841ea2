"""Zendesk webhook signing: timestamp + body, base64 HMAC-SHA256 with the secret as UTF-8 text."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from hub.sandbox.zendesk.webhooks import sign

pytestmark = pytest.mark.unit


def test_signature_is_timestamp_then_body():
    secret, stamp, body = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", "2021-03-25T05:09:27Z", b'{"a":1}'
    expected = base64.b64encode(hmac.new(secret.encode(), (stamp + '{"a":1}').encode(), hashlib.sha256).digest())
    assert sign(secret, stamp, body) == expected.decode()
    swapped = base64.b64encode(hmac.new(secret.encode(), b'{"a":1}' + stamp.encode(), hashlib.sha256).digest())
    assert sign(secret, stamp, body) != swapped.decode()


def test_signature_changes_with_any_byte():
    assert sign("s", "2021-03-25T05:09:27Z", b"{}") != sign("s", "2021-03-25T05:09:28Z", b"{}")
    assert sign("s", "2021-03-25T05:09:27Z", b"{}") != sign("s", "2021-03-25T05:09:27Z", b"{ }")
