"""S3/S9: card numbers, API tokens and webhook secrets fed through every path of the pipeline (webhooks, plugin
state and audit, outbox, a vendor error that echoes a card number, dead letters, API calls) are found nowhere
afterwards: not in the log, not in the SQLite file or its WAL, not in any audit entry."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from hub.errors import PermanentError
from hub.hookspecs import hookimpl
from tests.conftest import BANKING_SECRET
from tests.security.conftest import PANS, find_pans, known_pans

pytestmark = pytest.mark.unit
ZENDESK_SECRET = "secrets-at-rest-zendesk-secret"
VENDOR_ECHO = "4012 8888 8888 1881"  # a vendor's 400 body quoting a card number back
BOGUS_TOKEN = "dbt_secrets-at-rest-bogus-token-value"


class EchoCrm:
    """A connector whose vendor refuses every write and quotes a card number in its error."""

    name = "echo_crm"

    def execute(self, operation, payload, idempotency_key):
        raise PermanentError(f"400 Bad Request: field description '{VENDOR_ECHO}' looks like a card number")

    def check(self):
        return {"ok": True, "detail": "fake"}


class Careless:
    """A plugin that handles card data as carelessly as real code might: logs it, audits it, stores it, sends it."""

    @hookimpl
    def register_connectors(self, hub):
        return EchoCrm()

    @hookimpl
    def on_event(self, event, ctx):
        text = json.dumps(event.data)
        logging.getLogger("plugins.careless").info("got %s", text, extra={"data": event.data})
        ctx.state("careless").set(event.event_id, {"seen": text, "raw": PANS[0]})
        ctx.audit("plugin:careless", "note.copy", f"card {PANS[1]}", "ok", card=PANS[2], text=text)
        ctx.emit("echo_crm", "create_note", {"body": f"customer pasted {PANS[3]}", "data": event.data},
                 key=f"note-{event.event_id}")


def banking_event(card: str) -> dict:
    return {"id": f"evt_{uuid.uuid4().hex}", "type": "fraud.alert.created",
            "created_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            "data": {"alert_id": "AL-1", "customer_id": "CUST-0001", "risk_score": 0.97,
                     "reason": f"card {card} used in two countries", "card_last4": card[-4:]}}


def post_banking(client, event: dict):
    from webhooks.verifiers.standard import sign
    body = json.dumps(event).encode()
    stamp = int(time.time())
    msg_id = f"msg_{uuid.uuid4().hex}"
    return client.post("/webhooks/banking", data=body, content_type="application/json",
                       headers={"webhook-id": msg_id, "webhook-timestamp": str(stamp),
                                "webhook-signature": sign(BANKING_SECRET, msg_id, stamp, body)})


def post_zendesk(client, body: dict):
    from webhooks.verifiers.zendesk import sign
    raw = json.dumps(body).encode()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return client.post("/webhooks/zendesk", data=raw, content_type="application/json",
                       headers={"X-Zendesk-Webhook-Signature": sign(ZENDESK_SECRET, stamp, raw),
                                "X-Zendesk-Webhook-Signature-Timestamp": stamp})


def drain(hub) -> None:
    from hub.pipeline import process_next_action, process_next_event
    for _ in range(50):
        if not (process_next_event(hub, "scan") | process_next_action(hub, "scan")):
            return
    raise AssertionError("the pipeline did not settle")


@pytest.fixture
def scanned(make_hub, log_stream):
    """Run every path once, then return what is left behind: (hub, log text, database bytes, api token)."""
    from hub.api import create_token
    from hub.app import create_app
    hub = make_hub({"webhooks": {"zendesk_secrets": [ZENDESK_SECRET]}}, plugins=[Careless()])
    client = create_app(hub=hub).test_client()
    for pan in PANS:
        assert post_banking(client, banking_event(pan)).status_code == 202
    assert post_zendesk(client, {"id": "ZD-1", "type": "comment.created",
                                 "data": {"body": f"my card is {PANS[0]}, cvv 123"}}).status_code == 202
    drain(hub)
    token = create_token(hub, "scanner", ["admin"])
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/dead-letters", headers=auth).status_code == 200
    assert client.post("/api/v1/dead-letters/replay", json={}, headers=auth).get_json()["replayed"] >= 1
    assert client.get("/api/v1/status", headers={"Authorization": f"Bearer {BOGUS_TOKEN}"}).status_code == 401
    drain(hub)
    db_path = hub.settings.data_dir / "deskbridge.db"
    stored = b"".join(p.read_bytes() for p in (db_path, db_path.with_name(db_path.name + "-wal")) if p.exists())
    return hub, log_stream.getvalue(), stored, token


def test_the_paths_were_really_taken(scanned):
    from hub.db import AuditEntry, DeadLetter, OutboxAction
    hub, logged, stored, _ = scanned
    with hub.db.session() as session:
        assert session.execute(select(DeadLetter)).scalars().all()  # the vendor's echo reached the dead letters
        assert len(session.execute(select(OutboxAction)).scalars().all()) == len(PANS) + 1
        actions = {e.action for e in session.execute(select(AuditEntry)).scalars()}
    assert {"note.copy", "api_token.create", "dlq.replay", "api.auth"} <= actions
    assert "plugins.careless" in logged and len(stored) > 100_000


def test_no_card_number_in_the_log_the_database_or_the_audit_log(scanned):
    from hub.db import AuditEntry
    hub, logged, stored, _ = scanned
    assert find_pans(logged) == [] and known_pans(logged) == []
    assert [pan[-4:] for pan in find_pans(stored)] == []
    assert [pan[-4:] for pan in known_pans(stored) + known_pans(stored.decode("latin-1").replace("\x00", ""))] == []
    assert VENDOR_ECHO.replace(" ", "").encode() not in stored and VENDOR_ECHO.encode() not in stored
    with hub.db.session() as session:
        entries = [" ".join(map(str, (e.actor, e.action, e.target, e.outcome, e.source, e.detail)))
                   for e in session.execute(select(AuditEntry)).scalars()]
    assert [e for e in entries if find_pans(e) or known_pans(e)] == []


def test_api_tokens_and_webhook_secrets_are_never_stored_or_logged(scanned):
    from hub.db import ApiToken
    hub, logged, stored, token = scanned
    for secret in (token, token[4:], BOGUS_TOKEN, BANKING_SECRET, BANKING_SECRET[6:], ZENDESK_SECRET):
        assert secret.encode() not in stored, secret[:8]
        assert secret not in logged, secret[:8]
    with hub.db.session() as session:
        row = session.execute(select(ApiToken).where(ApiToken.name == "scanner")).scalar_one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only the hash is kept
