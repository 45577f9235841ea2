"""Helpers shared by the sync end-to-end tests: a sandbox, a hub wired to it, draining the outbox."""

from __future__ import annotations

import time

import requests

from hub import pipeline
from hub.sandbox.server import start_in_thread

TICKET_FIELDS = [{"title": "Category", "type": "text"}, {"title": "Risk score", "type": "decimal"},
                 {"title": "SLA first response due", "type": "text"}, {"title": "Identity verified",
                                                                        "type": "checkbox"}]


def connectors_for(url: str, systems=("zendesk", "salesforce", "hubspot")) -> dict:
    blocks = {
        "zendesk": {"base_url": url, "subdomain": "sandbox", "email": "agent@sandbox.test", "token": "sandbox-token",
                    "read_timeout": 5.0, "overlap_seconds": 5},
        "salesforce": {"instance_url": url, "session_id": "sandbox-session", "read_timeout": 5.0,
                       "overlap_seconds": 5},
        "hubspot": {"base_url": url, "access_token": "sandbox-token", "read_timeout": 5.0, "overlap_seconds": 5},
        "core_banking": {"base_url": f"{url}/bank/v1", "api_key": "sandbox-key", "read_timeout": 5.0},
    }
    return {name: blocks[name] for name in systems}


def make_sync_hub(make_hub, url: str, systems=("zendesk", "salesforce", "hubspot"), **workers):
    overrides = {"connectors": connectors_for(url, systems), "plugins": {"sync": {}},
                 "workers": {"max_attempts": 30, "backoff_base": 0.01, "backoff_cap": 0.2, **workers}}
    return make_hub(overrides)


def drain(hub, timeout: float = 120.0) -> int:
    """Run inbox and outbox work until nothing is pending; returns how many actions ran."""
    from sqlalchemy import func, select

    from hub.db import InboxEvent, OutboxAction
    ran, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        while pipeline.process_next_action(hub, "test"):
            ran += 1
            busy = True
        while pipeline.process_next_event(hub, "test"):
            busy = True
        if busy:
            continue
        with hub.db.session() as session:
            pending = session.execute(select(func.count()).select_from(OutboxAction).where(
                OutboxAction.status == "pending")).scalar_one()
        if not pending:
            return ran
        time.sleep(0.02)
    raise AssertionError("the outbox did not drain")


def stats(url: str) -> dict:
    return requests.get(f"{url}/_sandbox/stats", timeout=10).json()


def writes(url: str, system: str) -> int:
    """Requests to ``system`` that change something (not GET, not the control paths)."""
    routes = stats(url).get(system, {}).get("by_route", {})
    return sum(n for route, n in routes.items() if not route.startswith("GET "))


__all__ = ["TICKET_FIELDS", "connectors_for", "drain", "make_sync_hub", "start_in_thread", "stats", "writes"]
