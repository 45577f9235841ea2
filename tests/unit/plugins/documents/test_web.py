"""The documents plugin in a real hub: request link, customer upload page, agent download, audit, CLI rotation."""

from __future__ import annotations

import io
import json
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hub.api import create_token
from hub.app import create_app
from hub.db import AuditEntry, OutboxAction
from hub.inbox import store_event
from hub.pipeline import process_next_event
from plugins.documents.cli import rotate_keys
from plugins.documents.service import download_token, store_for, upload_token

from .conftest import make_pdf, make_png, make_zip

pytestmark = pytest.mark.unit


@pytest.fixture
def hub(make_hub):
    hub = make_hub({"plugins": {"documents": {"max_upload_bytes": 2 * 1024 * 1024}}})
    hub.startup()
    return hub


@pytest.fixture
def client(hub):
    app = create_app(hub=hub)
    app.testing = True
    return app.test_client()


def outbox(hub) -> list[tuple[str, str, str, dict]]:
    with hub.db.session() as session:
        rows = session.execute(select(OutboxAction).order_by(OutboxAction.id)).scalars()
        return [(r.system, r.operation, r.key, json.loads(r.payload)) for r in rows]


def audit(hub, action: str) -> list[tuple[str, str, str]]:
    with hub.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return [(r.actor, r.target, r.outcome) for r in rows.scalars()]


def send(hub, event_id: str, type_: str, data: dict) -> None:
    with hub.db.session() as session:
        store_event(session, "zendesk", event_id, type_, {"data": data})
    while process_next_event(hub, "test"):
        pass


def post_file(client, token: str, name: str, data: bytes):
    return client.post(f"/s/upload/{token}", data={"document": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_tagged_ticket_gets_one_upload_link(hub):
    ticket = {"system": "zendesk", "id": 42, "tags": ["kyc", "request_documents"], "customer_id": "CUST-0001"}
    send(hub, "e1", "ticket.created", ticket)
    send(hub, "e2", "ticket.updated", ticket)
    actions = outbox(hub)
    assert [(s, op) for s, op, _, _ in actions] == [("core_banking", "send_notification"),
                                                     ("zendesk", "add_internal_note")]
    message = actions[0][3]["message"]
    assert actions[0][3]["customer_id"] == "CUST-0001"
    assert re.search(r"http://127\.0\.0\.1:8800/s/upload/\S+$", message)
    assert audit(hub, "document.request") == [("plugin:documents", "zendesk:42", "ok")]


def test_untagged_ticket_is_ignored(hub):
    send(hub, "e1", "ticket.created", {"system": "zendesk", "id": 1, "tags": ["cards"], "customer_id": "C"})
    assert outbox(hub) == []


def test_upload_form_is_mobile_first_and_not_cached(hub, client):
    response = client.get("/s/upload/" + upload_token(hub, "zendesk", "42", "CUST-1"))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'name="viewport"' in body and 'type="file"' in body
    assert response.headers["Cache-Control"] == "no-store"


def test_upload_stores_encrypted_notes_ticket_and_is_single_use(hub, client):
    token = upload_token(hub, "zendesk", "42", "CUST-1")
    data = make_pdf()
    response = post_file(client, token, "passport.pdf", data)
    assert response.status_code == 200, response.get_data(as_text=True)
    store = store_for(hub)
    (doc_id,) = store.doc_ids()
    assert store.get(doc_id, ticket_id="42") == ("passport.pdf", "application/pdf", data)
    (note,) = [a for a in outbox(hub) if a[1] == "add_internal_note"]
    assert note[0] == "zendesk" and note[3]["ticket_id"] == "42"
    assert "/documents/download/" in note[3]["body"]
    assert audit(hub, "document.upload") == [("customer:CUST-1", f"document:{doc_id}", "ok")]
    again = post_file(client, token, "passport.pdf", data)
    assert again.status_code == 410
    assert client.get(f"/s/upload/{token}").status_code == 410
    assert store.doc_ids() == [doc_id]


@pytest.mark.parametrize("name,data,status", [
    ("id.pdf", make_zip({"a": b"\x00" * 100_000}), 415),
    ("id.png", make_png(20_000, 20_000), 413),
    ("id.pdf", make_pdf(catalog_extra=b"/OpenAction << /S /JavaScript /JS (x) >>"), 422),
    ("id.exe", b"MZ" + b"\x00" * 200, 415),
], ids=["zip", "pixel-flood", "pdf-js", "exe"])
def test_rejected_upload_is_4xx_and_keeps_the_link_usable(hub, client, name, data, status):
    token = upload_token(hub, "zendesk", "42", "CUST-1")
    response = post_file(client, token, name, data)
    assert response.status_code == status
    assert "not accepted" in response.get_data(as_text=True)
    assert store_for(hub).doc_ids() == []
    assert post_file(client, token, "ok.png", make_png()).status_code == 200


def test_oversize_body_refused_413(hub, client):
    token = upload_token(hub, "zendesk", "42", "CUST-1")
    response = post_file(client, token, "big.pdf", b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024))
    assert response.status_code == 413


def test_bad_and_expired_links(hub, client):
    assert client.get("/s/upload/not-a-token").status_code == 404
    with freeze_time("2026-01-01 10:00:00"):
        token = upload_token(hub, "zendesk", "42", "CUST-1")
    with freeze_time("2026-01-04 11:00:00"):  # 73 hours later
        assert client.get(f"/s/upload/{token}").status_code == 410


def test_download_needs_login_is_audited_and_served_as_attachment(hub, client):
    doc_id = store_for(hub).put("42", "CUST-1", "scan.png", make_png())
    url = "/documents/download/" + download_token(hub, doc_id, "42")
    anonymous = client.get(url)
    assert anonymous.status_code == 401
    assert make_png() not in anonymous.data
    token = create_token(hub, "agent-tool", ["admin"])
    reader = create_token(hub, "reader", ["read"])
    assert client.get(url, headers={"Authorization": f"Bearer {reader}"}).status_code == 401
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.data == make_png()
    assert response.headers["Content-Disposition"] == "attachment; filename=scan.png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "image/png"
    assert audit(hub, "document.download") == [
        ("anonymous", f"document:{doc_id}", "denied"), ("anonymous", f"document:{doc_id}", "denied"),
        ("token:agent-tool", f"document:{doc_id}", "ok")]


def test_console_session_can_download(hub, client, monkeypatch):
    monkeypatch.setattr("plugins.documents.web._console_user", lambda: "admin")
    doc_id = store_for(hub).put("42", "CUST-1", "scan.png", make_png())
    response = client.get("/documents/download/" + download_token(hub, doc_id, "42"))
    assert response.status_code == 200
    assert audit(hub, "document.download")[-1] == ("console:admin", f"document:{doc_id}", "ok")


def test_forged_console_cookie_is_not_a_login(hub, client):
    doc_id = store_for(hub).put("42", "CUST-1", "scan.png", make_png())
    with client.session_transaction() as session:
        session["sid"] = "made-up-session"
        session["console_user"] = "admin"
    assert client.get("/documents/download/" + download_token(hub, doc_id, "42")).status_code == 401


def test_download_link_for_another_ticket_fails(hub, client, monkeypatch):
    monkeypatch.setattr("plugins.documents.web._console_user", lambda: "admin")
    doc_id = store_for(hub).put("42", "CUST-1", "scan.png", make_png())
    assert client.get("/documents/download/" + download_token(hub, doc_id, "43")).status_code == 404
    assert client.get("/documents/download/" + download_token(hub, "0" * 32, "42")).status_code == 404


def test_cli_rotation_keeps_documents_readable(hub):
    store = store_for(hub)
    doc_id = store.put("42", "CUST-1", "scan.png", make_png())
    before = store.info(doc_id).kek_id
    text = rotate_keys(hub)
    assert "re-wrapped 1 document key(s)" in text and f"retired: {before}" in text
    assert store.info(doc_id).kek_id != before
    assert store.get(doc_id)[2] == make_png()


def test_ticket_without_customer_gets_a_note_instead(hub):
    send(hub, "e1", "ticket.created", {"system": "zendesk", "id": 7, "tags": ["request_documents"]})
    (action,) = outbox(hub)
    assert action[:2] == ("zendesk", "add_internal_note")
    assert "no linked bank customer" in action[3]["body"]


def test_retention_job_purges_old_documents(hub):
    from datetime import datetime, timedelta, timezone

    from hub import clock

    jobs = [job for group in hub.pm.hook.register_jobs(hub=hub) for job in group]
    (purge,) = [job for job in jobs if job.id == "documents.purge"]
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    clock.set_clock(lambda: start)
    try:
        doc_id = store_for(hub).put("42", "C", "a.png", make_png())
        clock.set_clock(lambda: start + timedelta(days=89))
        purge.func(hub)
        assert store_for(hub).doc_ids() == [doc_id]
        clock.set_clock(lambda: start + timedelta(days=91))
        purge.func(hub)
        assert store_for(hub).doc_ids() == []
    finally:
        clock.set_clock(None)
