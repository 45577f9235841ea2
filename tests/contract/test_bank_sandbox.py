"""The core banking emulator through plain HTTP, as the core_banking connector sees it."""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests
from openapi_spec_validator import validate

from hub.sandbox.server import start_in_thread

pytestmark = pytest.mark.contract

AUTH = {"Authorization": "Bearer sandbox-key"}


@pytest.fixture(scope="module")
def running():
    sandbox = start_in_thread(systems=("bank",))
    yield sandbox
    sandbox.stop()


@pytest.fixture
def bank(running):
    """A session against freshly seeded data."""
    session = requests.Session()
    session.headers.update(AUTH)
    assert session.post(f"{running.url}/_sandbox/seed", timeout=10).status_code == 200
    session.base = f"{running.url}/bank/v1"
    yield session
    session.close()


def _get(session, path, **params):
    return session.get(f"{session.base}{path}", params=params, timeout=10)


def _post(session, path, body=None, key=None, **kwargs):
    headers = {"Idempotency-Key": key} if key else {}
    return session.post(f"{session.base}{path}", json=body, headers=headers, timeout=10, **kwargs)


def _outgoing_posted(session, customer_id):
    """Posted money-out transactions of the customer that carry no dispute yet."""
    txns = _get(session, f"/customers/{customer_id}/transactions", status="posted", limit=100).json()["data"]
    disputed = {d["transaction_id"] for d in _get(session, "/disputes", limit=100).json()["data"]}
    return [t for t in txns if t["amount"].startswith("-") and t["id"] not in disputed]


def _customer_with_spending(session, first: int) -> tuple[str, dict]:
    for number in range(first, 51):
        customer_id = f"CUST-{number:04d}"
        txns = _outgoing_posted(session, customer_id)
        if txns:
            return customer_id, txns[0]
    raise AssertionError("the seed data has no disputable transaction")


def test_wrong_or_missing_key_gets_401_error_body(running):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic c2FuZGJveC1rZXk6"}):
        response = requests.get(f"{running.url}/bank/v1/customers", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_openapi_document_is_public_and_describes_every_route(running):
    response = requests.get(f"{running.url}/bank/v1/openapi.json", timeout=10)
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    for path in ("/bank/v1/customers", "/bank/v1/customers/{customer_id}/summary", "/bank/v1/cards/{card_id}/freeze",
                 "/bank/v1/refunds", "/bank/v1/disputes/{dispute_id}", "/bank/v1/notifications",
                 "/bank/v1/customers/{customer_id}/kyc-documents", "/bank/v1/customers/{customer_id}/consents"):
        assert path in doc["paths"], path
    validate(doc)  # the OpenAPI 3.1 meta-schema, and every $ref resolves


def test_customers_paginate_with_limit_and_starting_after(bank):
    seen, after = [], None
    while True:
        params = {"limit": 20} | ({"starting_after": after} if after else {})
        page = _get(bank, "/customers", **params).json()
        seen += [c["id"] for c in page["data"]]
        if not page["has_more"]:
            assert page["next_starting_after"] is None
            break
        after = page["next_starting_after"]
        assert after == page["data"][-1]["id"]
    assert len(seen) == 50 and len(set(seen)) == 50 and seen == sorted(seen)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"starting_after": "CUST-NOPE"}])
def test_bad_pagination_is_422(bank, params):
    response = _get(bank, "/customers", **params)
    assert response.status_code == 422
    assert response.json()["error"]["param"] in ("limit", "starting_after")


def test_lookup_by_email_is_case_insensitive_and_exact(bank):
    customer = _get(bank, "/customers/CUST-0007").json()
    found = _get(bank, "/customers", email=customer["email"].upper()).json()["data"]
    assert [c["id"] for c in found] == ["CUST-0007"]
    assert _get(bank, "/customers", email="nobody@example.com").json()["data"] == []


def test_unknown_records_and_routes_are_404_json(bank):
    for path in ("/customers/CUST-9999", "/cards/CARD-X", "/disputes/DSP-X", "/refunds/RFD-X", "/nothing/here"):
        response = _get(bank, path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] in ("resource_not_found", "route_not_found")


def test_patch_updates_contact_details_and_rejects_the_rest(bank):
    updated = bank.patch(f"{bank.base}/customers/CUST-0003", json={"phone": "+447700900999"}, timeout=10)
    assert updated.status_code == 200 and updated.json()["phone"] == "+447700900999"
    assert _get(bank, "/customers/CUST-0003").json()["phone"] == "+447700900999"
    for body, param in (({"phone": "0770"}, "phone"), ({"email": "not-an-email"}, "email"),
                        ({"kyc_status": "verified"}, "kyc_status")):
        response = bank.patch(f"{bank.base}/customers/CUST-0003", json=body, timeout=10)
        assert response.status_code == 422 and response.json()["error"]["param"] == param


def test_summary_gives_agent_context(bank, running):
    customer_id, txn = _customer_with_spending(bank, 4)
    failed = bank.post(f"{running.url}/_sandbox/bank/payments", timeout=10, json={
        "customer_id": customer_id, "amount": "42.00", "failure_code": "insufficient_funds"}).json()
    dispute = _post(bank, "/disputes", {"transaction_id": txn["id"], "reason": "fraudulent"}).json()
    summary = _get(bank, f"/customers/{customer_id}/summary").json()
    assert summary["segment"] in ("end_user", "merchant", "investor")
    assert summary["kyc_status"] in ("pending", "verified", "rejected", "expired")
    assert summary["accounts"] and all({"id", "status"} <= set(a) for a in summary["accounts"])
    assert failed["id"] in [p["id"] for p in summary["recent_failed_payments"]]
    assert summary["recent_failed_payments"][0]["amount"] == "42.00"
    assert dispute["id"] in [d["id"] for d in summary["open_disputes"]]
    assert summary["lifetime_value"]


def test_card_freeze_is_idempotent_with_the_same_key(bank):
    first = _post(bank, "/cards/CARD-0002-01/freeze", {"reason": "lost"}, key="freeze-1")
    assert first.status_code == 200 and first.json()["status"] == "frozen"
    _post(bank, "/cards/CARD-0002-01/unfreeze", key="unfreeze-1")
    replay = _post(bank, "/cards/CARD-0002-01/freeze", {"reason": "lost"}, key="freeze-1")
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    # The replay did not act again: the card stays as the unfreeze left it.
    assert _get(bank, "/cards/CARD-0002-01").json()["status"] == "active"
    other = _post(bank, "/cards/CARD-0002-02/freeze", key="freeze-1")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


def test_account_freeze_and_unfreeze(bank):
    account = _get(bank, "/customers/CUST-0001/accounts").json()["data"][0]
    frozen = _post(bank, f"/accounts/{account['id']}/freeze", {"reason": "fraud_suspected"}).json()
    assert frozen["status"] == "frozen" and frozen["freeze_reason"] == "fraud_suspected"
    assert _post(bank, f"/accounts/{account['id']}/unfreeze").json()["status"] == "active"


def test_transactions_by_customer_account_and_updated_since(bank, running):
    all_txns = _get(bank, "/transactions", customer_id="CUST-0006", limit=100).json()["data"]
    assert all_txns and {t["customer_id"] for t in all_txns} == {"CUST-0006"}
    account_id = all_txns[0]["account_id"]
    by_account = _get(bank, f"/accounts/{account_id}/transactions", limit=100).json()["data"]
    assert by_account and {t["account_id"] for t in by_account} == {account_id}
    marker = running.sandbox.now().replace(microsecond=0).isoformat().replace("+00:00", "Z")
    # updated_at has second precision: move the sandbox clock so the new payment falls after the marker.
    bank.post(f"{running.url}/_sandbox/clock", json={"advance_seconds": 5}, timeout=10)
    new = bank.post(f"{running.url}/_sandbox/bank/payments", timeout=10,
                    json={"customer_id": "CUST-0006", "amount": "5.00"}).json()
    recent = _get(bank, "/transactions", updated_since=marker, limit=100).json()["data"]
    assert new["id"] in [t["id"] for t in recent]
    assert all(t["updated_at"] >= marker for t in recent)
    assert _get(bank, "/transactions", updated_since="yesterday").status_code == 422


def test_dispute_lifecycle(bank):
    customer_id, txn = _customer_with_spending(bank, 8)
    created = _post(bank, "/disputes", {"transaction_id": txn["id"], "reason": "product_not_received"})
    assert created.status_code == 201
    dispute = created.json()
    assert dispute["status"] == "needs_response" and dispute["amount"] == txn["amount"].lstrip("-")
    assert _post(bank, "/disputes", {"transaction_id": txn["id"]}).status_code == 409
    listed = _get(bank, "/disputes", customer_id=customer_id).json()["data"]
    assert dispute["id"] in [d["id"] for d in listed]
    review = bank.patch(f"{bank.base}/disputes/{dispute['id']}", json={"status": "under_review"}, timeout=10)
    assert review.json()["status"] == "under_review"
    won = bank.patch(f"{bank.base}/disputes/{dispute['id']}", json={"status": "won"}, timeout=10).json()
    assert won["outcome"] == "won"
    reopened = bank.patch(f"{bank.base}/disputes/{dispute['id']}", json={"status": "under_review"}, timeout=10)
    assert reopened.status_code == 409
    assert bank.patch(f"{bank.base}/disputes/{dispute['id']}", json={"status": "maybe"}, timeout=10).status_code == 422


def test_refunds_with_idempotency_and_limits(bank):
    _, txn = _customer_with_spending(bank, 9)
    spent = txn["amount"].lstrip("-")
    first = _post(bank, "/refunds", {"transaction_id": txn["id"], "amount": "1.00"}, key="refund-a")
    assert first.status_code == 201
    again = _post(bank, "/refunds", {"transaction_id": txn["id"], "amount": "1.00"}, key="refund-a")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert _get(bank, f"/refunds/{first.json()['id']}").json()["amount"] == "1.00"
    too_much = _post(bank, "/refunds", {"transaction_id": txn["id"], "amount": spent})
    assert too_much.status_code == 422 and too_much.json()["error"]["code"] == "amount_too_large"
    assert _post(bank, "/refunds", {"transaction_id": txn["id"], "amount": "1.001"}).status_code == 422
    credit = _get(bank, f"/transactions/{first.json()['credit_transaction_id']}").json()
    assert credit["amount"] == "1.00"


def test_kyc_documents_multipart_and_json(bank, running):
    content = b"%PDF-1.4 fake passport scan"
    multipart = bank.post(f"{bank.base}/customers/CUST-0010/kyc-documents", timeout=10,
                          files={"file": ("passport.pdf", content, "application/pdf")},
                          data={"document_type": "passport"})
    assert multipart.status_code == 201
    doc = multipart.json()
    assert doc["size"] == len(content) and doc["sha256"] == hashlib.sha256(content).hexdigest()
    as_json = _post(bank, "/customers/CUST-0010/kyc-documents", {
        "document_type": "proof_of_address", "filename": "bill.png", "content_type": "image/png",
        "content_base64": base64.b64encode(b"\x89PNG....").decode()})
    assert as_json.status_code == 201
    listed = _get(bank, "/customers/CUST-0010/kyc-documents").json()["data"]
    assert {d["id"] for d in listed} == {doc["id"], as_json.json()["id"]}
    stored = requests.get(f"{running.url}/_sandbox/bank/kyc-documents/{doc['id']}/content", timeout=10)
    assert stored.content == content
    bad = _post(bank, "/customers/CUST-0010/kyc-documents", {"content_base64": "!!!"})
    assert bad.status_code == 422


def test_consents_grant_and_withdraw_per_purpose(bank):
    assert _post(bank, "/customers/CUST-0011/consents", {"purpose": "marketing_sms", "action": "grant",
                                                         "text_version": "2025-06", "channel": "app"}).status_code == 201
    consents = {c["purpose"]: c for c in _get(bank, "/customers/CUST-0011/consents").json()["data"]}
    assert consents["marketing_sms"]["granted"] is True and consents["marketing_sms"]["text_version"] == "2025-06"
    _post(bank, "/customers/CUST-0011/consents", {"purpose": "marketing_sms", "action": "withdraw"})
    consents = {c["purpose"]: c for c in _get(bank, "/customers/CUST-0011/consents").json()["data"]}
    assert consents["marketing_sms"]["granted"] is False


def test_notifications_are_readable_by_tests(bank, running):
    sent = _post(bank, "/notifications", {"customer_id": "CUST-0012", "channel": "sms", "template": "otp",
                                          "message": "Your Deskbridge code is 482913"})
    assert sent.status_code == 201 and sent.json()["to"].startswith("+44")
    log = requests.get(f"{running.url}/_sandbox/bank/notifications", params={"customer_id": "CUST-0012"},
                       timeout=10).json()["notifications"]
    assert [n["message"] for n in log] == ["Your Deskbridge code is 482913"]
    assert _post(bank, "/notifications", {"customer_id": "CUST-0012", "channel": "fax", "template": "t",
                                          "message": "m"}).status_code == 422


def test_erasure_anonymises_but_keeps_the_ledger(bank):
    before = _get(bank, "/customers/CUST-0013").json()
    txns = _get(bank, "/customers/CUST-0013/transactions", limit=100).json()["data"]
    report = bank.delete(f"{bank.base}/customers/CUST-0013", timeout=10).json()
    assert report["erased"] is True and "email" in report["erased_fields"]
    retained = {r["records"]: r["count"] for r in report["retained"]}
    assert retained["transactions"] == len(txns)
    after = _get(bank, "/customers/CUST-0013").json()
    assert after["status"] == "erased" and after["email"] is None and after["phone"] is None
    assert before["last_name"] not in (after["first_name"], after["last_name"])
    assert len(_get(bank, "/customers/CUST-0013/transactions", limit=100).json()["data"]) == len(txns)
    assert _get(bank, "/customers", email=before["email"]).json()["data"] == []
    assert bank.delete(f"{bank.base}/customers/CUST-0013", timeout=10).json()["erased_at"] == report["erased_at"]


def test_openapi_document_matches_the_served_routes(running):
    doc = requests.get(f"{running.url}/bank/v1/openapi.json", timeout=10).json()
    documented = {(method.upper(), path) for path, item in doc["paths"].items() for method in item
                  if method != "parameters"}
    served = set()
    for rule in running.app.url_map.iter_rules():
        if not rule.rule.startswith("/bank/v1/") or "<path:" in rule.rule or rule.rule.endswith("openapi.json"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        served |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented
