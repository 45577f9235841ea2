"""What people read about a fraud alert: ticket subject and notes, and the fraud team's Slack message.
Card numbers never appear: last4 only, and card-number-like digits in free text are masked."""

from __future__ import annotations

import re
from collections.abc import Mapping

PAN_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")


def safe(value, limit: int = 300) -> str:
    """Free text from the bank, with card-number-like digit runs masked to their last four."""
    text = str(value if value is not None else "").replace("\r", " ").strip()
    text = PAN_LIKE.sub(lambda m: "•••• " + re.sub(r"\D", "", m.group(0))[-4:], text)
    return text[:limit]


def last4(data: Mapping) -> str | None:
    digits = re.sub(r"\D", "", str(data.get("card_last4") or ""))
    return digits[-4:] if digits else None


def alert_lines(alert: Mapping) -> list[str]:
    lines = [f"Alert {safe(alert.get('alert_id'))}: {safe(alert.get('reason'))}",
             f"Risk score: {float(alert.get('risk_score', 0)):.2f}"]
    if alert.get("amount") is not None:
        lines.append(f"Amount: {safe(alert.get('amount'))} {safe(alert.get('currency') or '')}".rstrip())
    if last4(alert):
        lines.append(f"Card: •••• {last4(alert)}")
    for name, label in (("account_id", "Account"), ("transaction_id", "Transaction")):
        if alert.get(name):
            lines.append(f"{label}: {safe(alert[name])}")
    return lines


def subject(alert: Mapping, context: Mapping) -> str:
    who = safe(context.get("name") or alert.get("customer_id"), 80)
    return f"Fraud alert: {safe(alert.get('reason'), 120)} — {who}"


def opening_comment(alert: Mapping, case_id: str, window_hours: float) -> str:
    return "\n".join([f"Fraud case {case_id} opened by Deskbridge for customer {safe(alert.get('customer_id'))}.",
                      *alert_lines(alert),
                      f"Further alerts for this customer within {window_hours:g} h are added here as internal notes."])


def follow_up_note(alert: Mapping, count: int, max_score: float) -> str:
    return "\n".join([f"Further fraud alert (#{count} in this case):", *alert_lines(alert),
                      f"Highest risk score in this case: {max_score:.2f}"])


def freeze_note(alert: Mapping, card_last4: str, threshold: float) -> str:
    return (f"Card •••• {card_last4} is being frozen automatically: risk score "
            f"{float(alert['risk_score']):.2f} is at or above the auto-freeze threshold {threshold:.2f}.")


def slack_message(alert: Mapping, case: Mapping, opened: bool) -> dict:
    """A Slack-compatible incoming-webhook body (``text`` plus blocks)."""
    head = "New fraud case" if opened else "Further fraud alert"
    text = (f"{head} {case['external_id']}: customer {safe(alert.get('customer_id'))}, "
            f"risk {float(alert.get('risk_score', 0)):.2f} — {safe(alert.get('reason'), 150)}")
    detail = "\n".join(alert_lines(alert))
    return {"text": text, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{head}* `{case['external_id']}`"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": detail}},
        {"type": "context", "elements": [{"type": "mrkdwn",
                                          "text": f"alerts in case: {case['count']}, "
                                                  f"highest risk {float(case['max_score']):.2f}"}]}]}
