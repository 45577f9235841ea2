"""Bank routes about people: customers, summary, erasure, consents, KYC documents, notifications."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import timedelta

import flask

from hub.clock import isoformat
from hub.sandbox.bank.api import as_json, choice, idempotent, json_body, paginate, required_str, since_arg
from hub.sandbox.bank.state import BankError, not_found

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+[1-9]\d{6,14}$")
KYC_DOCUMENT_TYPES = ("passport", "national_id", "driving_licence", "proof_of_address", "selfie", "other")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
CHANNELS = ("sms", "email", "push")
IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
BIC_RE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
OPEN_DISPUTE_STATUSES = ("needs_response", "under_review")
RECENT_FAILED_DAYS = 30
# What an erasure keeps, and why: ledgers and AML records outlive the customer relationship by law.
RETAINED = (("accounts", "financial records kept for statutory retention (e.g. UK MLR 2017 reg. 40: 5 years)"),
            ("transactions", "ledger entries kept for statutory accounting and AML retention"),
            ("disputes", "card-scheme dispute records kept for scheme and audit obligations"),
            ("kyc_documents", "identity verification records kept for AML retention (5 years)"))


def customer_or_404(emu, customer_id: str) -> dict:
    customer = emu.state.customers.get(customer_id)
    if customer is None:
        raise not_found("customer", customer_id)
    return customer


def register(bp: flask.Blueprint, emu) -> None:
    state_of = lambda: emu.state  # noqa: E731 - the state object is replaced on reset
    lock = emu.sandbox.lock

    @bp.get("/bank/v1/customers")
    @as_json
    def list_customers():
        email = flask.request.args.get("email")
        since = since_arg()
        with lock:
            items = sorted(emu.state.customers.values(), key=lambda c: c["id"])
            if email is not None:
                wanted = email.strip().lower()
                items = [c for c in items if (c["email"] or "").lower() == wanted]
            if since is not None:
                items = [c for c in items if c["updated_at"] >= since]
            return paginate([dict(c) for c in items])

    @bp.get("/bank/v1/customers/<customer_id>")
    @as_json
    def get_customer(customer_id: str):
        with lock:
            return dict(customer_or_404(emu, customer_id))

    @bp.patch("/bank/v1/customers/<customer_id>")
    @as_json
    def update_customer(customer_id: str):
        body = json_body()
        allowed = {"email", "phone", "first_name", "last_name", "address"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise BankError(422, "invalid_parameter", f"cannot update {unknown[0]}: only contact details "
                            f"({', '.join(sorted(allowed))}) can be changed", unknown[0])
        if "email" in body and not (isinstance(body["email"], str) and EMAIL_RE.match(body["email"])):
            raise BankError(422, "invalid_parameter", "email is not a valid address", "email")
        if "phone" in body and not (isinstance(body["phone"], str) and PHONE_RE.match(body["phone"])):
            raise BankError(422, "invalid_parameter", "phone must be in E.164 format, e.g. +447700900123", "phone")
        for name in ("first_name", "last_name"):
            if name in body:
                required_str(body, name)
        if "address" in body and not isinstance(body["address"], dict):
            raise BankError(422, "invalid_parameter", "address must be an object", "address")
        with lock:
            customer = customer_or_404(emu, customer_id)
            if customer["status"] == "erased":
                raise BankError(409, "customer_erased", f"customer {customer_id} was erased")
            if "email" in body:
                taken = [c for c in emu.state.customers.values()
                         if c["id"] != customer_id and (c["email"] or "").lower() == body["email"].lower()]
                if taken:
                    raise BankError(409, "email_taken", "another customer already uses this email", "email")
            for name in ("email", "phone", "first_name", "last_name"):
                if name in body:
                    customer[name] = body[name].strip()
            if "address" in body:
                customer["address"] = {**(customer.get("address") or {}), **body["address"]}
            customer["updated_at"] = emu.now_iso()
            return dict(customer)

    @bp.delete("/bank/v1/customers/<customer_id>")
    @as_json
    def erase_customer(customer_id: str):
        with lock:
            customer = customer_or_404(emu, customer_id)
            if customer["status"] != "erased":
                erase(emu, customer)
            return dict(emu.state.erasures[customer_id])

    @bp.get("/bank/v1/customers/<customer_id>/summary")
    @as_json
    def summary(customer_id: str):
        with lock:
            return build_summary(emu, customer_or_404(emu, customer_id))

    @bp.get("/bank/v1/customers/<customer_id>/consents")
    @as_json
    def list_consents(customer_id: str):
        with lock:
            customer_or_404(emu, customer_id)
            consents = sorted(emu.state.consents.get(customer_id, {}).values(), key=lambda c: c["purpose"])
            return {"object": "list", "data": [dict(c) for c in consents], "has_more": False}

    @bp.post("/bank/v1/customers/<customer_id>/consents")
    @idempotent(state_of, lock)
    def record_consent(customer_id: str):
        body = json_body()
        purpose = required_str(body, "purpose")
        action = choice(body, "action", ("grant", "withdraw"),
                        default={True: "grant", False: "withdraw"}.get(body.get("granted")))
        channel = choice(body, "channel", ("web", "app", "branch", "phone", "email", "sms", "support"),
                         default="support")
        with lock:
            customer = customer_or_404(emu, customer_id)
            if customer["status"] == "erased":
                raise BankError(409, "customer_erased", f"customer {customer_id} was erased")
            consent = {"purpose": purpose, "granted": action == "grant",
                       "text_version": str(body.get("text_version") or "current"), "channel": channel,
                       "at": emu.now_iso()}
            emu.state.consents.setdefault(customer_id, {})[purpose] = consent
            emu.state.consent_history.append({"customer_id": customer_id, **consent})
            return dict(consent), 201

    @bp.post("/bank/v1/customers/<customer_id>/kyc-documents")
    @idempotent(state_of, lock)
    def upload_kyc_document(customer_id: str):
        content, filename, content_type, document_type = _document_from_request()
        with lock:
            customer = customer_or_404(emu, customer_id)
            doc_id = emu.state.next_id("KYC")
            document = {"id": doc_id, "object": "kyc_document", "customer_id": customer_id,
                        "document_type": document_type, "filename": filename, "content_type": content_type,
                        "size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
                        "status": "received", "created_at": emu.now_iso()}
            emu.state.kyc_documents[doc_id] = document
            emu.state.kyc_content[doc_id] = content
            if customer["kyc_status"] in ("rejected", "expired"):
                # New evidence reopens the review, as BaaS providers do.
                emu.set_kyc_status(customer, "pending", reason="document_received")
            return dict(document), 201

    @bp.get("/bank/v1/customers/<customer_id>/kyc-documents")
    @as_json
    def list_kyc_documents(customer_id: str):
        with lock:
            customer_or_404(emu, customer_id)
            docs = [dict(d) for d in emu.state.kyc_documents.values() if d["customer_id"] == customer_id]
            return {"object": "list", "data": docs, "has_more": False}

    @bp.get("/bank/v1/customers/<customer_id>/payout-details")
    @as_json
    def get_payout_details(customer_id: str):
        with lock:
            customer_or_404(emu, customer_id)
            details = emu.state.payout_details.get(customer_id)
            if details is None:
                raise not_found("payout_details", customer_id)
            return _public_payout(details)

    @bp.post("/bank/v1/customers/<customer_id>/payout-details")
    @idempotent(state_of, lock)
    def replace_payout_details(customer_id: str):
        """Replace the account payouts go to; the full IBAN is never answered (last 4 only), and the customer is
        told on their registered e-mail, as banks do for a change of payee details."""
        body = json_body()
        holder = required_str(body, "account_holder")
        iban = _iban(body.get("iban"))
        bic = body.get("bic")
        if bic is not None and not (isinstance(bic, str) and BIC_RE.match(bic.strip().upper())):
            raise BankError(422, "invalid_parameter", "bic is not a valid BIC (8 or 11 characters)", "bic")
        with lock:
            customer = customer_or_404(emu, customer_id)
            if customer["status"] in ("erased", "closed"):
                raise BankError(409, "customer_" + customer["status"], f"customer {customer_id} is {customer['status']}")
            previous = emu.state.payout_details.get(customer_id)
            now = emu.now_iso()
            details = {"id": emu.state.next_id("PYD"), "object": "payout_details", "customer_id": customer_id,
                       "account_holder": holder.strip(), "iban": iban, "bic": bic.strip().upper() if bic else None,
                       "country": iban[:2], "status": "active", "updated_at": now,
                       "previous_iban_last4": previous["iban"][-4:] if previous else None}
            emu.state.payout_details[customer_id] = details
            if customer.get("email"):
                emu.state.notifications.append({
                    "id": emu.state.next_id("NTF"), "object": "notification", "customer_id": customer_id,
                    "channel": "email", "to": customer["email"], "template": "payout_details_changed",
                    "message": f"Your payout account was changed to one ending {iban[-4:]}. If this was not you, "
                               "contact us now.", "status": "sent", "created_at": now})
            return _public_payout(details), 201

    @bp.post("/bank/v1/notifications")
    @idempotent(state_of, lock)
    def send_notification():
        body = json_body()
        customer_id = required_str(body, "customer_id")
        channel = choice(body, "channel", CHANNELS)
        template = required_str(body, "template")
        message = required_str(body, "message")
        with lock:
            customer = customer_or_404(emu, customer_id)
            to = customer["phone"] if channel == "sms" else customer["email"] if channel == "email" else customer_id
            if not to:
                raise BankError(422, "no_contact", f"customer {customer_id} has no {channel} contact", "channel")
            notification = {"id": emu.state.next_id("NTF"), "object": "notification", "customer_id": customer_id,
                            "channel": channel, "to": to, "template": template, "message": message,
                            "status": "sent", "created_at": emu.now_iso()}
            emu.state.notifications.append(notification)
            return dict(notification), 201


def _iban(value) -> str:
    """A valid IBAN, normalised (no spaces, upper case), or a 422: shape and the ISO 13616 mod-97 check."""
    iban = re.sub(r"[\s-]", "", value).upper() if isinstance(value, str) else ""
    if not IBAN_RE.match(iban):
        raise BankError(422, "invalid_parameter", "iban is not an IBAN", "iban")
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise BankError(422, "invalid_parameter", "iban fails its check digits", "iban")
    return iban


def _public_payout(details: dict) -> dict:
    shown = {k: v for k, v in details.items() if k != "iban"}
    shown["iban_last4"] = details["iban"][-4:]
    return shown


def _document_from_request() -> tuple[bytes, str, str, str]:
    request = flask.request
    if request.content_length is not None and request.content_length > MAX_DOCUMENT_BYTES * 4 // 3 + 4096:
        raise BankError(413, "payload_too_large", "documents are limited to 10 MiB")
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise BankError(422, "missing_parameter", "multipart field file is required", "file")
        content = upload.read(MAX_DOCUMENT_BYTES + 1)
        filename = upload.filename or "document"
        content_type = upload.mimetype or "application/octet-stream"
        document_type = request.form.get("document_type", "other")
    else:
        body = json_body()
        raw = required_str(body, "content_base64")
        try:
            content = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BankError(422, "invalid_parameter", "content_base64 is not valid base64",
                            "content_base64") from None
        filename = str(body.get("filename") or "document")
        content_type = str(body.get("content_type") or "application/octet-stream")
        document_type = body.get("document_type", "other")
    if document_type not in KYC_DOCUMENT_TYPES:
        raise BankError(422, "invalid_parameter", f"document_type must be one of {', '.join(KYC_DOCUMENT_TYPES)}",
                        "document_type")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise BankError(413, "payload_too_large", "documents are limited to 10 MiB")
    if not content:
        raise BankError(422, "invalid_parameter", "the document is empty", "file")
    return content, filename, content_type, document_type


def build_summary(emu, customer: dict) -> dict:
    """Everything an agent needs at a glance (SPEC §4 customer context)."""
    state, cid = emu.state, customer["id"]
    cutoff = isoformat(emu.sandbox.now() - timedelta(days=RECENT_FAILED_DAYS))
    failed = sorted((t for t in state.transactions.values()
                     if t["customer_id"] == cid and t["status"] == "failed" and t["created_at"] >= cutoff),
                    key=lambda t: t["created_at"], reverse=True)
    disputes = [d for d in state.disputes.values()
                if d["customer_id"] == cid and d["status"] in OPEN_DISPUTE_STATUSES]
    return {
        "object": "customer_summary", "customer_id": cid, "status": customer["status"],
        "name": f"{customer['first_name']} {customer['last_name']}", "segment": customer["segment"],
        "kyc_status": customer["kyc_status"], "organisation": customer["organisation"],
        "accounts": [{"id": a["id"], "status": a["status"], "currency": a["currency"], "balance": a["balance"]}
                     for a in state.accounts.values() if a["customer_id"] == cid],
        "cards": [{"id": c["id"], "last4": c["last4"], "brand": c["brand"], "status": c["status"]}
                  for c in state.cards.values() if c["customer_id"] == cid],
        "recent_failed_payments": [{"id": t["id"], "amount": t["amount"].lstrip("-"), "currency": t["currency"],
                                    "failure_code": t["failure_code"], "description": t["description"],
                                    "created_at": t["created_at"]} for t in failed[:10]],
        "open_disputes": [{"id": d["id"], "status": d["status"], "amount": d["amount"], "currency": d["currency"],
                           "transaction_id": d["transaction_id"], "evidence_due_by": d["evidence_due_by"]}
                          for d in sorted(disputes, key=lambda d: d["id"])],
        "lifetime_value": customer["lifetime_value"],
        "as_of": emu.now_iso(),
    }


def erase(emu, customer: dict) -> None:
    """GDPR Art. 17 erasure honouring legal retention: anonymise the person, keep the ledger."""
    state, cid, now = emu.state, customer["id"], emu.now_iso()
    retained = []
    for kind, reason in RETAINED:
        records = getattr(state, kind)
        count = sum(1 for r in records.values() if r["customer_id"] == cid)
        if count:
            retained.append({"records": kind, "count": count, "reason": reason})
    deleted = {"consents": len(state.consents.pop(cid, {})),
               "payout_details": 1 if state.payout_details.pop(cid, None) else 0,
               "notifications": sum(1 for n in state.notifications if n["customer_id"] == cid)}
    state.notifications = [n for n in state.notifications if n["customer_id"] != cid]
    for doc in state.kyc_documents.values():
        if doc["customer_id"] == cid:
            doc["filename"] = "erased"
    erased_fields = ["first_name", "last_name", "email", "phone", "address"]
    customer.update({"first_name": "Erased", "last_name": "Customer", "email": None, "phone": None,
                     "address": None, "status": "erased", "erased_at": now, "updated_at": now})
    state.erasures[cid] = {"object": "erasure", "customer_id": cid, "erased": True, "erased_at": now,
                           "erased_fields": erased_fields, "deleted": deleted, "retained": retained}
