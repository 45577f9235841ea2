"""``CoreBankingConnector``: customer context reads, idempotent banking writes, GDPR export and erasure."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from connectors.core_banking.client import BankClient
from connectors.core_banking.streams import STREAMS, CustomerReader
from hub.errors import PermanentError

NOTIFY_CHANNELS = ("sms", "email", "push")


def _ref(payload: dict, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise PermanentError(f"core_banking: payload needs {name}")
    return quote(value.strip(), safe="")


def _only(payload: dict, names: tuple[str, ...]) -> dict:
    return {k: payload[k] for k in names if payload.get(k) is not None}


class CoreBankingConnector:
    name = "core_banking"
    batch_operations: dict[str, int] = {}

    def __init__(self, config, guard=None, metrics=None):
        self.config = config
        self.client = BankClient(config, guard=guard, metrics=metrics)

    @property
    def guard(self):
        return self.client.guard

    # -- outbox ----------------------------------------------------------------------------------------------
    def execute(self, operation: str, payload: dict, idempotency_key: str) -> dict:
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            raise PermanentError(f"core_banking: unknown operation {operation!r}")
        return handler(payload or {}, idempotency_key)

    def check(self) -> dict:
        try:
            self.client.request("GET", "customers", params={"limit": 1})
        except Exception as exc:
            return {"ok": False, "detail": str(exc)[:200]}
        return {"ok": True, "detail": f"reached {self.client.base_url}"}

    def close(self) -> None:
        self.client.close()

    def _post(self, path: str, body: dict, key: str) -> dict:
        return self.client.request("POST", path, json=body, idempotency_key=key)

    def _op_freeze_card(self, payload: dict, key: str) -> dict:
        return self._post(f"cards/{_ref(payload, 'card_id')}/freeze", _only(payload, ("reason",)), key)

    def _op_unfreeze_card(self, payload: dict, key: str) -> dict:
        return self._post(f"cards/{_ref(payload, 'card_id')}/unfreeze", _only(payload, ("reason",)), key)

    def _op_freeze_account(self, payload: dict, key: str) -> dict:
        return self._post(f"accounts/{_ref(payload, 'account_id')}/freeze", _only(payload, ("reason",)), key)

    def _op_unfreeze_account(self, payload: dict, key: str) -> dict:
        return self._post(f"accounts/{_ref(payload, 'account_id')}/unfreeze", _only(payload, ("reason",)), key)

    def _op_send_notification(self, payload: dict, key: str) -> dict:
        _ref(payload, "customer_id")
        if payload.get("channel") not in NOTIFY_CHANNELS:
            raise PermanentError(f"core_banking: channel must be one of {', '.join(NOTIFY_CHANNELS)}")
        return self._post("notifications", _only(payload, ("customer_id", "channel", "template", "message")), key)

    def _op_create_refund(self, payload: dict, key: str) -> dict:
        _ref(payload, "transaction_id")
        return self._post("refunds", _only(payload, ("transaction_id", "amount", "reason")), key)

    def _op_update_dispute(self, payload: dict, key: str) -> dict:
        # PATCH to a target status is idempotent on its own: the same status twice is a no-op at the bank.
        return self.client.request("PATCH", f"disputes/{_ref(payload, 'dispute_id')}",
                                   json=_only(payload, ("status", "evidence")))

    def _op_submit_kyc_document(self, payload: dict, key: str) -> dict:
        body = _only(payload, ("content_base64", "filename", "content_type", "document_type"))
        return self._post(f"customers/{_ref(payload, 'customer_id')}/kyc-documents", body, key)

    def _op_record_consent(self, payload: dict, key: str) -> dict:
        body = _only(payload, ("purpose", "action", "granted", "text_version", "channel"))
        return self._post(f"customers/{_ref(payload, 'customer_id')}/consents", body, key)

    def _op_update_contact_details(self, payload: dict, key: str) -> dict:
        # PATCH to target values is idempotent on its own; only contact details are changeable at the bank.
        body = _only(payload, ("email", "phone", "first_name", "last_name", "address"))
        if not body:
            raise PermanentError("core_banking: update_contact_details needs at least one contact field")
        return self.client.request("PATCH", f"customers/{_ref(payload, 'customer_id')}", json=body)

    def _op_update_payout_details(self, payload: dict, key: str) -> dict:
        # Gated by identity verification; the bank replaces the payout account and answers the IBAN's last 4.
        body = _only(payload, ("account_holder", "iban", "bic"))
        if not body.get("account_holder") or not body.get("iban"):
            raise PermanentError("core_banking: update_payout_details needs account_holder and iban")
        return self._post(f"customers/{_ref(payload, 'customer_id')}/payout-details", body, key)

    def _op_erase_customer(self, payload: dict, key: str) -> dict:
        # DELETE is idempotent at the bank: a second erasure answers the first erasure's report.
        return self.client.request("DELETE", f"customers/{_ref(payload, 'customer_id')}")

    def _op_export_customer(self, payload: dict, key: str) -> dict:
        return self.export_customer(payload.get("customer_id"))

    # -- reads -------------------------------------------------------------------------------------------------
    def get_customer(self, customer_id: str) -> dict | None:
        return self.client.get_optional(f"customers/{quote(str(customer_id), safe='')}")

    def customer_summary(self, customer_id: str) -> dict | None:
        return self.client.get_optional(f"customers/{quote(str(customer_id), safe='')}/summary")

    def find_customer_by_email(self, email: str) -> dict | None:
        body = self.client.request("GET", "customers", params={"email": email.strip(), "limit": 1})
        data = body.get("data") or []
        return data[0] if data else None

    def get_payout_details(self, customer_id: str) -> dict | None:
        return self.client.get_optional(f"customers/{quote(str(customer_id), safe='')}/payout-details")

    def get_card(self, card_id: str) -> dict | None:
        return self.client.get_optional(f"cards/{quote(str(card_id), safe='')}")

    def export_customer(self, customer_id) -> dict:
        """Everything the bank holds about one customer (GDPR Art. 15 access / Art. 20 portability)."""
        cid = _ref({"customer_id": customer_id}, "customer_id")
        customer = self.client.get_optional(f"customers/{cid}")
        if customer is None:
            return {"customer_id": customer_id, "found": False}

        def listed(path: str, params: dict | None = None) -> list[dict]:
            return [item for page in self.client.pages(path, params) for item in page]

        return {
            "customer_id": customer_id, "found": True, "customer": customer,
            "summary": self.client.request("GET", f"customers/{cid}/summary"),
            "accounts": listed(f"customers/{cid}/accounts"),
            "cards": listed("cards", {"customer_id": customer_id}),
            "transactions": listed(f"customers/{cid}/transactions"),
            "disputes": listed("disputes", {"customer_id": customer_id}),
            "consents": self.client.request("GET", f"customers/{cid}/consents").get("data") or [],
            "kyc_documents": self.client.request("GET", f"customers/{cid}/kyc-documents").get("data") or [],
            "payout_details": self.client.get_optional(f"customers/{cid}/payout-details"),
        }

    def read_changes(self, object: str, cursor: dict | None, *, backfill: bool
                     ) -> Iterator[tuple[list[dict], dict]]:
        stream = STREAMS.get(object)
        if stream is None:
            raise PermanentError(f"core_banking: no change stream for {object!r}")
        return CustomerReader(self.client, stream, self.config.overlap_seconds).read(cursor, backfill)

    def get(self, object: str, id: str) -> dict | None:
        if object != "customer":
            raise PermanentError(f"core_banking: unknown object {object!r}")
        return self.get_customer(id)

    def find(self, object: str, external_id: str) -> dict | None:
        # The bank's customer id is the hub's external id for people (CUST-…).
        return self.get(object, external_id)
