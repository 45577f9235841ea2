"""Evidence reminders: the job stores one inbox event per (dispute, due time); the worker notes and bumps once."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from plugins.disputes.reminders import run_reminders
from tests.unit.plugins.disputes.conftest import dispute

pytestmark = pytest.mark.unit
DUE = "2026-12-19T12:00:00Z"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def test_reminder_fires_once_within_the_window(harness):
    h = harness({"reminder": {"before_hours": 48}})
    h.run("dispute.opened", dispute())
    assert run_reminders(h.hub, now=at("2026-12-16T12:00:00Z")) == 0  # 72 h left: not yet
    assert run_reminders(h.hub, now=at("2026-12-18T12:00:00Z")) == 1
    assert run_reminders(h.hub, now=at("2026-12-18T12:05:00Z")) == 0  # the same reminder is stored once
    h.drain()
    [reminder] = [n for n in h.notes() if n.startswith("Reminder")]
    assert "DSP-1" in reminder and DUE in reminder
    [bump] = [a for a in h.actions("zendesk", "update_ticket") if a["payload"].get("priority")]
    assert bump["payload"] == {"external_id": "dispute-DSP-1", "priority": "high"}
    assert h.state("due:DSP-1") is None and h.state("dispute:DSP-1")["reminded_for"] == DUE
    assert run_reminders(h.hub, now=at("2026-12-19T00:00:00Z")) == 0


def test_a_new_due_date_is_reminded_again(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    run_reminders(h.hub, now=at("2026-12-18T12:00:00Z"))
    h.drain()
    h.run("dispute.updated", dispute(evidence_due_by="2026-12-25T12:00:00Z"), created_at="2026-12-18T13:00:00Z")
    assert h.state("due:DSP-1") == "2026-12-25T12:00:00Z"
    assert run_reminders(h.hub, now=at("2026-12-24T12:00:00Z")) == 1
    h.drain()
    assert len([n for n in h.notes() if n.startswith("Reminder")]) == 2


def test_no_reminder_once_evidence_is_submitted(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    h.run("dispute.updated", dispute("under_review"), created_at="2026-12-18T12:01:00Z")
    assert h.state("due:DSP-1") is None
    assert run_reminders(h.hub, now=at("2026-12-18T12:00:00Z")) == 0
    assert not any(n.startswith("Reminder") for n in h.notes())


def test_a_stale_reminder_event_does_nothing(harness):
    h = harness()
    h.run("dispute.opened", dispute())
    h.run("dispute.reminder_due", {"dispute_id": "DSP-1", "evidence_due_by": "2026-12-01T00:00:00Z"},
          source="disputes")
    assert not any(n.startswith("Reminder") for n in h.notes())
    assert h.state("due:DSP-1") == "2026-12-19T12:00:00Z"  # the current due date is still to remind about


def test_disabled_reminders_store_nothing(harness):
    h = harness({"reminder": {"enabled": False}})
    h.run("dispute.opened", dispute())
    assert h.state("due:DSP-1") is None
    assert run_reminders(h.hub, now=at("2026-12-19T11:00:00Z")) == 0


def test_the_job_is_registered(harness):
    h = harness({"reminder": {"check_seconds": 60}})
    jobs = [job for offered in h.hub.pm.hook.register_jobs(hub=h.hub) for job in offered]
    [job] = [j for j in jobs if j.id == "disputes.reminders"]
    assert job.seconds == 60 and job.func is run_reminders
