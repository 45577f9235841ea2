"""A hub on the demo config (``config/demo/``) against an in-process sandbox, for end-to-end tests.

What ``deskbridge demo`` does, minus the fixed ports: a seeded sandbox on a free port, the hub's connectors and
the demo's notify webhooks pointed at it, vendor webhooks subscribed, ticket fields created at start-up, workers
on. The scheduler's jobs are not timed: the test runs them with ``run_jobs()`` after moving one clock shared by
the hub (``hub.clock.set_clock``) and the sandbox (the clock ``POST /_sandbox/clock`` moves), so due moments
are reached in milliseconds and every recorded timestamp (hub audit, Zendesk audits, notify sink) reads the
same time line.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from hub import clock as hub_clock

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "config" / "demo"
TIMEOUT = 10
ZD_AUTH = ("agent@sandbox.test/token", "sandbox-token")


class SharedClock:
    """Real time plus an offset, moved for the hub and the sandbox by the same amount."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.offset = timedelta(0)
        self.lock = threading.Lock()

    def now(self) -> datetime:
        with self.lock:
            return datetime.now(timezone.utc) + self.offset

    def advance(self, seconds: float) -> datetime:
        with self.lock:
            self.offset += timedelta(seconds=seconds)
            self.sandbox.advance_clock(seconds)
        return self.now()

    def advance_to(self, moment: datetime) -> datetime:
        """Move both clocks forward so that ``now()`` is ``moment`` (never backwards)."""
        seconds = (moment - self.now()).total_seconds()
        if seconds < 0:
            raise AssertionError(f"the clock is already {-seconds:.1f} s past {hub_clock.isoformat(moment)}")
        return self.advance(seconds)


@dataclass
class DemoHub:
    sandbox: object  # RunningSandbox
    hub: object
    running: object  # RunningHub
    clock: SharedClock
    scheduler: object  # HubScheduler, leader, not started: jobs run only through run_jobs()
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def zendesk_api(self) -> str:
        return self.sandbox.url + "/api/v2"

    # -- acting -------------------------------------------------------------------------------------------------
    def emit(self, event_type: str, data: dict) -> dict:
        """The bank emulator signs and sends this event to the hub's ``/webhooks/banking``."""
        answer = self.http.post(f"{self.sandbox.url}/_sandbox/bank/events", json={"type": event_type, "data": data},
                                timeout=TIMEOUT)
        answer.raise_for_status()
        return answer.json()["event"]

    def run_jobs(self) -> None:
        """One tick of every scheduler job (SLA due check, escalation timers, sync poll, ...), then settle."""
        self.scheduler.run_pending_now()
        self.settle()

    def converge(self, rounds: int = 8) -> int:
        """``run_jobs`` until a tick adds no inbox event or outbox action (sync has carried every change on);
        returns the ticks it took."""
        from sqlalchemy import func, select

        from hub.db import InboxEvent, OutboxAction

        def rows() -> int:
            with self.hub.db.session() as session:
                return sum(session.execute(select(func.count()).select_from(model)).scalar_one()
                           for model in (InboxEvent, OutboxAction))
        for tick in range(1, rounds + 1):
            before = rows()
            self.run_jobs()
            if rows() == before:
                return tick
        raise AssertionError(f"still changing after {rounds} ticks")

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every inbox event and outbox action is done (or dead) and the sandbox has delivered."""
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

    # -- reading the sandbox ------------------------------------------------------------------------------------
    def zendesk(self, path: str, **params) -> dict:
        answer = self.http.get(f"{self.zendesk_api}/{path}", params=params, auth=ZD_AUTH, timeout=TIMEOUT)
        answer.raise_for_status()
        return answer.json()

    def tickets(self) -> list[dict]:
        found, url = [], f"{self.zendesk_api}/tickets.json"
        while url:
            body = self.http.get(url, auth=ZD_AUTH, timeout=TIMEOUT).json()
            found += body["tickets"]
            url = body.get("next_page")
        return found

    def ticket(self, ticket_id: int) -> dict:
        return self.zendesk(f"tickets/{ticket_id}.json")["ticket"]

    def comments(self, ticket_id: int) -> list[dict]:
        return self.zendesk(f"tickets/{ticket_id}/comments.json")["comments"]

    def audits(self, ticket_id: int) -> list[dict]:
        return self.zendesk(f"tickets/{ticket_id}/audits.json")["audits"]

    def field_values(self, ticket: dict) -> dict:
        """``{field title: value}`` of a ticket's custom fields."""
        titles = {f["id"]: f["title"] for f in self.zendesk("ticket_fields.json")["ticket_fields"]}
        return {titles[f["id"]]: f["value"] for f in ticket.get("custom_fields") or [] if f["id"] in titles}

    def field_id(self, title: str) -> int:
        return next(f["id"] for f in self.zendesk("ticket_fields.json")["ticket_fields"] if f["title"] == title)

    def group_id(self, name: str) -> int:
        return next(g["id"] for g in self.zendesk("groups.json")["groups"] if g["name"] == name)

    def salesforce_query(self, soql: str) -> list[dict]:
        answer = self.http.get(f"{self.sandbox.url}/services/data/v59.0/query/", params={"q": soql}, timeout=TIMEOUT,
                               headers={"Authorization": "Bearer sandbox-session"})
        answer.raise_for_status()
        return answer.json()["records"]  # the first page (up to 2,000 records) is all a test needs

    def hubspot_tickets(self, *properties: str) -> list[dict]:
        found, after = [], None
        while True:
            params = {"limit": 100, "properties": ",".join(properties)}
            if after:
                params["after"] = after
            answer = self.http.get(f"{self.sandbox.url}/crm/v3/objects/tickets", params=params, timeout=TIMEOUT,
                                   headers={"Authorization": "Bearer sandbox-token"})
            answer.raise_for_status()
            body = answer.json()
            found += body.get("results") or []
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return found

    def notifications(self) -> list[dict]:
        """What the sandbox's Slack-compatible sink received: ``[{"at", "json"}]`` (``at`` on the sandbox clock)."""
        answer = self.http.get(f"{self.sandbox.url}/_sandbox/notify", timeout=TIMEOUT)
        answer.raise_for_status()
        return answer.json()["messages"]

    def audit_entries(self, action: str) -> list[dict]:
        """The hub's audit log entries for ``action`` (oldest first) as dicts."""
        from sqlalchemy import select

        from hub.db import AuditEntry
        with self.hub.db.session() as session:
            rows = session.execute(select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)).scalars().all()
            return [{"at": row.at, "target": row.target, "outcome": row.outcome,
                     "detail": json.loads(row.detail or "{}")} for row in rows]

    def outbox_actions(self, system: str, operation: str) -> list[dict]:
        """Outbox actions of ``system``/``operation`` (oldest first): ``{"key", "status", "payload"}``."""
        from sqlalchemy import select

        from hub.db import OutboxAction
        with self.hub.db.session() as session:
            rows = session.execute(select(OutboxAction).where(OutboxAction.system == system,
                                                              OutboxAction.operation == operation)
                                   .order_by(OutboxAction.id)).scalars().all()
            return [{"key": row.key, "status": row.status, "payload": json.loads(row.payload)} for row in rows]

    def dead(self) -> list[str]:
        """Inbox events and outbox actions that gave up, as ``"<kind> <what>: <last error>"`` lines."""
        from sqlalchemy import select

        from hub.db import InboxEvent, OutboxAction
        with self.hub.db.session() as session:
            actions = session.execute(select(OutboxAction).where(OutboxAction.status == "dead")).scalars().all()
            events = session.execute(select(InboxEvent).where(InboxEvent.status == "dead")).scalars().all()
            return ([f"action {a.system}.{a.operation}: {a.last_error}" for a in actions]
                    + [f"event {e.source} {e.type}: {e.last_error}" for e in events])

    def inbox_events(self, event_type: str) -> list[dict]:
        """Stored inbox events of ``event_type`` (oldest first): ``{"source", "status", "payload"}``."""
        from sqlalchemy import select

        from hub.db import InboxEvent
        with self.hub.db.session() as session:
            rows = session.execute(select(InboxEvent).where(InboxEvent.type == event_type)
                                   .order_by(InboxEvent.id)).scalars().all()
            return [{"source": row.source, "status": row.status, "payload": json.loads(row.payload)} for row in rows]

    def stop(self) -> None:
        """Stop hub, sandbox and clock. Waitress keeps looping while its channels live; closing them ends it now."""
        from waitress import wasyncore

        from hub.scheduler import release
        try:
            release(self.hub, self.scheduler.owner)
        finally:
            # The hub first, so its workers do not spend their last moments on a sandbox that is gone.
            wasyncore.close_all(self.running.server._map)
            self.running.stop()
            self.sandbox.stop()
            hub_clock.set_clock(None)
            self.http.close()


def start_demo_hub(data_dir: Path, plugins: dict | None = None, settings: dict | None = None) -> DemoHub:
    """Sandbox (seeded, webhooks wired) + a hub on ``config/demo`` serving webhooks with workers on.

    ``plugins`` are plugin blocks merged over the demo's (e.g. ``{"sync": {}}`` turns sync on); ``settings`` are
    further overrides.
    """
    from hub import plugins as hub_plugins
    from hub.demo import wire_sandbox_webhooks
    from hub.runtime import Hub
    from hub.sandbox.bank.state import DEFAULT_WEBHOOK_SECRET, SECRET_ENV
    from hub.sandbox.server import start_in_thread
    from hub.scheduler import HubScheduler, try_acquire
    from hub.server import start_hub_in_thread
    from hub.settings import load_settings

    sandbox = start_in_thread(port=0)
    hub = running = None
    try:
        requests.post(f"{sandbox.url}/_sandbox/seed", json={}, timeout=60).raise_for_status()
        shared = SharedClock(sandbox.sandbox)
        hub_clock.set_clock(shared.now)
        # The hub's URL is known only once it serves, so webhooks are wired to a reserved port first.
        from waitress.server import create_server
        probe = create_server(lambda *a: None, host="127.0.0.1", port=0)
        port = probe.effective_port
        probe.close()
        hub_url = f"http://127.0.0.1:{port}"
        env = {
            "DESKBRIDGE_DATA_DIR": str(data_dir),
            "DESKBRIDGE_PUBLIC_URL": hub_url,
            "DESKBRIDGE_SANDBOX_URL": sandbox.url,
            "DESKBRIDGE_SANDBOX_BANK_URL": f"{sandbox.url}/bank/v1",
            "DESKBRIDGE_SANDBOX_NOTIFY_URL": f"{sandbox.url}/_sandbox/notify",
            "DESKBRIDGE_BANKING_WEBHOOK_SECRET": os.environ.get(SECRET_ENV) or DEFAULT_WEBHOOK_SECRET,
            **wire_sandbox_webhooks(sandbox.url, hub_url),
        }
        overrides = {"plugins": dict(plugins or {}), **(settings or {})}
        hub_settings = load_settings(DEMO_CONFIG, env=env, overrides=overrides,
                                     plugin_models=hub_plugins.config_models(),
                                     connector_models=hub_plugins.config_models("connector"))
        hub = Hub(hub_settings)
        running = start_hub_in_thread(hub, port=port, workers=True, scheduler=False)
        sandbox.sandbox.webhook_target = running.url + "/webhooks/banking"
        scheduler = HubScheduler(hub)
        scheduler.is_leader = try_acquire(hub, scheduler.owner, hub_settings.scheduler.lock_ttl_seconds)
        if not scheduler.is_leader:
            raise AssertionError("the test scheduler could not take the scheduler lease")
        return DemoHub(sandbox, hub, running, shared, scheduler)
    except BaseException:
        hub_clock.set_clock(None)
        sandbox.stop()
        if running is not None:
            running.stop()
        elif hub is not None:
            hub.stop()
        raise
