"""Connector pieces that need no network: markers, payload shaping, operation dispatch, registration."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

import connectors.zendesk as package
from connectors.zendesk import Config
from connectors.zendesk.connector import ZendeskConnector, marker
from hub.errors import PermanentError

pytestmark = pytest.mark.unit


def connector() -> ZendeskConnector:
    return ZendeskConnector(Config(subdomain="acme", email="a@acme.test", token="t"))


def test_marker_is_eight_hex_of_the_key_hash():
    assert marker("action-1") == f"[db:{hashlib.sha256(b'action-1').hexdigest()[:8]}]"
    assert marker("action-1") != marker("action-2")


def test_ticket_body_drops_the_description_when_updating():
    zd = connector()
    body = zd.ticket_body({"subject": "s", "comment": {"body": "b"}, "priority": "high"}, creating=False)
    assert body == {"subject": "s", "priority": "high"}
    assert "comment" in zd.ticket_body({"subject": "s", "comment": {"body": "b"}}, creating=True)


def test_to_ticket_builds_zenpy_objects():
    ticket = ZendeskConnector.to_ticket({"subject": "s", "comment": {"body": "b", "public": False},
                                         "requester": {"name": "n", "email": "n@x.org"}})
    data = ticket.to_dict(serialize=True)
    assert data["comment"]["public"] is False and data["requester"]["email"] == "n@x.org"


def test_unknown_operation_and_missing_references_are_permanent():
    zd = connector()
    with pytest.raises(PermanentError, match="unknown operation"):
        zd.execute("launch", {}, "k")
    with pytest.raises(PermanentError, match="ticket_id or external_id"):
        zd.execute("update_ticket", {"status": "open"}, "k")
    with pytest.raises(PermanentError, match="external_id"):
        zd.execute("upsert_ticket", {"ticket": {}}, "k")
    with pytest.raises(PermanentError, match="no change stream"):
        zd.read_changes("comment", None, backfill=True)


def test_config_forbids_unknown_keys_and_hides_the_token():
    with pytest.raises(ValueError):
        Config(subdomain="a", email="e", token="t", tokn="x")
    assert "secret-token" not in repr(Config(subdomain="a", email="e", token="secret-token"))


def test_register_connectors_reads_the_config_block():
    hub = SimpleNamespace(settings=SimpleNamespace(connectors={"zendesk": {
        "subdomain": "acme", "email": "a@acme.test", "token": "t", "per_minute": 200}}), metrics=None)
    made = package.register_connectors(hub)
    assert made.name == "zendesk" and made.guard.per_minute == 200
    assert made.batch_operations["upsert_ticket"] == 100


def test_get_with_a_non_numeric_id_is_permanent_without_a_call():
    zd = connector()
    with pytest.raises(PermanentError, match="ids are numbers"):
        zd.get("ticket", "T-1")
    assert zd.guard.stats.calls == 0
