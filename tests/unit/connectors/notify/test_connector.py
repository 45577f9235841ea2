"""Notify operations that fail before any I/O."""

from __future__ import annotations

import pytest

from connectors.notify import Config
from connectors.notify.connector import NotifyConnector, message_id
from hub.errors import PermanentError

pytestmark = pytest.mark.unit


def test_message_id_is_fixed_by_the_key():
    assert message_id("k1") == message_id("k1") != message_id("k2")
    assert message_id("k1").startswith("<") and message_id("k1").endswith("@deskbridge>")


@pytest.mark.parametrize("operation,payload,reason", [
    ("notify_webhook", {"url": "http://127.0.0.1/x"}, "json object"),
    ("send_email", {"to": ["a@b.co", "bad"], "subject": "s"}, "valid 'to'"),
    ("send_email", {"to": "a@b.co", "subject": "  \r\n "}, "subject"),
    ("page_oncall", {}, "unknown operation"),
])
def test_invalid_payloads_are_permanent(operation, payload, reason):
    notify = NotifyConnector(Config(allowed_hosts=["127.0.0.1"], smtp_host="127.0.0.1"))
    with pytest.raises(PermanentError, match=reason):
        notify.execute(operation, payload, "k")
    assert notify.guard.stats.calls == 0
