"""A sandbox + hub pair for banking-event e2e tests and benchmarks: the bank emulator signs events to the
hub, connectors point at the sandbox, and a tiny HTTP receiver stands in for the fraud team's webhook."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

TIMEOUT = 10
ZD_AUTH = ("agent@sandbox.test/token", "sandbox-token")


class Receiver:
    """Collects JSON POSTs (a Slack-compatible incoming webhook stand-in)."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with lock:
                    outer.bodies.append(body)
                    outer.headers.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/fraud"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def connector_overrides(sandbox_url: str, per_minute: int = 6000) -> dict:
    return {
        "zendesk": {"base_url": sandbox_url, "subdomain": "sandbox", "email": "agent@sandbox.test",
                    "token": "sandbox-token", "read_timeout": 10.0, "per_minute": per_minute},
        "core_banking": {"base_url": f"{sandbox_url}/bank/v1", "api_key": "sandbox-key", "read_timeout": 10.0,
                         "per_minute": per_minute},
        "notify": {"allowed_hosts": ["127.0.0.1"], "per_minute": per_minute},
    }


STRIPE_SECRET = "whsec_e2e_banking_stack_stripe"


@dataclass
class Stack:
    sandbox: object
    hub: object
    receiver: Receiver
    hub_url: str
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def zendesk_api(self) -> str:
        return self.sandbox.url + "/api/v2"

    def emit(self, event_type: str, data: dict) -> dict:
        """The bank emulator signs and sends this event to the hub's ``/webhooks/banking``."""
        answer = self.http.post(f"{self.sandbox.url}/_sandbox/bank/events", json={"type": event_type, "data": data},
                                timeout=TIMEOUT)
        answer.raise_for_status()
        return answer.json()["event"]

    def tickets(self) -> list[dict]:
        found, url = [], f"{self.zendesk_api}/tickets.json"
        while url:
            body = self.http.get(url, auth=ZD_AUTH, timeout=TIMEOUT).json()
            found += body["tickets"]
            url = body.get("next_page")
        return found

    def ticket_by_external_id(self, external_id: str) -> dict | None:
        body = self.http.get(f"{self.zendesk_api}/tickets.json", params={"external_id": external_id}, auth=ZD_AUTH,
                             timeout=TIMEOUT).json()
        return body["tickets"][0] if body["tickets"] else None

    def comments(self, ticket_id: int) -> list[dict]:
        return self.http.get(f"{self.zendesk_api}/tickets/{ticket_id}/comments.json", auth=ZD_AUTH,
                             timeout=TIMEOUT).json()["comments"]

    def field_values(self, ticket: dict) -> dict:
        fields = self.http.get(f"{self.zendesk_api}/ticket_fields.json", auth=ZD_AUTH, timeout=TIMEOUT).json()
        titles = {f["id"]: f["title"] for f in fields["ticket_fields"]}
        return {titles.get(f["id"]): f["value"] for f in ticket.get("custom_fields") or [] if f["id"] in titles}

    def card(self, card_id: str) -> dict:
        return self.http.get(f"{self.sandbox.url}/bank/v1/cards/{card_id}", timeout=TIMEOUT,
                             headers={"Authorization": "Bearer sandbox-key"}).json()

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until every inbox event and outbox action is done (or dead) and the bank has delivered."""
        from sqlalchemy import func, select

        from hub.db import InboxEvent, OutboxAction
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending_delivery = any(d["state"] == "pending" for d in self.sandbox.sandbox.webhooks.entries())
            with self.hub.db.session() as session:
                busy = sum(session.execute(select(func.count()).select_from(model).where(
                    model.status == "pending")).scalar_one() for model in (InboxEvent, OutboxAction))
            if not busy and not pending_delivery:
                return
            time.sleep(0.05)
        raise AssertionError(f"the hub did not settle within {timeout} s")

    def stop(self) -> None:
        self.http.close()
        self.receiver.stop()


def stop_stack(stack: Stack, running) -> None:
    """Stop sandbox, hub and receiver. The hub's waitress loop keeps running while its task trigger is in the
    socket map, so ``RunningHub.stop`` would wait out its 5 s join; closing every channel first ends it now."""
    from waitress import wasyncore

    stack.sandbox.stop()
    wasyncore.close_all(running.server._map)
    running.stop()
    stack.stop()


def start_stack(make_hub, plugins: dict, per_minute: int = 6000, threads: int | None = None):
    """Sandbox (seeded) + hub serving webhooks with workers on; returns ``(Stack, RunningHub)``."""
    from hub.sandbox.bank.state import DEFAULT_WEBHOOK_SECRET
    from hub.sandbox.server import start_in_thread
    from hub.server import start_hub_in_thread

    sandbox = start_in_thread(port=0)
    requests.post(f"{sandbox.url}/_sandbox/seed", json={}, timeout=TIMEOUT).raise_for_status()
    receiver = Receiver()
    resolved = {name: (block(receiver) if callable(block) else block) for name, block in plugins.items()}
    overrides = {"connectors": connector_overrides(sandbox.url, per_minute), "plugins": resolved,
                 "webhooks": {"banking_secrets": [DEFAULT_WEBHOOK_SECRET], "stripe_secrets": [STRIPE_SECRET]}}
    if threads:
        overrides["workers"] = {"inbox_threads": threads, "outbox_threads": threads}
    hub = make_hub(overrides=overrides)
    running = start_hub_in_thread(hub, workers=True, scheduler=False)
    sandbox.sandbox.webhook_target = running.url + "/webhooks/banking"
    return Stack(sandbox, hub, receiver, running.url), running
