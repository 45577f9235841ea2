"""The core banking connector against the sandbox bank over real HTTP."""

from __future__ import annotations

import base64

import pytest
import requests

from connectors.core_banking import Config, streams
from connectors.core_banking.connector import CoreBankingConnector
from hub.errors import AuthError, PermanentError, RetryableError
from tests.contract.connectors.conftest import FakeTime
from tests.contract.connectors.conftest import faults as inject

pytestmark = pytest.mark.contract
SANDBOX_SYSTEMS = ("bank",)


@pytest.fixture
def sandbox(sandbox):
    """The shared reset sandbox, seeded with the demo bank's customers."""
    assert requests.post(f"{sandbox.url}/_sandbox/seed", timeout=30).status_code == 200
    return sandbox


def make(sandbox, **overrides) -> CoreBankingConnector:
    return CoreBankingConnector(Config(**{"base_url": f"{sandbox.url}/bank/v1", "api_key": "sandbox-key",
                                          "read_timeout": 5.0, **overrides}))


@pytest.fixture
def bank(sandbox):
    connector = make(sandbox)
    yield connector
    connector.close()


def bank_api(sandbox, method, path, headers=None, **kwargs):
    return requests.request(method, f"{sandbox.url}{path}", timeout=10,
                            headers={"Authorization": "Bearer sandbox-key", **(headers or {})}, **kwargs)


def notifications(sandbox, customer_id) -> list[dict]:
    return bank_api(sandbox, "GET", "/_sandbox/bank/notifications",
                    params={"customer_id": customer_id}).json()["notifications"]


def posted_debit(bank, customer_id) -> dict:
    export = bank.export_customer(customer_id)
    return next(t for t in export["transactions"] if t["status"] == "posted" and t["amount"].startswith("-"))


def faults(sandbox, kinds, **extra):
    inject(sandbox, "bank", kinds, **extra)


# -- reads -------------------------------------------------------------------------------------------------------

def test_customer_context_reads(bank):
    customer = bank.get_customer("CUST-0001")
    assert customer["id"] == "CUST-0001"
    summary = bank.customer_summary("CUST-0001")
    assert summary["kyc_status"] in ("pending", "verified", "rejected", "expired")
    assert {"accounts", "cards", "recent_failed_payments", "open_disputes", "lifetime_value"} <= set(summary)
    assert bank.find_customer_by_email(customer["email"].upper())["id"] == "CUST-0001"
    assert bank.find_customer_by_email("nobody@example.org") is None
    assert bank.get_card(summary["cards"][0]["id"])["customer_id"] == "CUST-0001"
    assert bank.get_customer("CUST-9999") is None and bank.get_card("CARD-NOPE") is None
    assert bank.get("customer", "CUST-0001") == bank.find("customer", "CUST-0001")
    assert bank.check()["ok"] is True


def test_export_customer_holds_everything(bank):
    export = bank.execute("export_customer", {"customer_id": "CUST-0001"}, "x")
    assert export["found"] is True and export["customer"]["id"] == "CUST-0001"
    for key in ("summary", "accounts", "cards", "transactions", "disputes", "consents", "kyc_documents"):
        assert key in export
    assert export["accounts"] and export["transactions"]
    assert all(t["customer_id"] == "CUST-0001" for t in export["transactions"])
    assert bank.export_customer("CUST-9999") == {"customer_id": "CUST-9999", "found": False}


# -- writes ------------------------------------------------------------------------------------------------------

def test_every_post_carries_the_action_key_and_a_repeat_is_one_effect(bank, sandbox):
    note = {"customer_id": "CUST-0001", "channel": "email", "template": "incident", "message": "We are on it"}
    first = bank.execute("send_notification", note, "notify-1")
    second = bank.execute("send_notification", note, "notify-1")
    assert first["id"] == second["id"]
    assert len(notifications(sandbox, "CUST-0001")) == 1
    bank.execute("send_notification", note, "notify-2")
    assert len(notifications(sandbox, "CUST-0001")) == 2


def test_card_freeze_and_unfreeze(bank):
    card = bank.customer_summary("CUST-0001")["cards"][0]["id"]
    assert bank.execute("freeze_card", {"card_id": card, "reason": "fraud_alert"}, "f")["status"] == "frozen"
    assert bank.get_card(card)["status"] == "frozen"
    assert bank.execute("unfreeze_card", {"card_id": card}, "u")["status"] == "active"
    with pytest.raises(PermanentError) as caught:
        bank.execute("freeze_card", {"card_id": "CARD-NOPE"}, "n")
    assert caught.value.status == 404


def test_refund_twice_with_one_key_refunds_once(bank):
    txn = posted_debit(bank, "CUST-0001")
    one = bank.execute("create_refund", {"transaction_id": txn["id"], "amount": "1.00"}, "refund-1")
    two = bank.execute("create_refund", {"transaction_id": txn["id"], "amount": "1.00"}, "refund-1")
    assert one["id"] == two["id"]
    credits = [t for t in bank.export_customer("CUST-0001")["transactions"]
               if t["description"] == f"Refund of {txn['id']}"]
    assert len(credits) == 1


def test_dispute_update_and_kyc_document_and_erasure(bank, sandbox):
    txn = posted_debit(bank, "CUST-0003")
    dispute = bank_api(sandbox, "POST", "/bank/v1/disputes", json={"transaction_id": txn["id"]},
                       headers={"Idempotency-Key": "d"}).json()
    for _ in range(2):
        updated = bank.execute("update_dispute", {"dispute_id": dispute["id"], "status": "under_review"}, "d1")
    assert updated["status"] == "under_review"
    doc = {"customer_id": "CUST-0003", "document_type": "passport", "filename": "passport.png",
           "content_type": "image/png", "content_base64": base64.b64encode(b"\x89PNG...").decode()}
    first = bank.execute("submit_kyc_document", doc, "kyc-1")
    assert bank.execute("submit_kyc_document", doc, "kyc-1")["id"] == first["id"]
    assert len(bank.export_customer("CUST-0003")["kyc_documents"]) == 1
    erased = bank.execute("erase_customer", {"customer_id": "CUST-0003"}, "e")
    assert erased["erased"] is True
    assert bank.execute("erase_customer", {"customer_id": "CUST-0003"}, "e")["erased_at"] == erased["erased_at"]
    assert bank.get_customer("CUST-0003")["email"] is None


def test_payload_without_reference_is_permanent(bank):
    with pytest.raises(PermanentError, match="card_id"):
        bank.execute("freeze_card", {}, "k")
    with pytest.raises(PermanentError, match="unknown operation"):
        bank.execute("transfer_money", {}, "k")


# -- failures ----------------------------------------------------------------------------------------------------

def test_wrong_key_is_an_auth_error(sandbox):
    bad = make(sandbox, api_key="wrong")
    with pytest.raises(AuthError, match="401"):
        bad.get_customer("CUST-0001")
    assert bad.check()["ok"] is False


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_are_retryable(bank, sandbox, kind):
    faults(sandbox, [kind])
    with pytest.raises(RetryableError, match=kind):
        bank.execute("freeze_card", {"card_id": "CARD-0001-01"}, "k")


def test_timeout_after_the_bank_committed_replays_not_repeats(bank, sandbox, lose_first_answer):
    lost = lose_first_answer("POST", "/notifications")
    note = {"customer_id": "CUST-0002", "channel": "sms", "template": "t", "message": "m"}
    with pytest.raises(RetryableError, match="timed out"):
        bank.execute("send_notification", note, "lost-1")
    assert lost == [201]
    bank.execute("send_notification", note, "lost-1")
    assert len(notifications(sandbox, "CUST-0002")) == 1


def test_sandbox_timeout_fault_then_retry(sandbox):
    bank = make(sandbox, read_timeout=0.5)
    faults(sandbox, ["timeout"], timeout_seconds=1.0)
    with pytest.raises(RetryableError):
        bank.execute("send_notification", {"customer_id": "CUST-0004", "channel": "email", "template": "t",
                                           "message": "m"}, "to-1")
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5)
    bank.execute("send_notification", {"customer_id": "CUST-0004", "channel": "email", "template": "t",
                                       "message": "m"}, "to-1")
    assert len(notifications(sandbox, "CUST-0004")) == 1


def test_rate_limit_pauses_the_guard_and_calls_succeed_later(sandbox):
    bank = make(sandbox)
    fake = FakeTime(sandbox, now=50.0)
    fake.drive(bank.guard.budget)
    requests.post(f"{sandbox.url}/_sandbox/limits", json={"system": "bank", "per_minute": 4}, timeout=5)
    found = [bank.get_customer(f"CUST-000{n}")["id"] for n in range(1, 10)]
    assert found == [f"CUST-000{n}" for n in range(1, 10)]
    assert bank.guard.stats.by_status.get(429, 0) <= 3
    assert fake.now > 50.0 + 30


# -- change stream -----------------------------------------------------------------------------------------------

def test_read_changes_backfill_pages_and_updates_between_pages(sandbox):
    bank = make(sandbox)
    # The declared stream pages 100 at a time; a 10-record page shows the scan across several pages.
    small = streams.Stream("customers", "customer", "customers", "id", "updated_at", 10)
    reader = streams.CustomerReader(bank.client, small, overlap_seconds=60)
    seen, cursor = {}, None
    for number, (page, cursor) in enumerate(reader.read(None, backfill=True)):
        seen.update({c["id"]: c["updated_at"] for c in page})
        if number == 0:
            bank_api(sandbox, "PATCH", "/bank/v1/customers/CUST-0001", json={"first_name": "Edited"})
        assert "scan" in cursor or number > 0
    total = bank_api(sandbox, "GET", "/bank/v1/customers", params={"limit": 100}).json()["data"]
    assert set(seen) == {c["id"] for c in total}
    again = [c for page, cursor in reader.read(cursor, backfill=True) for c in page]
    assert "CUST-0001" in {c["id"] for c in again}  # changed behind the scan: read on the next pass
    assert next(c for c in again if c["id"] == "CUST-0001")["first_name"] == "Edited"


def test_backfill_false_starts_from_now_and_erasure_is_flagged(bank, sandbox):
    pages = list(bank.read_changes("customer", None, backfill=False))
    assert [page for page, _ in pages] == [[]]
    bank.execute("erase_customer", {"customer_id": "CUST-0005"}, "e")
    changed = [c for page, _ in bank.read_changes("customer", pages[-1][1], backfill=False) for c in page]
    assert [(c["id"], c.get("deleted")) for c in changed] == [("CUST-0005", True)]
    with pytest.raises(PermanentError):
        list(bank.read_changes("ticket", None, backfill=True))


def test_consent_and_contact_details(bank):
    consent = {"customer_id": "CUST-0006", "purpose": "marketing", "action": "withdraw", "text_version": "v3",
               "channel": "support"}
    assert bank.execute("record_consent", consent, "c1")["granted"] is False
    assert bank.execute("record_consent", consent, "c1")["granted"] is False
    consents = {c["purpose"]: c for c in bank.export_customer("CUST-0006")["consents"]}
    assert consents["marketing"]["granted"] is False and consents["marketing"]["text_version"] == "v3"
    updated = bank.execute("update_contact_details", {"customer_id": "CUST-0006", "phone": "+447700900999"}, "p")
    assert updated["phone"] == "+447700900999" and bank.get_customer("CUST-0006")["phone"] == "+447700900999"
    with pytest.raises(PermanentError, match="at least one contact field"):
        bank.execute("update_contact_details", {"customer_id": "CUST-0006"}, "p2")
    with pytest.raises(PermanentError) as caught:
        bank.execute("update_contact_details", {"customer_id": "CUST-0006", "phone": "12"}, "p3")
    assert caught.value.status == 422
