"""Zendesk pieces for data-subject requests: where a person sits on a ticket besides being its requester, and the
markup that redacts a whole comment through Zendesk's Agent Workspace redaction (``PUT comment_redactions/{id}``).
"""

from __future__ import annotations

import re

BLOCK = "▇"  # what Zendesk puts in place of each redacted character
REDACTED_FILE = "redacted.txt"  # what Zendesk puts in place of a redacted attachment
_TOKENS = re.compile(r"(<[^>]*>)")
_ELEMENTS_WITH_TARGETS = re.compile(r"^<\s*(a|img)\b", re.IGNORECASE)  # links and inline images


def participant_roles(ticket: dict, user_id) -> list[str]:
    """How the user is on the ticket besides requesting it: ``email_cc``, ``follower``, or ``collaborator`` (listed
    only in the legacy ``collaborator_ids``, an account without CCs and followers)."""
    user_id = int(user_id)
    roles = [name for name, field in (("email_cc", "email_cc_ids"), ("follower", "follower_ids"))
             if user_id in [int(i) for i in ticket.get(field) or []]]
    if not roles and user_id in [int(i) for i in ticket.get("collaborator_ids") or []]:
        roles.append("collaborator")
    return roles


def redact_all(html_body: str) -> str:
    """``html_body`` with every piece of text wrapped in ``<redact>`` and every link and inline image marked
    ``redact``: sent to ``comment_redactions``, it leaves nothing of the comment's content. Everything else is
    kept byte for byte (Zendesk matches the markup against the stored comment)."""
    out = []
    for token in _TOKENS.split(html_body or ""):
        if not token:
            continue
        if token.startswith("<"):
            element = _ELEMENTS_WITH_TARGETS.match(token)
            if element:
                token = f"{token[:element.end()]} redact{token[element.end():]}"
            out.append(token)
        elif token.strip():
            out.append(f"<redact>{token}</redact>")
        else:
            out.append(token)
    return "".join(out)


def is_redacted(comment: dict) -> bool:
    """Nothing of the comment's text or attachments is left (a second redaction would change nothing)."""
    text = str(comment.get("plain_body") or comment.get("body") or "")
    if text.replace(BLOCK, "").strip():
        return False
    return all(a.get("file_name") == REDACTED_FILE and not a.get("size") for a in comment.get("attachments") or [])
