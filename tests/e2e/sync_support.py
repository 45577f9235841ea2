"""Helpers shared by the sync end-to-end tests: a sandbox, a hub wired to it, draining the outbox."""

from __future__ import annotations

import time

import pytest
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
        "salesforce": {"instance_url": url, "session_id": "sandbox-session", "read_timeout": 5.0, "limit_pause_seconds": 1,
                       "overlap_seconds": 5},
        "hubspot": {"base_url": url, "access_token": "sandbox-token", "read_timeout": 5.0, "overlap_seconds": 5,
                    "daily_limit_pause_seconds": 1},
        "core_banking": {"base_url": f"{url}/bank/v1", "api_key": "sandbox-key", "read_timeout": 5.0},
    }
    return {name: blocks[name] for name in systems}


def make_sync_hub(make_hub, url: str, systems=("zendesk", "salesforce", "hubspot"), plugins=None, **workers):
    overrides = {"connectors": connectors_for(url, systems), "plugins": plugins or {"sync": {}},
                 "workers": {"max_attempts": 30, "backoff_base": 0.01, "backoff_cap": 0.2, **workers}}
    return make_hub(overrides)


# Fixtures for a sync test module: one sandbox per module, reset per test, and a hub synced to it (first pass
# done, so cursors start from now). Import them into the module: ``from tests.e2e.sync_support import running,
# url, hub``.

@pytest.fixture(scope="module")
def running():
    sandbox = start_in_thread(port=0)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def url(running):
    running.sandbox.reset()  # faults and limits too
    yield running.url
    requests.delete(f"{running.url}/_sandbox/faults", timeout=5)
    running.sandbox.limits.clear()


@pytest.fixture
def hub(make_hub, url):
    return started_sync_hub(make_hub, url)


def started_sync_hub(make_hub, url: str, plugins=None):
    """A hub syncing the sandbox (``plugins``: default only ``sync``) whose first pass has run: cursors start
    from now, nothing floods."""
    from hub.sync import run_pass
    hub = make_sync_hub(make_hub, url, plugins=plugins)
    hub.connectors["zendesk"].execute("ensure_ticket_fields", {"fields": TICKET_FIELDS}, "fields")
    run_pass(hub)
    return hub


def drain(hub, timeout: float = 120.0) -> int:
    """Run inbox and outbox work until nothing is pending; returns how many actions ran."""
    from sqlalchemy import func, select

    from hub.db import OutboxAction
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
    """Requests to ``system`` that change something (not GET, not searches)."""
    routes = stats(url).get(system, {}).get("by_route", {})
    return sum(n for route, n in routes.items() if not route.startswith("GET ") and not route.endswith("/search"))


__all__ = ["TICKET_FIELDS", "connectors_for", "drain", "make_sync_hub", "start_in_thread", "stats", "writes"]


# -- acting as a person in each system (plain HTTP against the emulators) ----------------------------------------

SF_API = "/services/data/v59.0"


def _call(method: str, url: str, token: str, **kwargs) -> dict:
    answer = requests.request(method, url, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kwargs)
    assert answer.status_code < 300, f"{method} {url}: {answer.status_code} {answer.text[:300]}"
    return answer.json() if answer.content else {}


def zd_create(url: str, subject: str, body: str, email: str, name: str, **ticket) -> dict:
    data = {"subject": subject, "comment": {"body": body, "public": True},
            "requester": {"email": email, "name": name}, **ticket}
    return _call("POST", f"{url}/api/v2/tickets.json", "sandbox-token", json={"ticket": data})["ticket"]


def zd_update(url: str, ticket_id, **ticket) -> dict:
    return _call("PUT", f"{url}/api/v2/tickets/{ticket_id}.json", "sandbox-token", json={"ticket": ticket})["ticket"]


def zd_delete(url: str, ticket_id) -> None:
    _call("DELETE", f"{url}/api/v2/tickets/{ticket_id}.json", "sandbox-token")


def zd_comments(url: str, ticket_id) -> list[dict]:
    return _call("GET", f"{url}/api/v2/tickets/{ticket_id}/comments.json", "sandbox-token")["comments"]


def zd_tickets(url: str) -> list[dict]:
    return [t for t in _call("GET", f"{url}/api/v2/tickets.json?per_page=100", "sandbox-token")["tickets"]]


def sf_query(url: str, soql: str) -> list[dict]:
    body = _call("GET", f"{url}{SF_API}/queryAll/", "sandbox-session", params={"q": soql})
    records = list(body.get("records") or [])
    while body.get("nextRecordsUrl"):
        body = _call("GET", f"{url}{body['nextRecordsUrl']}", "sandbox-session")
        records += body.get("records") or []
    return records


def sf_update(url: str, sobject: str, record_id: str, fields: dict) -> None:
    _call("PATCH", f"{url}{SF_API}/sobjects/{sobject}/{record_id}", "sandbox-session", json=fields)


def hs_tickets(url: str, properties=("subject", "content", "deskbridge_id", "hs_ticket_priority",
                                     "hs_pipeline_stage", "category", "risk_score")) -> list[dict]:
    found, after = [], None
    while True:
        params = {"limit": 100, "properties": ",".join(properties)}
        if after:
            params["after"] = after
        body = _call("GET", f"{url}/crm/v3/objects/tickets", "sandbox-token", params=params)
        found += body.get("results") or []
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return found


def hs_update(url: str, ticket_id: str, properties: dict) -> None:
    _call("PATCH", f"{url}/crm/v3/objects/tickets/{ticket_id}", "sandbox-token", json={"properties": properties})


def hs_notes(url: str, ticket_id: str) -> list[dict]:
    body = {"filterGroups": [{"filters": [{"propertyName": "associations.ticket", "operator": "EQ",
                                           "value": str(ticket_id)}]}], "properties": ["hs_note_body"], "limit": 100}
    return _call("POST", f"{url}/crm/v3/objects/notes/search", "sandbox-token", json=body).get("results") or []


def converge(hub, url: str, rounds: int = 12) -> int:
    """Sync passes and outbox drains until a pass finds nothing new; returns the passes it took."""
    from hub.sync import run_pass
    for attempt in range(1, rounds + 1):
        report = run_pass(hub)
        drain(hub)
        moved = sum(counts.get(k, 0) for objects in report["systems"].values() for counts in objects.values()
                    for k in ("created", "updated", "deleted", "failed", "stream_errors"))
        if not moved:
            return attempt
    raise AssertionError("the systems did not converge")
