"""Optional forwarding of accepted (scanned, stored) documents to the bank's KYC intake, through the outbox.

The outbox row holds only the document id: the plugin offers a small connector named ``documents`` whose
``forward_kyc`` operation decrypts the document at send time and calls ``core_banking.submit_kyc_document``
with the action's idempotency key (``docs:<doc_id>:kyc``), which the bank honours as ``Idempotency-Key`` — a
retry after a lost answer gets the first answer back, so a document never reaches the bank twice. The
database never holds the document in clear, not even while the action waits.
"""

from __future__ import annotations

import base64
import hashlib

from hub.errors import PermanentError
from plugins.documents.crypto import DecryptionError
from plugins.documents.store import DocumentNotFound

SYSTEM = "documents"
OPERATION = "forward_kyc"


def forward_key(doc_id: str) -> str:
    return f"docs:{doc_id}:kyc"


class KycForwarder:
    """The ``documents`` connector: ``forward_kyc {doc_id, customer_id, ticket}``."""

    name = SYSTEM
    batch_operations: dict[str, int] = {}

    def __init__(self, hub):
        self.hub = hub

    def execute(self, operation: str, payload: dict, idempotency_key: str) -> dict:
        if operation != OPERATION:
            raise PermanentError(f"{SYSTEM}: unknown operation {operation!r}")
        from plugins.documents.service import config_of, store_for

        bank = self.hub.connectors.get("core_banking")
        if bank is None:
            raise PermanentError(f"{SYSTEM}: forwarding to the KYC intake needs the core_banking connector")
        doc_id, customer_id = str(payload.get("doc_id") or ""), str(payload.get("customer_id") or "")
        store = store_for(self.hub)
        try:
            info = store.info(doc_id)
            filename, mime, content = store.get(doc_id, ticket_id=info.ticket_id)
        except DocumentNotFound:
            raise PermanentError(f"{SYSTEM}: document {doc_id} no longer exists (purged before forwarding)",
                                 status=404) from None
        except DecryptionError as exc:
            raise PermanentError(f"{SYSTEM}: document {doc_id} cannot be decrypted: {exc}") from None
        if info.customer_id != customer_id:
            raise PermanentError(f"{SYSTEM}: document {doc_id} does not belong to customer {customer_id}")
        answer = bank.execute("submit_kyc_document", {
            "customer_id": customer_id, "content_base64": base64.b64encode(content).decode("ascii"),
            "filename": filename, "content_type": mime,
            "document_type": config_of(self.hub).kyc_forwarding.document_type,
        }, idempotency_key)
        return {"id": answer.get("id"), "status": answer.get("status"), "doc_id": doc_id,
                "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}

    def check(self) -> dict:
        ok = "core_banking" in self.hub.connectors
        return {"ok": ok, "detail": "forwards to core_banking's KYC intake" if ok else "core_banking not connected"}

    def close(self) -> None:
        pass


def on_done(action, result: dict, ctx) -> None:
    if action.system != SYSTEM or action.operation != OPERATION:
        return
    ctx.audit("plugin:documents", "document.kyc_forward", f"document:{action.payload.get('doc_id')}", "ok",
              bank_document=result.get("id"), customer_id=action.payload.get("customer_id"),
              sha256=result.get("sha256"))


def on_dead(action, reason: str, ctx) -> None:
    if action.system != SYSTEM or action.operation != OPERATION:
        return
    payload = action.payload
    ctx.audit("plugin:documents", "document.kyc_forward", f"document:{payload.get('doc_id')}", "failed",
              reason=reason[:300], customer_id=payload.get("customer_id"))
    ticket = payload.get("ticket") or {}
    if ticket.get("system") and ticket.get("id"):
        ctx.emit(ticket["system"], "add_internal_note", {"ticket_id": str(ticket["id"]), "body": (
            "The customer's uploaded document could not be forwarded to the bank's KYC intake: "
            f"{reason[:200]}. It is still stored here; download it from the earlier note if needed.")},
            key=f"docs:{payload.get('doc_id')}:kyc-failed-note")
