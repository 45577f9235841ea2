"""Disputes and incidents kept in plugin state: latest event wins, history bounded, redelivery ignored."""

from __future__ import annotations

import pytest

from tests.support.plugin_harness import Harness

pytestmark = pytest.mark.unit
DISPUTE = {"dispute_id": "DSP-1", "customer_id": "CUST-0001", "transaction_id": "TXN-1", "amount": "9.00",
           "currency": "EUR"}


def test_latest_dispute_event_wins_even_when_it_arrives_first(make_hub):
    h = Harness(make_hub, {"banking_events": {}})
    h.run("dispute.closed", {**DISPUTE, "status": "won", "outcome": "won"}, created_at="2026-11-28T12:00:00Z")
    h.run("dispute.opened", {**DISPUTE, "status": "needs_response"}, created_at="2026-11-20T12:00:00Z")
    record = h.state("banking_events", "dispute:DSP-1")
    assert record["status"] == "won" and record["type"] == "dispute.closed"
    assert [e["type"] for e in record["events"]] == ["dispute.closed", "dispute.opened"]


def test_same_event_twice_is_stored_once(make_hub):
    h = Harness(make_hub, {"banking_events": {}})
    h.run("incident.opened", {"incident_id": "INC-1", "title": "Outage", "severity": "major"}, event_id="e1")
    h.run("incident.opened", {"incident_id": "INC-1", "title": "Outage", "severity": "major"}, event_id="e1",
          source="stripe")
    h.run("incident.resolved", {"incident_id": "INC-1", "title": "Outage", "severity": "major"},
          created_at="2026-11-28T13:00:00Z")
    record = h.state("banking_events", "incident:INC-1")
    assert record["status"] == "resolved" and len(record["events"]) == 2


def test_records_can_be_turned_off(make_hub):
    h = Harness(make_hub, {"banking_events": {"keep_records": False}})
    h.run("dispute.opened", {**DISPUTE, "status": "needs_response"})
    assert h.state("banking_events", "dispute:DSP-1") is None
