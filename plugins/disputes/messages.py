"""What people read about a dispute: ticket subject, internal notes, customer messages. Free text from the
bank has card-number-like digit runs masked."""

from __future__ import annotations

import re
from collections.abc import Mapping

from plugins.disputes.machine import LABELS

PAN_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")


def safe(value, limit: int = 200) -> str:
    text = str(value if value is not None else "").replace("\r", " ").strip()
    return PAN_LIKE.sub(lambda m: "•••• " + re.sub(r"\D", "", m.group(0))[-4:], text)[:limit]


def money(record: Mapping) -> str:
    return f"{safe(record.get('amount'))} {safe(record.get('currency'))}".strip()


def subject(record: Mapping, context: Mapping) -> str:
    who = safe(context.get("name") or record.get("customer_id"), 80)
    return f"Dispute {safe(record['dispute_id'])}: {money(record)} on {safe(record.get('transaction_id'))} — {who}"


def opening_comment(record: Mapping, link: str | None) -> str:
    lines = [f"Dispute {safe(record['dispute_id'])} opened at the bank for customer {safe(record.get('customer_id'))}.",
             f"Transaction: {safe(record.get('transaction_id'))}, amount {money(record)}.",
             f"Status: {LABELS.get(record.get('status'), safe(record.get('status')))}."]
    if record.get("evidence_due_by"):
        lines.append(f"Evidence due by {record['evidence_due_by']}.")
    if link:
        lines.append(f"Customer status page (share with the customer only): {link}")
    lines.append("Deskbridge adds a note here on every status change. Solving this ticket tells the bank the "
                 "evidence is submitted (tag dispute_won / dispute_lost to record a decision instead).")
    return "\n".join(lines)


def status_note(record: Mapping, previous: str | None) -> str:
    now = LABELS.get(record["status"], record["status"])
    line = f"Dispute status: {LABELS.get(previous, previous)} → {now}." if previous else f"Dispute status: {now}."
    extra = []
    if record["status"] == "evidence_required" and record.get("evidence_due_by"):
        extra.append(f"Evidence is due by {record['evidence_due_by']}.")
    if record["status"] == "lost" and (record.get("refund") or {}).get("state") == "provisional_credit":
        extra.append(f"A provisional credit of {money(record)} was given when the dispute opened; "
                     f"review whether to reverse it.")
    return " ".join([line, *extra])


def reminder_note(record: Mapping, hours_left: float) -> str:
    when = "overdue" if hours_left <= 0 else f"due in {hours_left:.0f} h"
    return (f"Reminder: evidence for dispute {safe(record['dispute_id'])} is {when} "
            f"(due by {record['evidence_due_by']}). Submit it and solve this ticket before then.")


def refund_requested_note(record: Mapping, why: str, amount: str) -> str:
    kind = "Provisional credit" if why == "provisional_credit" else "Refund"
    return f"{kind} of {amount} {safe(record.get('currency'))} requested from the bank ({why.replace('_', ' ')})."


def refund_refused_note(record: Mapping, reason: str, approve_tag: str) -> str:
    return (f"Refund for dispute {safe(record['dispute_id'])} not issued: {safe(reason, 300)}. "
            f"Verify the customer's identity (tag verify_identity_refund), then add the tag {approve_tag}.")


def refund_done_note(result: Mapping, why: str) -> str:
    kind = "Provisional credit" if why == "provisional_credit" else "Refund"
    return (f"{kind} {safe(result.get('id'))} of {safe(result.get('amount'))} {safe(result.get('currency'))} "
            f"{safe(result.get('status') or 'issued')} at the bank.")


def refund_failed_note(reason: str) -> str:
    return f"The bank did not issue the refund: {safe(reason, 300)}"


def writeback_note(bank_status: str) -> str:
    return f"Ticket solved: the dispute's status at the bank is being set to {bank_status}."


def writeback_failed_note(bank_status: str, reason: str) -> str:
    return f"The bank did not accept status {bank_status}: {safe(reason, 300)}"


def customer_message(record: Mapping, link: str | None) -> str:
    status = record.get("status")
    if status in ("won", "lost", "closed"):
        head = {"won": "has been decided in your favour", "lost": "was not decided in your favour",
                "closed": "is closed"}[status]
        text = f"Your dispute about {money(record)} {head}."
    else:
        text = f"We have received your dispute about {money(record)} and are working on it."
    return f"{text} Follow its status here: {link}" if link else text
