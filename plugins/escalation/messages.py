"""Notification bodies: Slack-compatible webhook JSON and plain e-mail.

Only ticket metadata goes out (reference, category, priority, segment, reason, link); never the subject,
description or customer identity, which may hold personal data or card numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugins.escalation.rules import TicketState

_FIELDS = (("category", "Category"), ("priority", "Priority"), ("segment", "Segment"), ("channel", "Channel"))


def _escape(text: str) -> str:
    # Slack mrkdwn control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _reference(state: TicketState) -> str:
    facts = state.facts
    if facts.get("system") and facts.get("id"):
        return f"{facts['system']} ticket {facts['id']}"
    return f"ticket {state.ticket}"


def headline(state: TicketState, rule: str, level: int, reason: str) -> str:
    return f"Escalation level {level} ({rule}): {_reference(state)}: {reason}"


def slack_message(state: TicketState, rule: str, level: int, reason: str) -> dict:
    """``{"text", "blocks"}`` as Slack incoming webhooks (and compatible chat tools) accept it."""
    text = headline(state, rule, level, reason)
    fields = [
        {"type": "mrkdwn", "text": f"*{label}*\n{_escape(str(state.facts[key]))}"}
        for key, label in _FIELDS
        if state.facts.get(key)
    ]
    section: dict = {"type": "section", "text": {"type": "mrkdwn", "text": f":rotating_light: *{_escape(text)}*"}}
    if fields:
        section["fields"] = fields
    blocks = [section]
    url = state.facts.get("url")
    if url:
        blocks.append(
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open ticket"}, "url": url}],
            }
        )
    return {"text": text, "blocks": blocks}


def email_message(state: TicketState, rule: str, level: int, reason: str, subject: str | None) -> dict:
    """``{"subject", "body"}`` for the notify connector's e-mail operation."""
    lines = [headline(state, rule, level, reason), ""]
    lines += [f"{label}: {state.facts[key]}" for key, label in _FIELDS if state.facts.get(key)]
    if state.facts.get("url"):
        lines += ["", f"Open: {state.facts['url']}"]
    return {"subject": subject or f"[Deskbridge] {headline(state, rule, level, reason)}", "body": "\n".join(lines) + "\n"}
