"""Console pages, the live panel, dead-letter replay, audit verification, the metrics API and ``/metrics``."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hub.api import create_token
from hub.console.models import AnalyticsTicket
from hub.db import AuditEntry, DeadLetter, OutboxAction
from hub.inbox import store_event
from hub.pipeline import process_next_event

from .conftest import T0, form_token

pytestmark = pytest.mark.unit
PAGES = ("/admin/", "/admin/dashboard/panel", "/admin/tickets", "/admin/tickets/zendesk:1", "/admin/plugins",
         "/admin/dead-letters", "/admin/audit")


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def _feed(hub, events):
    with hub.db.session() as db:
        for index, (source, type_, data) in enumerate(events):
            store_event(db, source, f"v{index}", type_, {"data": data})
    while process_next_event(hub, "test"):
        pass


def _seed(hub):
    """Three tickets: cards (answered in 30 min, solved in 2 h, rated good), payments (breached), fees (open)."""
    t = _iso(T0 - timedelta(hours=3))
    _feed(hub, [
        ("sync", "ticket.created", {"system": "zendesk", "id": 1, "status": "new", "tags": ["cards"], "subject": "Card",
                                    "created_at": t, "updated_at": t, "customer_id": "CUST-1",
                                    "links": {"salesforce": "500X"}}),
        ("sync", "comment.created", {"system": "zendesk", "ticket_id": 1, "public": True, "author_role": "agent",
                                     "created_at": _iso(T0 - timedelta(hours=2, minutes=30))}),
        ("sync", "ticket.updated", {"system": "zendesk", "id": 1, "status": "solved", "tags": ["cards"],
                                    "updated_at": _iso(T0 - timedelta(hours=1)),
                                    "satisfaction_rating": {"score": "good"}}),
        ("sync", "ticket.created", {"system": "salesforce", "id": "500B", "status": "new", "tags": ["payments"],
                                    "subject": "Payment missing", "created_at": t, "updated_at": t}),
        ("sla", "sla.breached", {"target": "first_response", "ticket_key": "salesforce:500B",
                                 "records": {"salesforce": "500B"}}),
        ("sync", "ticket.created", {"system": "hubspot", "id": "h1", "status": "open", "tags": ["fees"],
                                    "subject": "Fee question", "created_at": t, "updated_at": t}),
    ])


def test_every_page_renders_for_a_signed_in_user(signed_in, console_hub):
    _seed(console_hub)
    for path in PAGES:
        response = signed_in.get(path)
        assert response.status_code == 200, path
        assert "text/html" in response.content_type


def test_dashboard_numbers_come_from_the_store(signed_in, console_hub):
    _seed(console_hub)
    data = signed_in.get("/admin/dashboard.json?days=7").json
    total = data["tickets"]["total"]
    assert (total["volume"], total["first_response_minutes"], total["resolution_hours"]) == (3, 30.0, 2.0)
    assert (total["sla_attainment_pct"], total["csat_pct"]) == (50.0, 100.0)
    assert data["tickets"]["by_category"]["payments"]["sla_breached"] == 1
    assert data["open_tickets"] == 2
    assert data["tickets"]["over_time"][-1] == {**data["tickets"]["over_time"][-1], "day": "2026-03-10", "volume": 3}
    page = signed_in.get("/admin/?days=7").get_data(as_text=True)
    assert 'data-kpi="volume">3<' in page and 'data-kpi="sla_attainment_pct">50.0%<' in page
    assert page.count("<svg") == 10


def test_tickets_filter_by_category_sla_system_and_search(signed_in, console_hub):
    _seed(console_hub)

    def keys(query):
        text = signed_in.get(f"/admin/tickets?{query}").get_data(as_text=True)
        return {k for k in ("zendesk:1", "salesforce:500B", "hubspot:h1") if f"/admin/tickets/{k}\"" in text}
    assert keys("") == {"zendesk:1", "salesforce:500B", "hubspot:h1"}
    assert keys("category=fees") == {"hubspot:h1"}
    assert keys("sla=breached") == {"salesforce:500B"}
    assert keys("sla=met") == {"zendesk:1"}
    assert keys("system=salesforce") == {"zendesk:1", "salesforce:500B"}  # zendesk:1 is linked to a case
    assert keys("q=payment") == {"salesforce:500B"}


def test_timeline_joins_records_actions_and_banking_events(signed_in, console_hub):
    _seed(console_hub)
    _feed(console_hub, [("banking", "payment.failed", {"payment_id": "P1", "customer_id": "CUST-1", "amount": 10,
                                                       "currency": "EUR", "failure_code": "insufficient_funds"})])
    with console_hub.db.session() as db:
        db.add(OutboxAction(key="note-1", system="zendesk", operation="add_internal_note",
                            payload=json.dumps({"ticket_id": "1", "body": "secret body"}), order_key="zendesk:ticket:1",
                            status="done", attempts=1, created_at=T0, available_at=T0, done_at=T0))
    text = signed_in.get("/admin/tickets/salesforce:500X").get_data(as_text=True)  # an alias finds the ticket
    assert "comment.created" in text and "payment.failed insufficient_funds" in text
    assert "add_internal_note" in text and "secret body" not in text
    assert signed_in.get("/admin/tickets/zendesk:999").status_code == 404


def _dead_letter(hub):
    with hub.db.session() as db:
        action = OutboxAction(key="dead-1", system="zendesk", operation="update_ticket", payload="{}",
                              order_key="zendesk:ticket:9", status="dead", attempts=4, created_at=T0, available_at=T0)
        db.add(action)
        db.flush()
        db.add(DeadLetter(kind="outbox", ref_id=action.id, system="zendesk", operation="update_ticket",
                          reason="zendesk answered 422: status invalid", attempts=4, created_at=T0))


def test_dead_letter_replay_from_the_console(signed_in, console_hub):
    _dead_letter(console_hub)
    page = signed_in.get("/admin/dead-letters")
    assert "zendesk answered 422: status invalid" in page.get_data(as_text=True)
    response = signed_in.post("/admin/dead-letters/replay", data={"id": "1", "csrf_token": form_token(page)})
    assert response.status_code == 302 and "replayed=1" in response.location
    with console_hub.db.session() as db:
        assert db.execute(select(OutboxAction.status)).scalar_one() == "pending"
        entry = db.execute(select(AuditEntry).where(AuditEntry.action == "dlq.replay")).scalar_one()
    assert (entry.actor, entry.target, json.loads(entry.detail)["count"]) == ("admin", "1", 1)
    for wrong in ("x", "-3", str(2**70)):
        bad = signed_in.post("/admin/dead-letters/replay",
                             data={"id": wrong, "csrf_token": form_token(signed_in.get("/admin/dead-letters"))})
        assert bad.status_code == 400, wrong


def test_audit_page_shows_a_broken_chain(signed_in, console_hub):
    assert "Chain verified" in signed_in.get("/admin/audit").get_data(as_text=True)
    for odd in ("x", "-1", str(2**70)):
        assert signed_in.get(f"/admin/audit?before={odd}").status_code == 200
    with console_hub.db.session() as db:
        db.execute(update(AuditEntry).where(AuditEntry.id == 1).values(target="someone else"))
    text = signed_in.get("/admin/audit").get_data(as_text=True)
    assert "Chain broken at entry 1" in text


def test_plugins_page_lists_plugins_with_status(signed_in):
    text = signed_in.get("/admin/plugins").get_data(as_text=True)
    assert "analytics" in text and "enabled" in text and "blocked" in text


def test_metrics_api_needs_a_token_and_returns_figures(console_app, console_hub):
    _seed(console_hub)
    client = console_app.test_client()
    assert client.get("/api/v1/metrics/summary").status_code == 401
    token = create_token(console_hub, "ops", ["read"])
    headers = {"Authorization": f"Bearer {token}"}
    summary = client.get("/api/v1/metrics/summary?days=7", headers=headers).json
    assert summary["tickets"]["total"]["volume"] == 3
    assert client.get("/api/v1/metrics/categories?days=7", headers=headers).json["by_category"]["fees"]["volume"] == 1
    series = client.get("/api/v1/metrics/timeseries?days=3", headers=headers).json["over_time"]
    assert [row["volume"] for row in series] == [0, 0, 3]
    assert client.get("/api/v1/metrics/sync", headers=headers).json == {"connectors": []}
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/metrics/summary" in paths


def test_prometheus_exposes_the_figures(console_app, console_hub):
    _seed(console_hub)
    text = console_app.test_client().get("/metrics").get_data(as_text=True)
    assert 'deskbridge_tickets_created{category="cards"} 1.0' in text
    assert 'deskbridge_first_response_minutes_mean{category="cards"} 30.0' in text
    assert 'deskbridge_sla_attainment_percent{category="payments"} 0.0' in text


def test_deleted_tickets_leave_the_figures(signed_in, console_hub):
    _seed(console_hub)
    with console_hub.db.session() as db:
        store_event(db, "sync", "gone", "ticket.deleted", {"data": {"system": "hubspot", "id": "h1"}})
    while process_next_event(console_hub, "test"):
        pass
    data = signed_in.get("/admin/dashboard.json?days=7").json
    assert data["tickets"]["total"]["volume"] == 2 and data["tickets"]["by_category"]["fees"]["volume"] == 0
    with console_hub.db.session() as db:
        assert db.get(AnalyticsTicket, "hubspot:h1").status == "deleted"
