"""The customer-context note (plain text, card numbers never beyond last4) and the custom field values."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

# 12–19 digits, optionally split by spaces or dashes: anything that could be a card number in free text.
PAN_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")
NOTE_TITLE = "Customer context (Deskbridge)"


def mask_pans(text: str) -> str:
    """Replace card-number-like digit runs with ``•••• <last4>``."""
    def masked(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return f"•••• {digits[-4:]}"
    return PAN_LIKE.sub(masked, text)


def _text(value) -> str:
    return mask_pans(str(value)) if value not in (None, "") else "—"


def account_status(context: Mapping) -> str | None:
    """One word for the fields: ``frozen`` if any account is, else ``active``/``closed``, None if unknown."""
    statuses = {str(a.get("status")) for a in context.get("accounts") or [] if isinstance(a, Mapping)}
    if not statuses:
        return None
    for word in ("frozen", "active", "closed"):
        if word in statuses:
            return word
    return sorted(statuses)[0]


def render_note(context: Mapping, max_items: int = 5) -> str:
    """The internal note an agent reads. Balances and timestamps are left out so the note (and its hash)
    changes only when something an agent acts on changes."""
    if not context or not context.get("found"):
        who = context.get("customer_id") if context else None
        return f"{NOTE_TITLE}\nCustomer {_text(who)} is not known to core banking."
    lines = [NOTE_TITLE,
             f"Customer: {_text(context.get('name'))} ({_text(context.get('customer_id'))})",
             f"Segment: {_text(context.get('segment'))}; status: {_text(context.get('status'))}",
             f"KYC status: {_text(context.get('kyc_status'))}"]
    organisation = context.get("organisation")
    if isinstance(organisation, Mapping) and organisation.get("name"):
        lines.append(f"Organisation: {_text(organisation['name'])}")
    accounts = [a for a in context.get("accounts") or [] if isinstance(a, Mapping)]
    lines.append("Accounts: " + (", ".join(f"{_text(a.get('id'))} {_text(a.get('currency'))} {_text(a.get('status'))}"
                                           for a in accounts) or "none"))
    cards = [c for c in context.get("cards") or [] if isinstance(c, Mapping)]
    lines.append("Cards: " + (", ".join(f"•••• {str(c.get('last4') or '????')[-4:]} {_text(c.get('brand'))} "
                                        f"{_text(c.get('status'))}" for c in cards) or "none"))
    failed = [p for p in context.get("recent_failed_payments") or [] if isinstance(p, Mapping)]
    lines.append(f"Recent failed payments: {len(failed) or 'none'}")
    for payment in failed[:max_items]:
        lines.append(f"  - {_text(payment.get('amount'))} {_text(payment.get('currency'))} "
                     f"{_text(payment.get('failure_code'))}: {_text(payment.get('description'))} "
                     f"({_text(payment.get('id'))}, {_text(str(payment.get('created_at') or '')[:10])})")
    disputes = [d for d in context.get("open_disputes") or [] if isinstance(d, Mapping)]
    lines.append(f"Open disputes: {len(disputes) or 'none'}")
    for dispute in disputes[:max_items]:
        due = dispute.get("evidence_due_by")
        lines.append(f"  - {_text(dispute.get('id'))} {_text(dispute.get('amount'))} {_text(dispute.get('currency'))} "
                     f"{_text(dispute.get('status'))}" + (f", evidence due {str(due)[:10]}" if due else ""))
    lines.append(f"Lifetime value: {_text(context.get('lifetime_value'))}")
    return "\n".join(lines)


def ticket_fields(context: Mapping, titles, risk_score: float | None = None) -> dict:
    """``{field title: value}`` for the custom fields named in ``titles`` (a ``FieldTitles``)."""
    values = {}
    if context and context.get("found"):
        values[titles.segment] = context.get("segment")
        values[titles.kyc_status] = context.get("kyc_status")
        values[titles.account_status] = account_status(context)
    if risk_score is not None:
        values[titles.risk_score] = round(float(risk_score), 4)
    return {title: value for title, value in values.items() if title and value is not None}


def context_hash(note: str) -> str:
    return hashlib.sha256(note.encode()).hexdigest()
