"""Document → bank KYC intake end to end: a real clamd scans the upload, the hub stores it encrypted and forwards
it through the outbox to the bank sandbox's KYC intake, once, with the document's idempotency key; malware is
never forwarded; a forward the bank refuses is dead-lettered, audited and noted on the ticket."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import requests
from sqlalchemy import select

from hub.app import create_app
from hub.db import AuditEntry, OutboxAction
from hub.pipeline import process_next_action
from plugins.documents.kyc import forward_key
from plugins.documents.service import store_for, upload_token
from tests.support.clamd import EICAR, running_clamd
from tests.unit.plugins.documents.conftest import make_pdf

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CUSTOMER = "CUST-0004"
TIMEOUT = 10


@pytest.fixture(scope="module")
def sandbox():
    from hub.sandbox.server import start_in_thread
    running = start_in_thread(port=0, systems=("bank", "zendesk"))
    requests.post(f"{running.url}/_sandbox/seed", timeout=60).raise_for_status()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    with running_clamd(tmp_path_factory.mktemp("clamd")) as address:
        yield address


@pytest.fixture
def hub(make_hub, sandbox, clamd):
    hub = make_hub({
        "connectors": {
            "zendesk": {"base_url": sandbox.url, "subdomain": "sandbox", "email": "agent@sandbox.test",
                        "token": "sandbox-token"},
            "core_banking": {"base_url": f"{sandbox.url}/bank/v1", "api_key": "sandbox-key"}},
        "plugins": {"documents": {"antivirus": {"clamd": clamd},
                                  "kyc_forwarding": {"enabled": True, "document_type": "passport"}}},
    })
    hub.startup()
    return hub


def bank_documents(sandbox, customer: str) -> list[dict]:
    answer = requests.get(f"{sandbox.url}/bank/v1/customers/{customer}/kyc-documents", timeout=TIMEOUT,
                          headers={"Authorization": "Bearer sandbox-key"})
    answer.raise_for_status()
    return answer.json()["data"]


def drain(hub) -> None:
    while process_next_action(hub, "e2e"):
        pass


def upload(hub, customer: str, ticket: str, data: bytes):
    client = create_app(hub=hub).test_client()
    token = upload_token(hub, "zendesk", ticket, customer)
    return client.post(f"/s/upload/{token}", data={"document": (io.BytesIO(data), "passport.pdf")},
                       content_type="multipart/form-data")


def audits(hub, action: str) -> list[tuple[str, str, dict]]:
    with hub.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return [(r.outcome, r.target, json.loads(r.detail or "{}")) for r in rows.scalars()]


def test_a_clean_upload_reaches_the_kyc_intake_once(hub, sandbox):
    before = len(bank_documents(sandbox, CUSTOMER))
    pdf = make_pdf(stream=b"BT /F1 12 Tf (Passport 123456) Tj ET")
    assert upload(hub, CUSTOMER, "7", pdf).status_code == 200
    (doc_id,) = store_for(hub).doc_ids()
    with hub.db.session() as session:
        row = session.execute(select(OutboxAction).where(OutboxAction.key == forward_key(doc_id))).scalar_one()
        # The waiting action names the document; its bytes never sit in the hub's database.
        assert (row.system, row.operation) == ("documents", "forward_kyc")
        assert "content" not in row.payload and json.loads(row.payload)["doc_id"] == doc_id
    drain(hub)
    documents = bank_documents(sandbox, CUSTOMER)
    assert len(documents) == before + 1
    sent = documents[-1]
    assert sent["sha256"] == hashlib.sha256(pdf).hexdigest() and sent["document_type"] == "passport"
    assert sent["content_type"] == "application/pdf" and sent["filename"] == "passport.pdf"
    content = requests.get(f"{sandbox.url}/_sandbox/bank/kyc-documents/{sent['id']}/content", timeout=TIMEOUT)
    assert content.content == pdf
    ((outcome, target, detail),) = audits(hub, "document.kyc_forward")
    assert (outcome, target, detail["bank_document"]) == ("ok", f"document:{doc_id}", sent["id"])

    # A retry of the same action (an answer lost after the bank stored it) gets the first answer back.
    again = hub.connectors["documents"].execute("forward_kyc", {"doc_id": doc_id, "customer_id": CUSTOMER},
                                                forward_key(doc_id))
    assert again["id"] == sent["id"]
    assert len(bank_documents(sandbox, CUSTOMER)) == before + 1


def test_malware_is_neither_stored_nor_forwarded(hub, sandbox):
    before = len(bank_documents(sandbox, CUSTOMER))
    infected = make_pdf().replace(b"\n", b"\n%" + EICAR + b"\n", 1)
    assert upload(hub, CUSTOMER, "8", infected).status_code == 422
    drain(hub)
    assert store_for(hub).doc_ids() == []
    assert len(bank_documents(sandbox, CUSTOMER)) == before
    assert audits(hub, "document.kyc_forward") == []


def test_a_forward_the_bank_refuses_is_dead_lettered_audited_and_noted(hub, sandbox):
    assert upload(hub, "CUST-9999", "9", make_pdf()).status_code == 200  # no such customer at the bank
    (doc_id,) = store_for(hub).doc_ids()
    drain(hub)
    with hub.db.session() as session:
        row = session.execute(select(OutboxAction).where(OutboxAction.key == forward_key(doc_id))).scalar_one()
        assert row.status == "dead"
    ((outcome, target, detail),) = audits(hub, "document.kyc_forward")
    assert (outcome, target) == ("failed", f"document:{doc_id}")
    assert "no such customer" in detail["reason"].lower() or "404" in detail["reason"], detail
    with hub.db.session() as session:
        notes = session.execute(select(OutboxAction).where(
            OutboxAction.key == f"docs:{doc_id}:kyc-failed-note")).scalars().all()
    assert len(notes) == 1 and "could not be forwarded" in json.loads(notes[0].payload)["body"]


def test_forwarding_without_the_bank_connector_is_named_at_start_up(make_hub, caplog):
    hub = make_hub({"plugins": {"documents": {"kyc_forwarding": {"enabled": True}}}})
    hub.startup()
    assert "kyc_forwarding: enabled, but the core_banking connector is not" in caplog.text
    with pytest.raises(Exception, match="needs the core_banking connector"):
        hub.connectors["documents"].execute("forward_kyc", {"doc_id": "0" * 32, "customer_id": "C"}, "k")


def test_config_check_refuses_a_document_type_the_bank_does_not_take(tmp_path):
    from hub.configcheck import check
    (tmp_path / "hub.yaml").write_text("plugins:\n  documents:\n    kyc_forwarding:\n      enabled: true\n"
                                       "      document_type: identity_document\n")
    found = "\n".join(str(p) for p in check(tmp_path))
    assert "plugins.documents.kyc_forwarding.document_type" in found and "'passport'" in found


def test_the_demo_forwards_to_kyc_and_without_clamd_stores_unscanned_saying_so(tmp_path, caplog):
    """config/demo as `deskbridge demo` runs it: config check passes; with nothing at the clamd address the hub
    starts, says uploads are stored unscanned, stores one unscanned and forwards it to the sandbox's KYC intake."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.support.demo_hub import DEMO_CONFIG, ZD_AUTH, start_demo_hub

    repo = Path(__file__).resolve().parents[2]
    checked = subprocess.run([sys.executable, "-m", "hub.cli", "config", "check", str(DEMO_CONFIG)], cwd=repo,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    caplog.set_level("INFO", logger="plugins.documents")
    # Not the demo's tcp://127.0.0.1:3310, which a developer's own clamd may answer: a socket nobody serves.
    nowhere = f"unix://{tmp_path}/no-clamd.sock"
    demo = start_demo_hub(tmp_path / "data", plugins={"documents": {"antivirus": {"clamd": nowhere}}})
    try:
        config = demo.hub.plugin_config("documents")
        assert config.kyc_forwarding.enabled and config.antivirus.required is False  # as config/demo sets them
        (said,) = [r.getMessage() for r in caplog.records
                   if r.name == "plugins.documents" and r.getMessage().startswith("antivirus:")]
        assert said.startswith(f"antivirus: clamd at {nowhere} is not reachable → uploads are stored unscanned")
        ticket = requests.get(f"{demo.sandbox.url}/api/v2/tickets.json", auth=ZD_AUTH,
                              timeout=TIMEOUT).json()["tickets"][0]
        token = upload_token(demo.hub, "zendesk", str(ticket["id"]), CUSTOMER)
        sent = requests.post(f"{demo.url}/s/upload/{token}", timeout=TIMEOUT,
                             files={"document": ("passport.pdf", make_pdf(), "application/pdf")})
        assert sent.status_code == 200, sent.text
        (doc_id,) = store_for(demo.hub).doc_ids()
        assert store_for(demo.hub).info(doc_id).scan.startswith(f"unscanned: clamd at {nowhere}")
        demo.settle()
        assert [a["status"] for a in demo.outbox_actions("documents", "forward_kyc")] == ["done"], demo.dead()
        (forwarded,) = [d for d in bank_documents(demo.sandbox, CUSTOMER) if d.get("filename") == "passport.pdf"]
        assert forwarded["sha256"] == hashlib.sha256(make_pdf()).hexdigest()
    finally:
        demo.stop()
