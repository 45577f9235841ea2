"""The sync under injected faults and under each vendor's real rate limit: it converges with no duplicates and
no losses, and stays under the limits instead of bouncing off them."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from hub.db import DeadLetter
from hub.sync import run_pass
from tests.e2e.sync_support import (  # noqa: F401  (running, url: fixtures)
    running, url,
    TICKET_FIELDS, converge, drain, hs_notes, hs_tickets, make_sync_hub, sf_query, zd_create, zd_update,
)

pytestmark = pytest.mark.e2e
SYSTEMS = ("zendesk", "salesforce", "hubspot")
N = 8


def scenario(url: str, hub) -> list[dict]:
    """N tickets with one internal note each, created by people in Zendesk."""
    made = []
    for i in range(N):
        ticket = zd_create(url, f"Payment failed {i}", f"My transfer {i} failed.", f"client{i}@example.org",
                           f"Client {i}", priority="normal", tags=["payments"])
        zd_update(url, ticket["id"], comment={"body": f"Note {i}: looked at the ledger.", "public": False})
        made.append(ticket)
    return made


def assert_synced_once(url: str) -> None:
    cases = sf_query(url, "SELECT Id, Subject, Deskbridge_Id__c FROM Case WHERE IsDeleted = false")
    assert sorted(c["Subject"] for c in cases) == sorted(f"Payment failed {i}" for i in range(N))
    notes = sf_query(url, "SELECT ParentId, CommentBody FROM CaseComment")
    assert len(notes) == N and len({n["ParentId"] for n in notes}) == N
    tickets = hs_tickets(url)
    assert sorted(t["properties"]["subject"] for t in tickets) == sorted(f"Payment failed {i}" for i in range(N))
    for ticket in tickets:
        assert len(hs_notes(url, ticket["id"])) == 1


def dead_letters(hub) -> int:
    with hub.db.session() as session:
        return session.execute(select(func.count()).select_from(DeadLetter)).scalar_one()


def test_converges_with_twenty_percent_faults_everywhere(url, make_hub):
    hub = make_sync_hub(make_hub, url)
    hub.connectors["zendesk"].execute("ensure_ticket_fields", {"fields": TICKET_FIELDS}, "fields")
    run_pass(hub)
    scenario(url, hub)
    for system in SYSTEMS:
        answer = requests.post(f"{url}/_sandbox/faults", timeout=5, json={
            "system": system, "rate": 0.2, "kinds": ["429", "500", "503", "timeout", "reset"],
            "timeout_seconds": 0.2, "seed": 11})
        assert answer.status_code == 200, answer.text
    for _ in range(15):  # passes under faults: streams that stop resume from their cursor next time
        run_pass(hub)
        drain(hub)
    requests.delete(f"{url}/_sandbox/faults", timeout=5)
    converge(hub, url)
    assert_synced_once(url)
    assert dead_letters(hub) == 0


def test_under_vendor_rate_limits_the_hub_is_never_refused(url, running, make_hub):
    hub = make_sync_hub(make_hub, url)
    hub.connectors["zendesk"].execute("ensure_ticket_fields", {"fields": TICKET_FIELDS}, "fields")
    run_pass(hub)
    scenario(url, hub)
    for system, per_minute in (("zendesk", 700), ("salesforce", 1000), ("hubspot", 1140)):
        requests.post(f"{url}/_sandbox/limits", json={"system": system, "per_minute": per_minute},
                      timeout=5).raise_for_status()
    converge(hub, url)
    refused = {s: running.sandbox.limits[s].rejected for s in SYSTEMS}
    running.sandbox.limits.clear()  # the checks below are the test's own calls, outside the hub's budget
    assert refused == {s: 0 for s in SYSTEMS}
    assert_synced_once(url)
