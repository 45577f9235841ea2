"""Bank sandbox payout details (``/bank/v1/customers/{id}/payout-details``) over HTTP, and the core_banking
connector's ``update_payout_details`` operation against it."""

from __future__ import annotations

import pytest
import requests
from openapi_spec_validator import validate

from connectors.core_banking.connector import CoreBankingConnector
from hub.errors import PermanentError
from tests.contract.test_bank_sandbox import bank, running  # noqa: F401 (fixtures: seeded bank sandbox)

pytestmark = pytest.mark.contract
IBAN = "GB82 WEST 1234 5698 7654 32"
DE_IBAN = "DE89370400440532013000"


def put(bank, customer: str, body: dict, key: str | None = "k1"):
    headers = {"Idempotency-Key": key} if key else {}
    return bank.post(f"{bank.base}/customers/{customer}/payout-details", json=body, headers=headers, timeout=10)


def test_replace_answers_last4_only_and_tells_the_customer(bank, running):
    assert bank.get(f"{bank.base}/customers/CUST-0002/payout-details", timeout=10).status_code == 404
    first = put(bank, "CUST-0002", {"account_holder": "Ada Lovelace", "iban": IBAN, "bic": "westgb2l"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["iban_last4"] == "5432" and "iban" not in body and body["bic"] == "WESTGB2L"
    assert body["country"] == "GB" and body["previous_iban_last4"] is None
    assert bank.get(f"{bank.base}/customers/CUST-0002/payout-details", timeout=10).json() == body
    second = put(bank, "CUST-0002", {"account_holder": "Ada Lovelace", "iban": DE_IBAN}, key="k2").json()
    assert second["iban_last4"] == "3000" and second["previous_iban_last4"] == "5432"
    notes = requests.get(f"{running.url}/_sandbox/bank/notifications", params={"customer_id": "CUST-0002"},
                         timeout=10).json()["notifications"]
    changed = [n for n in notes if n["template"] == "payout_details_changed"]
    assert len(changed) == 2 and "ending 5432" in changed[0]["message"] and "ending 3000" in changed[1]["message"]
    assert all("GB82WEST" not in n["message"] for n in notes)


def test_a_repeated_key_replays_and_changes_nothing(bank):
    first = put(bank, "CUST-0003", {"account_holder": "A", "iban": IBAN}, key="same")
    again = put(bank, "CUST-0003", {"account_holder": "A", "iban": IBAN}, key="same")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = put(bank, "CUST-0003", {"account_holder": "A", "iban": DE_IBAN}, key="same")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("body,field", [
    ({"account_holder": "A", "iban": "GB83WEST12345698765432"}, "iban"),  # check digits wrong
    ({"account_holder": "A", "iban": "12345"}, "iban"),
    ({"account_holder": "A"}, "iban"),
    ({"iban": IBAN}, "account_holder"),
    ({"account_holder": "A", "iban": IBAN, "bic": "X"}, "bic"),
])
def test_invalid_details_are_422_naming_the_field(bank, body, field):
    answer = put(bank, "CUST-0004", body)
    assert answer.status_code == 422
    assert answer.json()["error"].get("param") == field or field in answer.json()["error"]["message"]


def test_unknown_or_erased_customer(bank):
    assert put(bank, "CUST-NOPE", {"account_holder": "A", "iban": IBAN}).status_code == 404
    put(bank, "CUST-0005", {"account_holder": "A", "iban": IBAN}, key="before-erase")
    erased = bank.delete(f"{bank.base}/customers/CUST-0005", timeout=10).json()
    assert erased["deleted"]["payout_details"] == 1
    assert put(bank, "CUST-0005", {"account_holder": "A", "iban": IBAN}, key="after").status_code == 409


def test_openapi_describes_payout_details(bank, running):
    doc = requests.get(f"{running.url}/bank/v1/openapi.json", timeout=10).json()
    path = doc["paths"]["/bank/v1/customers/{customer_id}/payout-details"]
    assert set(path) >= {"get", "post"} and "PayoutDetailsChange" in doc["components"]["schemas"]
    validate(doc)


def test_connector_operation_is_idempotent_by_key(bank, running):
    from connectors.core_banking import Config
    connector = CoreBankingConnector(Config(base_url=f"{running.url}/bank/v1", api_key="sandbox-key"))
    try:
        payload = {"customer_id": "CUST-0006", "account_holder": "Ada", "iban": IBAN}
        first = connector.execute("update_payout_details", payload, "payout:abc")
        again = connector.execute("update_payout_details", payload, "payout:abc")
        assert first == again and first["iban_last4"] == "5432"
        assert connector.get_payout_details("CUST-0006")["id"] == first["id"]
        assert connector.export_customer("CUST-0006")["payout_details"]["iban_last4"] == "5432"
        with pytest.raises(PermanentError, match="account_holder and iban"):
            connector.execute("update_payout_details", {"customer_id": "CUST-0006"}, "payout:x")
        with pytest.raises(PermanentError) as refused:
            connector.execute("update_payout_details", {**payload, "iban": "GB83WEST12345698765432"}, "payout:y")
        assert refused.value.status == 422
    finally:
        connector.close()
