"""Ticket comments and audits: the records Zendesk writes for every ticket change."""

from __future__ import annotations

import html
import re

import flask

from hub.sandbox.zendesk.state import ZendeskState, ts, with_url

API_VIA = {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}}
_TAG_RE = re.compile(r"<[^>]+>")


def via(channel: str = "api", sender: dict | None = None) -> dict:
    if channel == "api":
        return {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}}
    if channel == "email":
        origin = {"address": sender.get("email"), "name": sender.get("name")} if sender else {}
        return {"channel": "email", "source": {"from": origin, "to": {"name": "Sandbox Support",
                                                                    "address": "support@sandbox.zendesk.com"},
                                               "rel": None}}
    return {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}


def render_html(body: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", body.strip()) if p.strip()] or [""]
    inner = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f'<div class="zd-comment" dir="auto">{inner}</div>'


def strip_html(markup: str) -> str:
    text = re.sub(r"</p>\s*<p>|<br\s*/?>", "\n", markup)
    return html.unescape(_TAG_RE.sub("", text)).strip()


def comment_text(data: dict) -> tuple[str, str]:
    """``(body, html_body)`` from a comment payload carrying ``body`` or ``html_body``."""
    if data.get("html_body"):
        markup = str(data["html_body"])
        return strip_html(markup), markup
    body = str(data.get("body") or "")
    return body, render_html(body)


def request_metadata() -> dict:
    """Who made the change (client, address), computed once per request: bulk jobs write hundreds."""
    if not flask.has_request_context():
        return _metadata("", None)
    cached = flask.g.get("zendesk_metadata")
    if cached is None:
        cached = flask.g.zendesk_metadata = _metadata(flask.request.headers.get("User-Agent", ""),
                                                      flask.request.remote_addr)
    return {"system": dict(cached["system"]), "custom": {}}


def _metadata(client: str, address: str | None) -> dict:
    return {"system": {"client": client, "ip_address": address, "location": "London, ENG, United Kingdom",
                       "latitude": 51.5088, "longitude": -0.126},
            "custom": {}}


def take_attachments(state: ZendeskState, tokens) -> list[dict]:
    """Attachments of the given upload tokens; a token is consumed by the comment that uses it."""
    attached = []
    for token in tokens or []:
        upload = state.uploads.pop(str(token), None)
        if upload is None:
            continue
        attached.extend(state.attachments[a] for a in upload.attachment_ids if a in state.attachments)
    return attached


def new_comment(state: ZendeskState, ticket_id: int, data: dict, author_id: int, audit_id: int,
                channel: str = "api", at=None) -> dict:
    body, markup = comment_text(data)
    comment_id = state.next_id("event")
    when = at or state.now()
    comment = {"id": comment_id, "type": "Comment", "author_id": int(data.get("author_id") or author_id),
               "body": body, "html_body": markup, "plain_body": body, "public": bool(data.get("public", True)),
               "attachments": take_attachments(state, data.get("uploads")), "audit_id": audit_id,
               "via": via(channel), "created_at": ts(when), "metadata": request_metadata()}
    state.comments.setdefault(ticket_id, []).append(comment)
    return comment


def present_comment(comment: dict) -> dict:
    out = dict(comment)
    out["attachments"] = [present_attachment(a) for a in comment["attachments"]]
    return out


def present_attachment(attachment: dict) -> dict:
    out = with_url(attachment, f"attachments/{attachment['id']}.json")
    base = out["url"].split("/api/v2/")[0]
    out["content_url"] = f"{base}/attachments/token/{attachment['_token']}/?name={attachment['file_name']}"
    out["mapped_content_url"] = out["content_url"]
    return {k: v for k, v in out.items() if not k.startswith("_")}


class AuditBuilder:
    """Collects the events of one ticket audit."""

    def __init__(self, state: ZendeskState, ticket_id: int, author_id: int, channel: str = "api", at=None):
        self.state = state
        self.audit = {"id": state.next_id("audit"), "ticket_id": ticket_id, "created_at": ts(at or state.now()),
                      "author_id": author_id, "metadata": request_metadata(), "via": via(channel), "events": []}

    @property
    def id(self) -> int:
        return self.audit["id"]

    def create(self, field_name: str, value) -> None:
        self.audit["events"].append({"id": self.state.next_id("event"), "type": "Create",
                                     "field_name": field_name, "value": value})

    def change(self, field_name: str, value, previous) -> None:
        self.audit["events"].append({"id": self.state.next_id("event"), "type": "Change",
                                     "field_name": field_name, "value": value, "previous_value": previous})

    def comment(self, comment: dict) -> None:
        event = {k: comment[k] for k in ("id", "type", "author_id", "body", "html_body", "plain_body", "public",
                                         "attachments", "audit_id")}
        self.audit["events"].insert(0, event)

    def save(self) -> dict:
        self.state.audits.setdefault(self.audit["ticket_id"], []).append(self.audit)
        return self.audit


def present_audit(audit: dict) -> dict:
    out = dict(audit)
    out["events"] = [dict(e, attachments=[present_attachment(a) for a in e["attachments"]])
                     if e["type"] == "Comment" else e for e in audit["events"]]
    return out
