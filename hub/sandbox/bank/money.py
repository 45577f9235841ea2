"""Bank routes about money: accounts, cards, transactions, disputes, refunds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import flask

from hub.clock import isoformat
from hub.sandbox.bank.api import as_json, choice, idempotent, json_body, paginate, required_str, since_arg
from hub.sandbox.bank.customers import customer_or_404
from hub.sandbox.bank.state import BankError, fmt, money, not_found

DISPUTE_STATUSES = ("needs_response", "under_review", "won", "lost")
FINAL_DISPUTE_STATUSES = ("won", "lost")
DISPUTE_REASONS = ("fraudulent", "product_not_received", "duplicate", "credit_not_processed", "unrecognized",
                   "general")
EVIDENCE_DAYS = 21


def _get(records: dict, kind: str, record_id: str) -> dict:
    record = records.get(record_id)
    if record is None:
        raise not_found(kind, record_id)
    return record


def register(bp: flask.Blueprint, emu) -> None:
    state_of = lambda: emu.state  # noqa: E731 - the state object is replaced on reset
    lock = emu.sandbox.lock

    # -- accounts ------------------------------------------------------------------------------------------
    @bp.get("/bank/v1/accounts")
    @as_json
    def list_accounts():
        customer_id = flask.request.args.get("customer_id")
        with lock:
            items = [dict(a) for a in sorted(emu.state.accounts.values(), key=lambda a: a["id"])
                     if customer_id is None or a["customer_id"] == customer_id]
            return paginate(items)

    @bp.get("/bank/v1/customers/<customer_id>/accounts")
    @as_json
    def customer_accounts(customer_id: str):
        with lock:
            customer_or_404(emu, customer_id)
            return paginate([dict(a) for a in sorted(emu.state.accounts.values(), key=lambda a: a["id"])
                             if a["customer_id"] == customer_id])

    @bp.get("/bank/v1/accounts/<account_id>")
    @as_json
    def get_account(account_id: str):
        with lock:
            return dict(_get(emu.state.accounts, "account", account_id))

    @bp.post("/bank/v1/accounts/<account_id>/freeze")
    @idempotent(state_of, lock)
    def freeze_account(account_id: str):
        reason = _reason()
        with lock:
            account = _get(emu.state.accounts, "account", account_id)
            if account["status"] == "closed":
                raise BankError(409, "account_closed", f"account {account_id} is closed")
            if account["status"] != "frozen":
                account.update(status="frozen", freeze_reason=reason, updated_at=emu.now_iso())
                emu.events.publish("account.frozen", {"account_id": account_id,
                                                      "customer_id": account["customer_id"], "reason": reason})
            return dict(account), 200

    @bp.post("/bank/v1/accounts/<account_id>/unfreeze")
    @idempotent(state_of, lock)
    def unfreeze_account(account_id: str):
        reason = _reason()
        with lock:
            account = _get(emu.state.accounts, "account", account_id)
            if account["status"] == "frozen":
                account.update(status="active", freeze_reason=None, updated_at=emu.now_iso())
                emu.events.publish("account.unfrozen", {"account_id": account_id,
                                                        "customer_id": account["customer_id"], "reason": reason})
            return dict(account), 200

    # -- cards ---------------------------------------------------------------------------------------------
    @bp.get("/bank/v1/cards")
    @as_json
    def list_cards():
        customer_id = flask.request.args.get("customer_id")
        with lock:
            return paginate([dict(c) for c in sorted(emu.state.cards.values(), key=lambda c: c["id"])
                             if customer_id is None or c["customer_id"] == customer_id])

    @bp.get("/bank/v1/cards/<card_id>")
    @as_json
    def get_card(card_id: str):
        with lock:
            return dict(_get(emu.state.cards, "card", card_id))

    def _set_card(card_id: str, status: str):
        reason = _reason()
        with lock:
            card = _get(emu.state.cards, "card", card_id)
            if card["status"] != status:
                # SPEC §2 has no card event type, so a card freeze changes state without a webhook.
                card.update(status=status, status_reason=reason, updated_at=emu.now_iso())
            return dict(card), 200

    @bp.post("/bank/v1/cards/<card_id>/freeze")
    @idempotent(state_of, lock)
    def freeze_card(card_id: str):
        return _set_card(card_id, "frozen")

    @bp.post("/bank/v1/cards/<card_id>/unfreeze")
    @idempotent(state_of, lock)
    def unfreeze_card(card_id: str):
        return _set_card(card_id, "active")

    # -- transactions ----------------------------------------------------------------------------------------
    def _transactions(customer_id: str | None, account_id: str | None) -> dict:
        since = since_arg()
        status = flask.request.args.get("status")
        with lock:
            items = [t for t in emu.state.transactions.values()
                     if (customer_id is None or t["customer_id"] == customer_id)
                     and (account_id is None or t["account_id"] == account_id)
                     and (status is None or t["status"] == status)
                     and (since is None or t["updated_at"] >= since)]
            # Incremental readers page in (updated_at, id) order so no record is skipped between pages.
            key = (lambda t: (t["updated_at"], t["id"])) if since else (lambda t: (t["created_at"], t["id"]))
            return paginate([dict(t) for t in sorted(items, key=key)])

    @bp.get("/bank/v1/transactions")
    @as_json
    def list_transactions():
        return _transactions(flask.request.args.get("customer_id"), flask.request.args.get("account_id"))

    @bp.get("/bank/v1/customers/<customer_id>/transactions")
    @as_json
    def customer_transactions(customer_id: str):
        with lock:
            customer_or_404(emu, customer_id)
        return _transactions(customer_id, flask.request.args.get("account_id"))

    @bp.get("/bank/v1/accounts/<account_id>/transactions")
    @as_json
    def account_transactions(account_id: str):
        with lock:
            _get(emu.state.accounts, "account", account_id)
        return _transactions(None, account_id)

    @bp.get("/bank/v1/transactions/<transaction_id>")
    @as_json
    def get_transaction(transaction_id: str):
        with lock:
            return dict(_get(emu.state.transactions, "transaction", transaction_id))

    # -- disputes --------------------------------------------------------------------------------------------
    @bp.post("/bank/v1/disputes")
    @idempotent(state_of, lock)
    def create_dispute():
        body = json_body()
        transaction_id = required_str(body, "transaction_id")
        reason = choice(body, "reason", DISPUTE_REASONS, default="general")
        with lock:
            txn = _get(emu.state.transactions, "transaction", transaction_id)
            if txn["status"] != "posted" or Decimal(txn["amount"]) >= 0:
                raise BankError(422, "not_disputable", "only posted outgoing transactions can be disputed",
                                "transaction_id")
            if any(d["transaction_id"] == transaction_id for d in emu.state.disputes.values()):
                raise BankError(409, "already_disputed", f"transaction {transaction_id} already has a dispute")
            spent = -Decimal(txn["amount"])
            amount = money(body["amount"]) if "amount" in body else spent
            if amount > spent:
                raise BankError(422, "invalid_parameter", "amount exceeds the transaction amount", "amount")
            now = emu.sandbox.now()
            dispute = {"id": emu.state.next_id("DSP"), "object": "dispute", "customer_id": txn["customer_id"],
                       "transaction_id": transaction_id, "amount": fmt(amount), "currency": txn["currency"],
                       "status": "needs_response", "reason": reason,
                       "evidence_due_by": isoformat(now + timedelta(days=EVIDENCE_DAYS)), "outcome": None,
                       "description": str(body.get("description") or ""), "created_at": isoformat(now),
                       "updated_at": isoformat(now)}
            emu.state.disputes[dispute["id"]] = dispute
            emu.events.publish("dispute.opened", _dispute_event(dispute))
            return dict(dispute), 201

    @bp.get("/bank/v1/disputes")
    @as_json
    def list_disputes():
        args = flask.request.args
        with lock:
            return paginate([dict(d) for d in sorted(emu.state.disputes.values(), key=lambda d: d["id"])
                             if args.get("customer_id") in (None, d["customer_id"])
                             and args.get("status") in (None, d["status"])])

    @bp.get("/bank/v1/disputes/<dispute_id>")
    @as_json
    def get_dispute(dispute_id: str):
        with lock:
            return dict(_get(emu.state.disputes, "dispute", dispute_id))

    @bp.patch("/bank/v1/disputes/<dispute_id>")
    @as_json
    def update_dispute(dispute_id: str):
        body = json_body()
        status = choice(body, "status", DISPUTE_STATUSES)
        with lock:
            dispute = _get(emu.state.disputes, "dispute", dispute_id)
            if dispute["status"] in FINAL_DISPUTE_STATUSES and status != dispute["status"]:
                raise BankError(409, "dispute_closed", f"dispute {dispute_id} is already {dispute['status']}")
            if status == dispute["status"]:
                return dict(dispute)
            dispute.update(status=status, updated_at=emu.now_iso(),
                           outcome=status if status in FINAL_DISPUTE_STATUSES else None)
            if "evidence" in body:
                dispute["evidence"] = str(body["evidence"])[:5000]
            event_type = "dispute.closed" if status in FINAL_DISPUTE_STATUSES else "dispute.updated"
            emu.events.publish(event_type, _dispute_event(dispute))
            return dict(dispute)

    # -- refunds ---------------------------------------------------------------------------------------------
    @bp.post("/bank/v1/refunds")
    @idempotent(state_of, lock)
    def create_refund():
        body = json_body()
        transaction_id = required_str(body, "transaction_id")
        with lock:
            txn = _get(emu.state.transactions, "transaction", transaction_id)
            if txn["status"] != "posted" or Decimal(txn["amount"]) >= 0:
                raise BankError(422, "not_refundable", "only posted outgoing transactions can be refunded",
                                "transaction_id")
            refunded = sum((Decimal(r["amount"]) for r in emu.state.refunds.values()
                            if r["transaction_id"] == transaction_id), Decimal("0"))
            remaining = -Decimal(txn["amount"]) - refunded
            amount = money(body["amount"]) if "amount" in body else remaining
            if amount <= 0 or amount > remaining:
                raise BankError(422, "amount_too_large",
                                f"at most {fmt(remaining)} {txn['currency']} can still be refunded", "amount")
            now = emu.now_iso()
            credit_id = emu.state.next_id("TXN")
            emu.state.transactions[credit_id] = {
                "id": credit_id, "object": "transaction", "customer_id": txn["customer_id"],
                "account_id": txn["account_id"], "card_id": None, "amount": fmt(amount), "currency": txn["currency"],
                "description": f"Refund of {transaction_id}", "status": "posted", "failure_code": None,
                "created_at": now, "updated_at": now}
            refund = {"id": emu.state.next_id("RFD"), "object": "refund", "transaction_id": transaction_id,
                      "customer_id": txn["customer_id"], "amount": fmt(amount), "currency": txn["currency"],
                      "reason": str(body.get("reason") or "requested_by_customer"), "status": "succeeded",
                      "credit_transaction_id": credit_id, "created_at": now}
            emu.state.refunds[refund["id"]] = refund
            return dict(refund), 201

    @bp.get("/bank/v1/refunds/<refund_id>")
    @as_json
    def get_refund(refund_id: str):
        with lock:
            return dict(_get(emu.state.refunds, "refund", refund_id))


def _reason() -> str:
    if not flask.request.data:
        return "requested"
    reason = json_body().get("reason", "requested")
    if not isinstance(reason, str) or not reason:
        raise BankError(422, "invalid_parameter", "reason must be a string", "reason")
    return reason[:200]


def _dispute_event(dispute: dict) -> dict:
    data = {key: dispute[key] for key in ("customer_id", "transaction_id", "amount", "currency", "status",
                                          "evidence_due_by")}
    data["dispute_id"] = dispute["id"]
    if dispute.get("outcome"):
        data["outcome"] = dispute["outcome"]
    return data
