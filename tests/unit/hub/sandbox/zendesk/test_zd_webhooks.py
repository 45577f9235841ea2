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


def test_user_events_name_each_change():
    from hub.sandbox.zendesk.webhooks import user_events

    before = {"name": "Ann", "email": "a@x.io", "tags": ["vip"], "user_fields": {"segment": "end_user"},
              "external_id": None}
    after = {"name": "Ann Lee", "email": "ann@x.io", "tags": ["vip", "kyc_verified"],
             "user_fields": {"segment": "merchant"}, "external_id": None}
    kinds = [kind for kind, _ in user_events(before, after)]
    assert kinds == ["user.name_changed", "user.identity_changed", "user.tags_changed",
                     "user.custom_field_changed"]
    assert user_events(None, after) == [("user.created", {})]
    assert user_events(after, dict(after)) == []
