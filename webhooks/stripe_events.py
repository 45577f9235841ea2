"""Stripe events → the hub's banking events (SPEC §2).

| Stripe event                          | banking event         | notes                                        |
|---------------------------------------|-----------------------|----------------------------------------------|
| radar.early_fraud_warning.created     | fraud.alert.created   | reason = fraud_type; risk_score below        |
| charge.dispute.created                | dispute.opened        | status = Stripe dispute status               |
| charge.dispute.updated                | dispute.updated       |                                              |
| charge.dispute.closed                 | dispute.closed        | outcome = final status (won, lost, ...)      |
| payment_intent.payment_failed         | payment.failed        | failure_code = decline_code, code or type    |
Any other type maps to ``None`` (acknowledged and ignored).

The banking event keeps the Stripe event id (``evt_…``) as its ``id`` and ``created`` as ``created_at``.
``customer_id`` is the bank's own id when the Stripe object (or its expanded charge / payment intent)
carries one in ``metadata`` (``customer_id``, ``bank_customer_id`` or ``deskbridge_customer_id``),
else the Stripe customer (``cus_…``) of the object or its expanded charge / payment intent. Amounts
arrive in minor units and leave as decimal strings in major units ("10.00"; "1000" for JPY; "1.000"
for KWD). ``risk_score`` of an early fraud warning: 0.95 when the issuer reports stolen, counterfeit
or unauthorised use, 0.9 for other fraud types, 0.1 lower when Stripe marks it not actionable (already
refunded or disputed); a higher Radar score on an expanded charge (``outcome.risk_score`` 0–100) wins.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from hub.clock import isoformat
from webhooks.schemas import SchemaError

EVENT_TYPES = {
    "radar.early_fraud_warning.created": "fraud.alert.created",
    "charge.dispute.created": "dispute.opened",
    "charge.dispute.updated": "dispute.updated",
    "charge.dispute.closed": "dispute.closed",
    "payment_intent.payment_failed": "payment.failed",
}
# https://docs.stripe.com/currencies#zero-decimal and #three-decimal
ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())
HIGH_RISK_FRAUD_TYPES = frozenset(
    {"made_with_stolen_card", "made_with_counterfeit_card", "unauthorized_use_of_card", "made_with_lost_card"}
)
CUSTOMER_METADATA_KEYS = ("customer_id", "bank_customer_id", "deskbridge_customer_id")


class StripeMappingError(SchemaError):
    """A Stripe event of a mapped type lacks something the banking event needs (answered with 422)."""


def to_banking_event(stripe_event: dict) -> dict | None:
    """The banking event for a Stripe event, ``None`` for types the hub does not use."""
    if not isinstance(stripe_event, dict):
        raise StripeMappingError("body", "a Stripe event is a JSON object")
    banking_type = EVENT_TYPES.get(stripe_event.get("type"))  # type: ignore[arg-type]
    if banking_type is None:
        return None
    event_id = stripe_event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise StripeMappingError("id", "the Stripe event has no id")
    obj = (stripe_event.get("data") or {}).get("object") if isinstance(stripe_event.get("data"), dict) else None
    if not isinstance(obj, dict):
        raise StripeMappingError("data.object", "the Stripe event has no object")
    if banking_type == "fraud.alert.created":
        data = _fraud_alert(obj)
    elif banking_type == "payment.failed":
        data = _payment_failed(obj)
    else:
        data = _dispute(obj, closed=banking_type == "dispute.closed")
    return {
        "id": event_id,
        "type": banking_type,
        "created_at": _time(stripe_event.get("created"), "created"),
        "data": {k: v for k, v in data.items() if v is not None},
    }


def minor_to_major(amount: int, currency: str) -> str:
    """Minor units to a decimal string in major units, by the currency's Stripe exponent."""
    code = currency.upper()
    exponent = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    return str(Decimal(int(amount)).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))


def _fraud_alert(efw: dict) -> dict:
    charge = efw.get("charge")
    charge_obj = charge if isinstance(charge, dict) else {}
    fraud_type = efw.get("fraud_type") or "misc"
    score = 0.95 if fraud_type in HIGH_RISK_FRAUD_TYPES else 0.9
    if efw.get("actionable") is False:
        score -= 0.1
    radar = (charge_obj.get("outcome") or {}).get("risk_score") if isinstance(charge_obj.get("outcome"), dict) else None
    if isinstance(radar, (int, float)) and not isinstance(radar, bool) and 0 <= radar <= 100:
        score = max(score, radar / 100)
    card = ((charge_obj.get("payment_method_details") or {}).get("card") or {}) if charge_obj else {}
    amount, currency = _money(charge_obj, required=False)
    return {
        "alert_id": _required_id(efw, "id", "data.object.id"),
        "customer_id": _customer_id(efw, "data.object"),
        "risk_score": round(score, 4),
        "reason": fraud_type,
        "transaction_id": _ref_id(charge),
        "amount": amount,
        "currency": currency,
        "card_last4": card.get("last4") if isinstance(card, dict) else None,
    }


def _dispute(dispute: dict, closed: bool) -> dict:
    amount, currency = _money(dispute, required=True)
    status = dispute.get("status")
    if not isinstance(status, str) or not status:
        raise StripeMappingError("data.object.status", "the dispute has no status")
    transaction = _ref_id(dispute.get("charge")) or _ref_id(dispute.get("payment_intent"))
    if not transaction:
        raise StripeMappingError("data.object.charge", "the dispute names no charge or payment intent")
    due_by = (dispute.get("evidence_details") or {}).get("due_by")
    return {
        "dispute_id": _required_id(dispute, "id", "data.object.id"),
        "customer_id": _customer_id(dispute, "data.object"),
        "transaction_id": transaction,
        "amount": amount,
        "currency": currency,
        "status": status,
        "evidence_due_by": _time(due_by, "data.object.evidence_details.due_by") if due_by else None,
        "outcome": status if closed else None,
        "reason": dispute.get("reason") if isinstance(dispute.get("reason"), str) else None,
    }


def _payment_failed(intent: dict) -> dict:
    amount, currency = _money(intent, required=True)
    error = intent.get("last_payment_error") if isinstance(intent.get("last_payment_error"), dict) else {}
    failure = error.get("decline_code") or error.get("code") or error.get("type") or "unknown"
    return {
        "payment_id": _required_id(intent, "id", "data.object.id"),
        "customer_id": _customer_id(intent, "data.object"),
        "amount": amount,
        "currency": currency,
        "failure_code": str(failure)[:64],
    }


def _customer_id(obj: dict, where: str) -> str:
    related = [obj] + [o for o in (obj.get("charge"), obj.get("payment_intent")) if isinstance(o, dict)]
    for candidate in related:
        metadata = candidate.get("metadata")
        if isinstance(metadata, dict):
            for key in CUSTOMER_METADATA_KEYS:
                value = metadata.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
    for candidate in related:
        value = _ref_id(candidate.get("customer"))
        if value:
            return value
    raise StripeMappingError(
        f"{where}.customer", "no customer: set metadata.customer_id or the Stripe customer on the object or its charge"
    )


def _money(obj: dict, required: bool) -> tuple[str | None, str | None]:
    amount, currency = obj.get("amount"), obj.get("currency")
    valid = isinstance(amount, int) and not isinstance(amount, bool) and amount >= 0
    valid = valid and isinstance(currency, str) and len(currency) == 3 and currency.isalpha()
    if not valid:
        if required:
            raise StripeMappingError("data.object.amount", "amount (minor units) and currency are required")
        return None, None
    return minor_to_major(amount, currency), currency.upper()


def _ref_id(value: object) -> str | None:
    """The id of a Stripe reference that may be a bare id or an expanded object."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
        return value["id"]
    return None


def _required_id(obj: dict, key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise StripeMappingError(where, "is required")
    return value


def _time(value: object, where: str) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 253402300800:
        raise StripeMappingError(where, "is not a Unix timestamp")
    return isoformat(datetime.fromtimestamp(value, tz=timezone.utc))
