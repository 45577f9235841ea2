"""Transports for notifications: HTTP through ``hub.http`` and SMTP through ``smtplib``, both guarded.

``check_url`` is the SSRF guard: only http(s) URLs whose host is on ``allowed_hosts``, no credentials in the
URL, and redirects are never followed (a redirect could point anywhere).
"""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from urllib.parse import urlsplit

from hub.errors import PermanentError, RetryableError
from hub.http import SystemGuard, error_for, parse_retry_after, session_for

SYSTEM = "notify"


def host_allowed(host: str, allowed: list[str]) -> bool:
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower().rstrip(".")
        if entry.startswith("*.") and host.endswith(entry[1:]) and host != entry[2:]:
            return True
        if host == entry:
            return True
    return False


def check_url(url: str, allowed: list[str]) -> str:
    """The URL if it may be called, else ``PermanentError`` naming why."""
    if not isinstance(url, str) or not url:
        raise PermanentError("notify: webhook url is missing")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise PermanentError(f"notify: webhook url must be http(s), not {parts.scheme or 'none'!r}")
    if parts.username or parts.password:
        raise PermanentError("notify: webhook url must not carry credentials")
    host = parts.hostname or ""
    if not host or not host_allowed(host, allowed):
        raise PermanentError(f"notify: host {host!r} is not in connectors.notify.allowed_hosts")
    return url


class HttpStatusError(Exception):
    def __init__(self, response):
        self.response = response
        super().__init__(f"{response.status_code} {response.reason}")


def translate_http(exc: Exception) -> Exception | None:
    if isinstance(exc, HttpStatusError):
        response = exc.response
        if 300 <= response.status_code < 400:
            return PermanentError(f"notify: webhook answered a redirect ({response.status_code}); not followed",
                                  status=response.status_code)
        return error_for(SYSTEM, response.status_code, response.text[:120] or response.reason,
                         parse_retry_after(response.headers.get("Retry-After")))
    return None


def translate_smtp(exc: Exception) -> Exception | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            return RetryableError(f"notify: recipients deferred ({codes[0]})")
        return PermanentError(f"notify: recipients refused ({', '.join(str(c) for c in codes)})")
    if isinstance(exc, smtplib.SMTPResponseException):
        text = f"notify: SMTP server answered {exc.smtp_code}"
        return RetryableError(text) if 400 <= exc.smtp_code < 500 else PermanentError(text)
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, socket.timeout, OSError)):
        return RetryableError(f"notify: SMTP connection failed ({type(exc).__name__})")
    if isinstance(exc, smtplib.SMTPException):
        return PermanentError(f"notify: SMTP failed ({type(exc).__name__}: {exc})"[:300])
    return None


class NotifyClient:
    def __init__(self, config, guard: SystemGuard | None = None, metrics=None):
        self.config = config
        self.guard = guard or SystemGuard(SYSTEM, per_minute=config.per_minute, metrics=metrics)
        self.session = session_for(self.guard, timeout=(config.connect_timeout, config.read_timeout))

    def post_json(self, url: str, body, headers: dict) -> int:
        check_url(url, self.config.allowed_hosts)

        def send() -> int:
            response = self.session.post(url, json=body, headers=headers, allow_redirects=False)
            if not 200 <= response.status_code < 300:
                raise HttpStatusError(response)
            return response.status_code

        return self.guard.call(send, translate_http)

    def send_mail(self, message: EmailMessage) -> None:
        config = self.config
        if not config.smtp_host:
            raise PermanentError("notify: connectors.notify.smtp_host is not set; e-mail is off")

        def send() -> None:
            with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.read_timeout) as smtp:
                if config.smtp_starttls:
                    smtp.starttls()
                if config.smtp_username:
                    smtp.login(config.smtp_username, config.smtp_password or "")
                smtp.send_message(message)
            self.guard.record(250)

        self.guard.call(send, translate_smtp)

    def close(self) -> None:
        self.session.close()
