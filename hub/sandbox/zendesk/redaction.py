"""Agent Workspace comment redaction: ``PUT /api/v2/comment_redactions/{comment_id}``.

Body ``{"ticket_id", "html_body", "external_attachment_urls"}`` (top level, not wrapped). ``html_body`` is the
comment's ``html_body`` with the text to remove wrapped in ``<redact>…</redact>``; every character inside becomes
``▇``. An element carrying the ``redact`` attribute (``<a href=… redact>``, ``<img … redact>``) is removed itself
(its inner text only if that is wrapped too). Each listed attachment (its ``content_url``) is replaced by an empty
``redacted.txt``. Works on closed tickets too; permanent. Answer: ``{"comment": …}``.

The emulator's own rule (Zendesk does not document its check): the ``html_body`` sent, with the redaction markup
taken out, must be the comment's current ``html_body``, else 400; a comment of another ticket is 404.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import flask

from hub.sandbox.zendesk.comments import present_comment, strip_html
from hub.sandbox.zendesk.errors import invalid_value, not_found, parameter_missing
from hub.sandbox.zendesk.state import ZendeskState

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.zendesk.emulator import ZendeskEmulator

BLOCK = "▇"
_TOKENS = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"^<\s*(/?)\s*([A-Za-z][\w-]*)")
_REDACT_ATTR = re.compile(r"\s+redact(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]*))?(?=[\s/>])", re.IGNORECASE)
REDACTED_FILE = {"file_name": "redacted.txt", "content_type": "text/plain", "size": 0, "width": None,
                 "height": None, "thumbnails": []}


def _name(tag: str) -> tuple[bool, str]:
    found = _TAG_NAME.match(tag)
    return (bool(found.group(1)), found.group(2).lower()) if found else (False, "")


def apply_markup(marked: str, stored: str) -> str:
    """The comment's new ``html_body`` from ``marked`` (``stored`` plus redaction markup)."""
    out, plain, depth, open_anchors = [], [], 0, 0
    for token in _TOKENS.split(marked):
        if not token:
            continue
        if not token.startswith("<"):
            plain.append(token)
            out.append(BLOCK * len(html.unescape(token)) if depth else token)
            continue
        closing, name = _name(token)
        if name == "redact":
            depth = max(0, depth - 1) if closing else depth + 1
            continue
        clean = _REDACT_ATTR.sub("", token)
        plain.append(clean)
        if clean != token:  # the element itself is redacted (an anchor's closing tag goes with it)
            open_anchors += name == "a" and not closing
            continue
        if closing and name == "a" and open_anchors:
            open_anchors -= 1
            continue
        out.append(token)
    if "".join(plain) != stored:
        raise invalid_value("html_body must be the comment's html_body with <redact> tags or redact attributes "
                            "added")
    return "".join(out)


def _attachment_token(url: str) -> str | None:
    found = re.search(r"/attachments/token/([^/?#]+)", str(url or ""))
    return found.group(1) if found else None


def redact(state: ZendeskState, ticket_id: int, comment_id: int, data: dict) -> dict:
    ticket = state.tickets.get(ticket_id)
    if ticket is None or ticket["status"] == "deleted":
        raise not_found()
    comment = next((c for c in state.comments.get(ticket_id, []) if c["id"] == comment_id), None)
    if comment is None:
        raise not_found()
    marked, urls = data.get("html_body"), data.get("external_attachment_urls") or []
    if not isinstance(urls, list):
        raise invalid_value("external_attachment_urls must be an array")
    if marked is None and not urls:
        raise invalid_value("Nothing to redact: send html_body with <redact> tags or external_attachment_urls")
    targets = []
    for url in urls:
        token = _attachment_token(url)
        found = next((a for a in comment["attachments"] if token and a["_token"] == token), None)
        if found is None:
            raise invalid_value(f"external_attachment_urls: {str(url)[:100]} is not an attachment of comment "
                                f"{comment_id}")
        targets.append(found)
    markup = apply_markup(str(marked), comment["html_body"]) if marked is not None else comment["html_body"]
    for attachment in targets:  # the same record the comment and its upload share
        attachment.update(REDACTED_FILE)
        state.attachment_bytes[attachment["id"]] = b""
    text = strip_html(markup)
    comment.update(html_body=markup, body=text, plain_body=text)
    for audit in state.audits.get(ticket_id, []):  # the audit's copy of the comment says the same
        for event in audit["events"]:
            if event.get("type") == "Comment" and event.get("id") == comment_id:
                event.update(html_body=markup, body=text, plain_body=text)
    if state.comments[ticket_id][0] is comment:  # the first comment is the ticket's description
        ticket["description"] = text
    return comment


def register(bp: flask.Blueprint, emu: "ZendeskEmulator") -> None:
    def handle(comment_id: int):
        data = emu.raw_body()
        if data.get("ticket_id") is None:
            raise parameter_missing("ticket_id")
        try:
            ticket_id = int(data["ticket_id"])
        except (TypeError, ValueError) as exc:
            raise invalid_value("ticket_id must be an integer") from exc
        return {"comment": present_comment(redact(emu.state, ticket_id, comment_id, data))}

    @emu.route(bp, "/api/v2/comment_redactions/<int:comment_id>", methods=["PUT"])
    def redact_comment(comment_id):
        return handle(comment_id)

    @emu.route(bp, "/api/v2/comment_redactions/<int:comment_id>.json", methods=["PUT"])
    def redact_comment_json(comment_id):
        return handle(comment_id)
