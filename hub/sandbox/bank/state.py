"""In-memory state of the core banking emulator: JSON-ready records, idempotency cache, emitted events."""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from standardwebhooks.webhooks import Webhook

from hub.clock import isoformat
from hub.sandbox.seed import Customer, Dataset

# Fixed sandbox signing secret (Standard Webhooks: "whsec_" + base64 of the key bytes). Override with the env
# variable DESKBRIDGE_BANKING_WEBHOOK_SECRET so the hub and the sandbox share one secret.
DEFAULT_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"deskbridge-sandbox-banking-key!!").decode()
SECRET_ENV = "DESKBRIDGE_BANKING_WEBHOOK_SECRET"


class BankError(Exception):
    """An API error answered as ``{"error": {"code", "message"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.param:
            error["param"] = self.param
        return {"error": error}


def not_found(kind: str, record_id: str) -> BankError:
    return BankError(404, "resource_not_found", f"No such {kind}: {record_id}")


def money(value: object, param: str = "amount") -> Decimal:
    """A positive amount given as a decimal string or number, with at most 2 decimals."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BankError(422, "invalid_parameter", f"{param} must be a decimal string such as \"12.50\"", param)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise BankError(422, "invalid_parameter", f"{param} is not a number: {value!r}", param) from None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:
        raise BankError(422, "invalid_parameter", f"{param} must be positive with at most 2 decimals", param)
    return amount.quantize(Decimal("0.01"))


def fmt(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


@dataclass
class BankState:
    customers: dict[str, dict] = field(default_factory=dict)
    accounts: dict[str, dict] = field(default_factory=dict)
    cards: dict[str, dict] = field(default_factory=dict)
    transactions: dict[str, dict] = field(default_factory=dict)
    disputes: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    consents: dict[str, dict[str, dict]] = field(default_factory=dict)  # customer -> purpose -> consent
    consent_history: list[dict] = field(default_factory=list)
    kyc_documents: dict[str, dict] = field(default_factory=dict)
    kyc_content: dict[str, bytes] = field(default_factory=dict)
    payout_details: dict[str, dict] = field(default_factory=dict)  # customer -> current payout bank account
    notifications: list[dict] = field(default_factory=list)
    erasures: dict[str, dict] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    idempotency: dict[str, tuple[str, int, dict]] = field(default_factory=dict)  # key -> (fingerprint, status, body)
    counters: dict[str, int] = field(default_factory=dict)

    def next_id(self, prefix: str) -> str:
        # "S" marks records created in the sandbox, so they never collide with seeded ids.
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}-S{self.counters[prefix]:05d}"

    def load(self, dataset: Dataset, now: str) -> None:
        orgs = {org.id: org for org in dataset.organisations}
        for person in dataset.customers:
            self._load_customer(person, orgs, now)

    def _load_customer(self, person: Customer, orgs: dict, now: str) -> None:
        created = isoformat(person.created_at) if person.created_at else now
        org = orgs.get(person.organisation_id) if person.organisation_id else None
        self.customers[person.id] = {
            "id": person.id, "object": "customer", "status": "active", "first_name": person.first_name,
            "last_name": person.last_name, "email": person.email, "phone": person.phone,
            "segment": person.segment, "kyc_status": person.kyc_status,
            "organisation": {"id": org.id, "name": org.name, "domain": org.domain} if org else None,
            "address": {"city": person.city, "country": person.country},
            "lifetime_value": fmt(person.lifetime_value), "created_at": created, "updated_at": created}
        for account in person.accounts:
            self.accounts[account.id] = {
                "id": account.id, "object": "account", "customer_id": person.id, "iban": account.iban,
                "currency": account.currency, "balance": fmt(account.balance), "status": account.status,
                "freeze_reason": "seeded" if account.status == "frozen" else None,
                "created_at": created, "updated_at": created}
        for card in person.cards:
            self.cards[card.id] = {
                "id": card.id, "object": "card", "customer_id": person.id, "account_id": card.account_id,
                "last4": card.last4, "brand": card.brand, "expiry": card.expiry, "status": card.status,
                "created_at": created, "updated_at": created}
        for txn in person.transactions:
            at = isoformat(txn.created_at)
            self.transactions[txn.id] = {
                "id": txn.id, "object": "transaction", "customer_id": person.id, "account_id": txn.account_id,
                "card_id": txn.card_id, "amount": fmt(txn.amount), "currency": txn.currency,
                "description": txn.description, "status": txn.status, "failure_code": txn.failure_code,
                "created_at": at, "updated_at": at}
        for dispute in person.disputes:
            at = isoformat(dispute.created_at or dispute.evidence_due_by)
            self.disputes[dispute.id] = {
                "id": dispute.id, "object": "dispute", "customer_id": person.id,
                "transaction_id": dispute.transaction_id, "amount": fmt(dispute.amount),
                "currency": dispute.currency, "status": dispute.status, "reason": dispute.reason,
                "evidence_due_by": isoformat(dispute.evidence_due_by), "outcome": _outcome(dispute.status),
                "created_at": at, "updated_at": at}
        self.consents[person.id] = {
            c.purpose: {"purpose": c.purpose, "granted": c.granted, "text_version": c.text_version,
                        "channel": c.channel, "at": isoformat(c.at)} for c in person.consents}

    def remember(self, key: str, fingerprint: str, status: int, body: dict) -> None:
        self.idempotency[key] = (fingerprint, status, body)


def _outcome(status: str) -> str | None:
    return status if status in ("won", "lost") else None


class EventPublisher:
    """Builds SPEC §2 banking events and sends them, Standard-Webhooks signed, through ``sandbox.emit``."""

    def __init__(self, sandbox, state: BankState):
        self.sandbox = sandbox
        self.state = state

    @property
    def secret(self) -> str:
        return os.environ.get(SECRET_ENV) or DEFAULT_WEBHOOK_SECRET

    def publish(self, event_type: str, data: dict) -> dict:
        event = {"id": f"evt_{uuid.uuid4().hex}", "type": event_type,
                 "created_at": isoformat(self.sandbox.now()), "data": data}
        body = json.dumps(event, separators=(",", ":"))
        # The signature timestamp is real time: the receiver checks it against its own clock (±5 min), which
        # must hold even when the sandbox clock has been moved.
        sent_at = datetime.now(timezone.utc)
        signature = Webhook(self.secret).sign(event["id"], sent_at, body)
        headers = {"Content-Type": "application/json", "webhook-id": event["id"],
                   "webhook-timestamp": str(int(sent_at.timestamp())), "webhook-signature": signature,
                   "User-Agent": "deskbridge-sandbox-bank/1"}
        delivery = self.sandbox.emit(self.sandbox.webhook_target, body.encode(), headers, event_type=event_type)
        self.state.events.append(event | {"delivery_id": delivery})
        return event
