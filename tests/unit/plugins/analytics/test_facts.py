"""The analytics plugin through the real pipeline: first response, resolution, SLA outcome, CSAT, links,
banking events, figures that survive a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.console import analytics
from hub.console.models import AnalyticsEvent
from hub.runtime import Hub
from plugins.analytics.facts import category_of, csat_of

from .conftest import T0, iso

pytestmark = pytest.mark.unit


def _created(driver, ticket_id=1, category="cards", at=T0, **extra):
    driver.send("ticket.created", {"system": "zendesk", "id": ticket_id, "status": "new", "priority": "normal",
                                   "subject": "Card stolen", "tags": [category] if category else [],
                                   "created_at": iso(at), "updated_at": iso(at), **extra})


def test_first_response_is_the_first_public_agent_comment(driver):
    _created(driver)
    driver.send("comment.created", {"system": "zendesk", "ticket_id": 1, "public": True, "author_role": "end-user",
                                    "created_at": iso(T0 + timedelta(minutes=5))})
    driver.send("comment.created", {"system": "zendesk", "ticket_id": 1, "public": False, "author_role": "agent",
                                    "created_at": iso(T0 + timedelta(minutes=10))})
    assert driver.ticket("zendesk:1").first_response_at is None
    driver.send("comment.created", {"system": "zendesk", "ticket_id": 1, "public": True, "author_role": "agent",
                                    "created_at": iso(T0 + timedelta(minutes=42))})
    driver.send("comment.created", {"system": "zendesk", "ticket_id": 1, "public": True, "author_role": "agent",
                                    "created_at": iso(T0 + timedelta(minutes=90))})
    row = driver.ticket("zendesk:1")
    assert row.frt_seconds == 42 * 60
    assert row.category == "cards"


def test_resolution_is_measured_at_solve_and_again_after_a_reopen(driver):
    _created(driver)
    driver.send("ticket.updated", {"system": "zendesk", "id": 1, "status": "solved",
                                   "updated_at": iso(T0 + timedelta(hours=2))})
    row = driver.ticket("zendesk:1")
    assert (row.resolution_seconds, row.sla_state) == (7200, "met")
    driver.send("ticket.updated", {"system": "zendesk", "id": 1, "status": "open",
                                   "updated_at": iso(T0 + timedelta(hours=3))})
    row = driver.ticket("zendesk:1")
    assert (row.resolution_seconds, row.sla_state, row.status) == (None, "running", "open")
    driver.send("ticket.updated", {"system": "zendesk", "id": 1, "status": "closed",
                                   "updated_at": iso(T0 + timedelta(hours=5))})
    assert driver.ticket("zendesk:1").resolution_seconds == 5 * 3600


def test_an_older_change_seen_late_does_not_undo_a_newer_one(driver):
    _created(driver)
    driver.send("ticket.updated", {"system": "zendesk", "id": 1, "status": "solved",
                                   "updated_at": iso(T0 + timedelta(hours=2))})
    driver.send("ticket.updated", {"system": "zendesk", "id": 1, "status": "open",
                                   "updated_at": iso(T0 + timedelta(hours=1))})
    assert driver.ticket("zendesk:1").status == "solved"


def test_sla_breach_is_final_and_warning_marks_at_risk(driver):
    _created(driver, 1)
    _created(driver, 2)
    driver.send("sla.warning", {"kind": "warning", "target": "first_response", "ticket_key": "zendesk:1",
                                "records": {"zendesk": "1"}}, source="sla")
    assert driver.ticket("zendesk:1").sla_state == "at_risk"
    driver.send("sla.breached", {"kind": "breach", "target": "first_response", "ticket_key": "zendesk:2",
                                 "records": {"zendesk": "2"}}, source="sla")
    driver.send("ticket.updated", {"system": "zendesk", "id": 2, "status": "solved",
                                   "updated_at": iso(T0 + timedelta(hours=1))})
    driver.send("ticket.updated", {"system": "zendesk", "id": 1, "status": "solved",
                                   "updated_at": iso(T0 + timedelta(hours=1))})
    assert driver.ticket("zendesk:2").sla_state == "breached"
    assert driver.ticket("zendesk:1").sla_state == "met"


def test_satisfaction_from_rating_events_and_ticket_fields(driver):
    _created(driver, 1)
    _created(driver, 2)
    driver.send("satisfaction.rated", {"system": "zendesk", "ticket_id": 1, "score": "bad"})
    driver.send("ticket.updated", {"system": "zendesk", "id": 2, "status": "solved",
                                   "updated_at": iso(T0 + timedelta(hours=1)), "satisfaction_rating": {"score": "good"}})
    assert driver.ticket("zendesk:1").csat == "bad"
    assert driver.ticket("zendesk:2").csat == "good"
    assert [csat_of(v) for v in (5, "4", 2, "offered", None, True)] == ["good", "good", "bad", None, None, None]


def test_linked_records_are_one_ticket(driver):
    _created(driver, 7, links={"salesforce": "500A"}, external_id="db-7")
    driver.send("comment.created", {"system": "salesforce", "ticket_id": "500A", "public": True,
                                    "author_role": "agent", "created_at": iso(T0 + timedelta(minutes=3))})
    driver.send("ticket.updated", {"system": "hubspot", "id": "h-9", "external_id": "db-7", "status": "solved",
                                   "updated_at": iso(T0 + timedelta(minutes=30))})
    row = driver.ticket("zendesk:7")
    assert (row.frt_seconds, row.status) == (180, "solved")
    assert driver.ticket("salesforce:500A") is None and driver.ticket("hubspot:h-9") is None


def test_category_sources_in_order():
    assert category_of({"tags": ["fees"]}, {"category": {"category": "cards"}}) == "cards"
    assert category_of({"fields": {"Category": "disputes"}, "tags": ["fees"]}, {}) == "disputes"
    assert category_of({"tags": ["vip", "fees"]}, {}) == "fees"
    assert category_of({"tags": ["vip"]}, {"category": "not-a-category"}) is None


def test_banking_events_count_fraud_alerts_today_and_join_the_customer(driver, analytics_hub, now):
    _created(driver, 1, customer_id="CUST-0001")
    for index, created in enumerate((T0 - timedelta(days=1), T0 - timedelta(hours=1), T0)):
        driver.send("fraud.alert.created", {"id": f"fa{index}", "type": "fraud.alert.created",
                                            "created_at": iso(created),
                                            "data": {"alert_id": f"A{index}", "customer_id": "CUST-0001",
                                                     "risk_score": 0.9, "reason": "velocity"}},
                    source="banking", envelope=False)
    with analytics_hub.db.session() as db:
        assert analytics.fraud_alerts_today(db, T0) == 2
        kinds = db.query(AnalyticsEvent.customer_id).filter(AnalyticsEvent.source == "banking").all()
    assert kinds == [("CUST-0001",)] * 3


def test_card_numbers_never_reach_the_store(driver):
    _created(driver, 1, subject="My card 4111 1111 1111 1111 was charged twice")
    assert "4111" not in driver.ticket("zendesk:1").subject


def test_figures_survive_a_restart(driver, analytics_hub, make_settings, now):
    _created(driver, 1, category="payments")
    driver.send("comment.created", {"system": "zendesk", "ticket_id": 1, "public": True, "author_role": "agent",
                                    "created_at": iso(T0 + timedelta(minutes=20))})
    analytics_hub.stop()
    again = Hub(analytics_hub.settings)
    try:
        with again.db.session() as db:
            figures = analytics.ticket_figures(db, 7, T0).as_dict()
    finally:
        again.stop()
    assert figures["by_category"]["payments"]["volume"] == 1
    assert figures["by_category"]["payments"]["first_response_minutes"] == 20.0


def test_a_ticket_the_hub_created_is_counted_from_its_action(driver, analytics_hub, now):
    """A fraud alert → the fraud plugin's ``upsert_ticket`` → counted, with the alert's customer and timeline."""
    from sqlalchemy import select

    from hub.db import InboxEvent
    from hub.pipeline import Action, EventContext
    from plugins.analytics.facts import record_created_by_hub
    driver.send("fraud.alert.created", {"alert_id": "A1", "customer_id": "CUST-0009", "risk_score": 0.95,
                                        "reason": "card testing"}, source="banking")
    with analytics_hub.db.session() as db:
        inbox_id = db.execute(select(InboxEvent.id)).scalar_one()
    action = Action(id=1, key="fraud-ticket:case-1", system="zendesk", operation="upsert_ticket", attempts=1,
                    inbox_id=inbox_id, payload={"external_id": "case-1", "ticket": {
                        "subject": "Fraud alert A1", "tags": ["compliance_fraud"], "priority": "urgent"}})
    with analytics_hub.db.session() as db:
        record_created_by_hub(action, {"id": "55", "created": True}, EventContext(analytics_hub, db))
    driver.send("ticket.updated", {"system": "zendesk", "id": 55, "external_id": "case-1", "status": "solved",
                                   "updated_at": iso(T0 + timedelta(hours=1))})
    with analytics_hub.db.session() as db:  # a later upsert of the same case changes no status
        record_created_by_hub(action, {"id": "55", "created": False}, EventContext(analytics_hub, db))
    row = driver.ticket("zendesk:55")
    assert (row.customer_id, row.category, row.status, row.resolution_seconds) == (
        "CUST-0009", "compliance_fraud", "solved", 3600)
    with analytics_hub.db.session() as db:
        figures = analytics.ticket_figures(db, 1, T0).as_dict()
        on_timeline = db.execute(select(AnalyticsEvent.type).where(AnalyticsEvent.ticket_key == "zendesk:55")
                                 .order_by(AnalyticsEvent.id)).scalars().all()
    assert figures["by_category"]["compliance_fraud"]["volume"] == 1
    assert on_timeline == ["fraud.alert.created", "ticket.updated"]


def test_running_sums_equal_a_rebuild_after_a_random_history(driver, analytics_hub):
    """Every change moves a ticket's contribution between cells; the sums must equal a recount from scratch."""
    import random

    from sqlalchemy import select

    from hub.console import rollup
    from hub.console.models import AnalyticsDaily
    rng = random.Random(3)
    for step in range(120):
        number = rng.randint(1, 15)
        at = T0 + timedelta(minutes=step * 7)
        kind = rng.random()
        if kind < 0.35:
            category = rng.choice(["cards", "fees", "payments", None])
            driver.send("ticket.updated" if step else "ticket.created",
                        {"system": "zendesk", "id": number, "status": rng.choice(["open", "solved", "pending"]),
                         "tags": [category] if category else [], "created_at": iso(T0 - timedelta(days=number % 4)),
                         "updated_at": iso(at)})
        elif kind < 0.55:
            driver.send("comment.created", {"system": "zendesk", "ticket_id": number, "public": True,
                                            "author_role": "agent", "created_at": iso(at)})
        elif kind < 0.7:
            driver.send("satisfaction.rated", {"system": "zendesk", "ticket_id": number,
                                               "score": rng.choice(["good", "bad"])})
        elif kind < 0.85:
            driver.send(rng.choice(["sla.warning", "sla.breached"]), {"ticket_key": f"zendesk:{number}",
                                                                       "records": {"zendesk": str(number)}}, source="sla")
        else:
            driver.send("ticket.deleted", {"system": "zendesk", "id": number})

    def cells():
        with analytics_hub.db.session() as db:
            rows = db.execute(select(AnalyticsDaily).order_by(AnalyticsDaily.day, AnalyticsDaily.category)).scalars()
            return {(r.day, r.category): tuple(getattr(r, n) for n in rollup.SUMS) for r in rows
                    if any(getattr(r, n) for n in rollup.SUMS)}
    kept = cells()
    with analytics_hub.db.session() as db:
        rollup.rebuild(db)
    assert kept == cells() and sum(v[0] for v in kept.values()) > 0


def test_events_in_are_counted_per_system_for_sync_health(driver, analytics_hub):
    from hub.console.analytics import sync_health
    _created(driver, 1)
    driver.send("payment.failed", {"payment_id": "P1", "customer_id": "C1", "amount": 5, "currency": "EUR",
                                   "failure_code": "expired_card"}, source="banking")
    with analytics_hub.db.session() as db:
        from hub.console.analytics import _flows
        last_in, _ = _flows(db)
        health = sync_health(analytics_hub, db, T0)
    assert set(last_in) == {"zendesk", "banking"}  # a polled change counts for the system it came from
    assert health == []  # no connector enabled and nothing sent: no rows invented
