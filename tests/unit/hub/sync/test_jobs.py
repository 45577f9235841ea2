"""When the sync runs: the polling job, vendor webhooks asking for an immediate poll, write results completing
links, and the sync routes of the admin API."""

from __future__ import annotations

import threading
import time

import pytest

from hub.pipeline import Event, EventContext
from hub.sync.jobs import Poller, on_webhook_event, poll_job, poller
from hub.sync.push import parse_key

pytestmark = pytest.mark.unit

@pytest.mark.parametrize("key, parts", [
    ("sync:salesforce:ticket:zendesk-12:v3:upsert_case", ("salesforce", "ticket", "zendesk-12", "3:upsert_case")),
    ("sync:zendesk:customer:CUST-0001:v1:upsert_user", ("zendesk", "customer", "CUST-0001", "1:upsert_user")),
    ("sync:hubspot:comment:zendesk-99", ("hubspot", "comment", "zendesk-99", "")),
    ("sync:salesforce:customer:CUST-1:v2:upsert_contact:fix:salesforce@2026-11-28T09:00:00Z",
     ("salesforce", "customer", "CUST-1", "2:upsert_contact:fix:salesforce@2026-11-28T09:00:00Z")),
    ("sync:zendesk:ticket:salesforce-500:delete", ("zendesk", "ticket", "salesforce-500", "")),
    ("categorisation:zendesk:12:cards", None),
])
def test_outbox_keys_name_their_record(key, parts):
    assert parse_key(key) == parts

def wait_for(condition, seconds: float = 10.0) -> bool:
    """Waits for background work to finish (a bound on hanging, not an assertion on time)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()

def test_a_vendor_webhook_triggers_a_poll_of_that_system_after_commit(world, monkeypatch):
    asked = []
    monkeypatch.setattr(Poller, "run", lambda self, system=None, backfill=False: asked.append(system) or {})
    event = Event(id=1, source="zendesk", event_id="zd-1", type="zendesk.ticket.updated", payload={},
                  received_at=world.clock.at)
    with world.hub.db.session() as session:
        on_webhook_event(event, EventContext(world.hub, session, event))
        assert asked == []  # nothing before the event is stored
    assert wait_for(lambda: asked == ["zendesk"])

def test_webhooks_from_other_sources_do_not_poll(world, monkeypatch):
    asked = []
    monkeypatch.setattr(Poller, "run", lambda self, system=None, backfill=False: asked.append(system) or {})
    event = Event(id=1, source="banking", event_id="b-1", type="payment.failed", payload={}, received_at=world.clock.at)
    with world.hub.db.session() as session:
        on_webhook_event(event, EventContext(world.hub, session, event))
    assert getattr(world.hub, "_sync_poller", None) is None and asked == []

def test_requests_during_a_pass_coalesce_into_one_more_pass(world, monkeypatch):
    release, runs = threading.Event(), []

    def slow_pass(self, system=None, backfill=False):
        runs.append(system)
        release.wait(5)
        return {}
    monkeypatch.setattr(Poller, "run", slow_pass)
    hub_poller = poller(world.hub)
    hub_poller.request("zendesk")
    assert wait_for(lambda: runs == ["zendesk"])
    for _ in range(5):
        hub_poller.request("zendesk")
    release.set()
    assert wait_for(lambda: hub_poller._thread is None)
    assert runs == ["zendesk", "zendesk"]

def test_one_pass_per_system_at_a_time(world):
    hub_poller = Poller(world.hub)
    lock = hub_poller._lock("zendesk")
    lock.acquire()
    try:
        assert hub_poller.run("zendesk") is None
    finally:
        lock.release()
    assert hub_poller.run("zendesk")["systems"] == {"zendesk": {"customer": {"pages": 1}, "organisation": {"pages": 1},
                                                                "ticket": {"pages": 1}}}

def test_another_process_holding_a_system_keeps_this_one_off_it(world):
    from datetime import timedelta

    from hub.db import SchedulerLock
    with world.hub.db.session() as session:
        session.add(SchedulerLock(name="sync:zendesk", owner="other-host-1", expires_at=world.clock.at.replace(
            year=2100)))
    report = Poller(world.hub).run()
    assert set(report["systems"]) == {"salesforce"}
    with world.hub.db.session() as session:  # the other process died: its lease runs out
        session.get(SchedulerLock, "sync:zendesk").expires_at = world.clock.at - timedelta(days=1)
    assert set(Poller(world.hub).run()["systems"]) == {"zendesk", "salesforce"}
    with world.hub.db.session() as session:
        assert session.get(SchedulerLock, "sync:zendesk") is None  # released after the pass


def test_the_poll_job_syncs_every_system(world):
    world.cycle()
    world.zendesk.person_creates_ticket("Polled", "body")
    poll_job(world.hub)
    world.drain()
    assert [c["Subject"] for c in world.salesforce.cases()] == ["Polled"]

def test_sync_routes_need_a_token_and_show_status_and_failures(world):
    from hub.api import create_token
    from hub.app import create_app
    app = create_app(hub=world.hub)
    client = app.test_client()
    assert client.get("/api/v1/sync/status").status_code == 401
    token = create_token(world.hub, "reader", ["read"])
    headers = {"Authorization": f"Bearer {token}"}
    world.cycle()
    world.zendesk.person_creates_ticket("Seen", "body")
    world.cycle()
    body = client.get("/api/v1/sync/status", headers=headers).get_json()
    assert body["records"] == {"ticket": 1} and body["linked"]["ticket"] == {"salesforce": 1, "zendesk": 1}
    from hub.sync.engine import Engine
    with world.hub.db.session() as session:
        Engine.record_failure(session, "zendesk", "ticket", "42", "PermanentError: no such group 'Tier 9'")
    failures = client.get("/api/v1/sync/failures", headers=headers).get_json()["failures"]
    assert [(f["id"], f["reason"]) for f in failures] == [("42", "PermanentError: no such group 'Tier 9'")]
