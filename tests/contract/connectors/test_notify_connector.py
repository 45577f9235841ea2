"""The notify connector against a real local HTTP receiver and a tiny in-process SMTP server."""

from __future__ import annotations

import email
import json
import queue
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.notify import Config
from connectors.notify.connector import NotifyConnector, message_id
from hub.errors import PermanentError, RetryableError

pytestmark = pytest.mark.contract


class Receiver:
    """Answers each POST with the next queued status (200 when none), recording body and headers."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.statuses: list[tuple[int, dict]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.received.append((dict(self.headers), body))
                status, headers = owner.statuses.pop(0) if owner.statuses else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SmtpServer:
    """Just enough SMTP (RFC 5321) for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def __init__(self, refuse: dict[str, str] | None = None):
        self.messages: queue.Queue = queue.Queue()
        refused = refuse or {}
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str):
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                self.reply("220 test ESMTP")
                sender, recipients = None, []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    command = raw.decode().strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 test")
                    elif verb == "MAIL":
                        sender, recipients = command[10:].strip("<>"), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        address = command.split(":", 1)[1].strip().strip("<>")
                        if address in refused:
                            self.reply(refused[address])
                        else:
                            recipients.append(address)
                            self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines = []
                        while (line := self.rfile.readline()) not in (b".\r\n", b""):
                            lines.append(line[1:] if line.startswith(b"..") else line)
                        owner.messages.put((sender, recipients, b"".join(lines)))
                        self.reply("250 queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.close()


@pytest.fixture
def smtp():
    server = SmtpServer(refuse={"gone@example.org": "550 no such user", "busy@example.org": "451 try later"})
    yield server
    server.close()


def make(**options) -> NotifyConnector:
    return NotifyConnector(Config(**{"allowed_hosts": ["127.0.0.1"], "read_timeout": 5.0, **options}))


# -- webhooks ----------------------------------------------------------------------------------------------------

def test_webhook_posts_json_to_an_allowed_host(receiver):
    notify = make()
    result = notify.execute("notify_webhook", {"url": receiver.url, "json": {"text": "SLA breach on #42"}}, "k1")
    assert result == {"status": 200}
    headers, body = receiver.received[0]
    assert json.loads(body) == {"text": "SLA breach on #42"}
    assert headers["Content-Type"] == "application/json"
    assert len(headers["Idempotency-Key"]) == 64 and headers["Idempotency-Key"] != "k1"


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "http://localhost:9/x",
                                 "file:///etc/passwd", "http://user:pw@127.0.0.1/x", "gopher://127.0.0.1/"])
def test_webhook_to_a_host_not_allowed_is_refused_without_a_call(receiver, url):
    with pytest.raises(PermanentError):
        make().execute("notify_webhook", {"url": url, "json": {"text": "x"}}, "k")
    assert receiver.received == []


@pytest.mark.parametrize("status,error", [(429, RetryableError), (500, RetryableError), (503, RetryableError),
                                          (404, PermanentError), (400, PermanentError), (302, PermanentError)])
def test_webhook_status_table(receiver, status, error):
    receiver.statuses.append((status, {"Retry-After": "7", "Location": "http://10.0.0.1/"}))
    with pytest.raises(error) as caught:
        make().execute("notify_webhook", {"url": receiver.url, "json": {"text": "x"}}, "k")
    if status == 429:
        assert caught.value.retry_after == 7
    assert len(receiver.received) == 1  # a redirect is never followed


def test_webhook_to_a_closed_port_is_retryable(receiver):
    url = receiver.url
    receiver.close()
    with pytest.raises(RetryableError):
        make().execute("notify_webhook", {"url": url, "json": {"text": "x"}}, "k")


# -- e-mail ------------------------------------------------------------------------------------------------------

def test_send_email_over_smtp(smtp):
    notify = make(smtp_host="127.0.0.1", smtp_port=smtp.port, from_address="hub@bank.example")
    result = notify.execute("send_email", {"to": "jo@example.org", "subject": "Your dispute\r\nBcc: x@y.z",
                                           "body": "We received your evidence."}, "mail-1")
    sender, recipients, data = smtp.messages.get(timeout=5)
    message = email.message_from_bytes(data)
    assert sender == "hub@bank.example" and recipients == ["jo@example.org"]
    assert message["Subject"] == "Your dispute Bcc: x@y.z" and message["Bcc"] is None  # no header injection
    assert message["Message-ID"] == message_id("mail-1") == result["message_id"]
    assert "We received your evidence." in message.get_payload()


def test_send_email_refusals(smtp):
    notify = make(smtp_host="127.0.0.1", smtp_port=smtp.port)
    with pytest.raises(PermanentError, match="550"):
        notify.execute("send_email", {"to": "gone@example.org", "subject": "s", "body": "b"}, "k")
    with pytest.raises(RetryableError, match="451"):
        notify.execute("send_email", {"to": "busy@example.org", "subject": "s", "body": "b"}, "k")
    with pytest.raises(PermanentError, match="valid 'to'"):
        notify.execute("send_email", {"to": "not-an-address", "subject": "s", "body": "b"}, "k")


def test_send_email_when_smtp_is_down_or_off(smtp):
    port = smtp.port
    smtp.close()
    with pytest.raises(RetryableError, match="SMTP connection failed"):
        make(smtp_host="127.0.0.1", smtp_port=port).execute("send_email", {"to": "a@b.co", "subject": "s"}, "k")
    with pytest.raises(PermanentError, match="smtp_host is not set"):
        make().execute("send_email", {"to": "a@b.co", "subject": "s"}, "k")
    assert make().check()["ok"] is True
