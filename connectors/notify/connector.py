"""``NotifyConnector``: ``notify_webhook`` and ``send_email`` outbox operations."""

from __future__ import annotations

import hashlib
import re
from email.message import EmailMessage
from email.utils import formatdate

from connectors.notify.client import NotifyClient
from hub.errors import PermanentError

ADDRESS_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def message_id(idempotency_key: str) -> str:
    """A Message-ID fixed by the action's key, so a re-sent e-mail is recognisably the same message."""
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@deskbridge>"


class NotifyConnector:
    name = "notify"
    batch_operations: dict[str, int] = {}

    def __init__(self, config, guard=None, metrics=None):
        self.config = config
        self.client = NotifyClient(config, guard=guard, metrics=metrics)

    @property
    def guard(self):
        return self.client.guard

    def execute(self, operation: str, payload: dict, idempotency_key: str) -> dict:
        if operation == "notify_webhook":
            return self.notify_webhook(payload or {}, idempotency_key)
        if operation == "send_email":
            return self.send_email(payload or {}, idempotency_key)
        raise PermanentError(f"notify: unknown operation {operation!r}")

    def notify_webhook(self, payload: dict, key: str) -> dict:
        body = payload.get("json")
        if not isinstance(body, (dict, list)):
            raise PermanentError("notify: notify_webhook needs a json object")
        # Receivers that dedupe (Standard Webhooks style) can use the key; Slack ignores unknown headers.
        headers = {"Idempotency-Key": hashlib.sha256(key.encode()).hexdigest(), "User-Agent": "deskbridge-notify/1.0"}
        status = self.client.post_json(payload.get("url"), body, headers)
        return {"status": status}

    def send_email(self, payload: dict, key: str) -> dict:
        recipients = payload.get("to")
        recipients = [recipients] if isinstance(recipients, str) else list(recipients or [])
        if not recipients or not all(isinstance(r, str) and ADDRESS_RE.match(r) for r in recipients):
            raise PermanentError("notify: send_email needs valid 'to' address(es)")
        subject = " ".join(str(payload.get("subject") or "").split())  # no line breaks: no header injection
        if not subject:
            raise PermanentError("notify: send_email needs a subject")
        message = EmailMessage()
        message["From"] = self.config.from_address
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject[:250]
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id(key)
        message.set_content(str(payload.get("body") or ""))
        self.client.send_mail(message)
        return {"message_id": message["Message-ID"], "to": recipients}

    def check(self) -> dict:
        if not self.config.smtp_host:
            return {"ok": True, "detail": f"webhooks to {len(self.config.allowed_hosts)} allowed hosts; e-mail off"}
        return {"ok": True, "detail": f"webhooks to {len(self.config.allowed_hosts)} allowed hosts; "
                                      f"SMTP {self.config.smtp_host}:{self.config.smtp_port}"}

    def close(self) -> None:
        self.client.close()
