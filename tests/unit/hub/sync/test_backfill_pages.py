"""A page is stored in one go; a record that fails sends the page back record by record, nothing doubled."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.db import InboxEvent, OutboxAction
from hub.sync import failures
from hub.sync.models import SyncLink, SyncRecord


def started(world):
    world.cycle()  # first pass: cursors at now


def count(world, model, *where) -> int:
    with world.hub.db.session() as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_a_failing_record_mid_page_leaves_every_other_record_stored_once(world, monkeypatch):
    started(world)
    for n in range(6):
        world.zendesk.person_creates_ticket(f"T{n}", "body")
    original = world.engine.apply_record
    calls = []

    def refuse_t3(session, system, object, native, comments=None):
        calls.append(native.get("subject"))
        if native.get("subject") == "T3":
            raise ValueError("no canonical value")
        return original(session, system, object, native, comments)
    monkeypatch.setattr(world.engine, "apply_record", refuse_t3)
    report = world.cycle()
    assert report["systems"]["zendesk"]["ticket"] == {"created": 5, "failed": 1, "pages": 1}
    assert calls[:4] == ["T0", "T1", "T2", "T3"] and calls[4:] == [f"T{n}" for n in range(6)]  # then one by one
    assert [f["reason"] for f in failures(world.hub)] == ["ValueError: no canonical value"]
    assert count(world, SyncRecord, SyncRecord.object == "ticket") == 5
    assert count(world, InboxEvent, InboxEvent.type == "ticket.created") == 5
    assert count(world, OutboxAction, OutboxAction.system == "salesforce") == 5
    assert sorted(c["Subject"] for c in world.salesforce.cases()) == ["T0", "T1", "T2", "T4", "T5"]


def test_a_page_without_failures_is_stored_in_one_go(world, monkeypatch):
    started(world)
    for n in range(4):
        world.zendesk.person_creates_ticket(f"T{n}", "body")
    savepoints = []
    from sqlalchemy.orm import Session
    original = Session.begin_nested
    monkeypatch.setattr(Session, "begin_nested", lambda self: savepoints.append(1) or original(self))
    report = world.sync()
    assert report["systems"]["zendesk"]["ticket"]["created"] == 4 and savepoints == []
    assert count(world, SyncLink, SyncLink.object == "ticket", SyncLink.system == "zendesk") == 4
    assert count(world, InboxEvent, InboxEvent.type == "ticket.created") == 4
