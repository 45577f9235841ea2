"""Sandbox-only bank endpoints under ``/_sandbox/bank/``: emit events, read notifications, simulate changes."""

from __future__ import annotations

import flask

from hub.sandbox.bank.api import choice, json_body, required_str
from hub.sandbox.bank.customers import customer_or_404
from hub.sandbox.bank.state import BankError, fmt, money, not_found

KYC_STATUSES = ("pending", "verified", "rejected", "expired")


def register(bp: flask.Blueprint, emu) -> None:
    lock = emu.sandbox.lock

    @bp.post("/_sandbox/bank/events")
    def emit_event():
        body = json_body()
        event_type = required_str(body, "type")
        data = body.get("data", {})
        if not isinstance(data, dict):
            raise BankError(422, "invalid_parameter", "data must be an object", "data")
        with lock:
            event = emu.events.publish(event_type, data)
        return flask.jsonify({"id": event["id"], "event": event}), 201

    @bp.get("/_sandbox/bank/events")
    def list_events():
        with lock:
            return flask.jsonify({"events": list(emu.state.events)})

    @bp.get("/_sandbox/bank/notifications")
    def list_notifications():
        args = flask.request.args
        with lock:
            items = [dict(n) for n in emu.state.notifications
                     if args.get("customer_id") in (None, n["customer_id"])
                     and args.get("channel") in (None, n["channel"])]
        return flask.jsonify({"notifications": items})

    @bp.get("/_sandbox/bank/kyc-documents/<document_id>/content")
    def kyc_document_content(document_id: str):
        with lock:
            document = emu.state.kyc_documents.get(document_id)
            if document is None:
                raise not_found("kyc_document", document_id)
            content = emu.state.kyc_content.get(document_id, b"")
        return flask.Response(content, mimetype=document["content_type"])

    @bp.post("/_sandbox/bank/customers/<customer_id>/kyc")
    def set_kyc(customer_id: str):
        status = choice(json_body(), "status", KYC_STATUSES)
        with lock:
            customer = customer_or_404(emu, customer_id)
            emu.set_kyc_status(customer, status, reason="sandbox")
            return flask.jsonify(dict(customer))

    @bp.post("/_sandbox/bank/payments")
    def simulate_payment():
        """A card or bank payment; with ``failure_code`` it fails and emits ``payment.failed``."""
        body = json_body()
        customer_id = required_str(body, "customer_id")
        amount = money(body.get("amount"))
        failure_code = body.get("failure_code")
        if failure_code is not None and not isinstance(failure_code, str):
            raise BankError(422, "invalid_parameter", "failure_code must be a string", "failure_code")
        with lock:
            customer_or_404(emu, customer_id)
            accounts = [a for a in emu.state.accounts.values() if a["customer_id"] == customer_id]
            account_id = body.get("account_id") or (accounts[0]["id"] if accounts else None)
            account = next((a for a in accounts if a["id"] == account_id), None)
            if account is None:
                raise BankError(422, "invalid_parameter", "the customer has no such account", "account_id")
            currency = choice(body, "currency", (account["currency"],), default=account["currency"])
            now = emu.now_iso()
            txn = {"id": emu.state.next_id("TXN"), "object": "transaction", "customer_id": customer_id,
                   "account_id": account["id"], "card_id": body.get("card_id"), "amount": fmt(-amount),
                   "currency": currency, "description": str(body.get("description") or "Payment"),
                   "status": "failed" if failure_code else "posted", "failure_code": failure_code,
                   "created_at": now, "updated_at": now}
            emu.state.transactions[txn["id"]] = txn
            if failure_code:
                emu.events.publish("payment.failed", {"payment_id": txn["id"], "customer_id": customer_id,
                                                      "amount": fmt(amount), "currency": currency,
                                                      "failure_code": failure_code})
            return flask.jsonify(txn), 201
