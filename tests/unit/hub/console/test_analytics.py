"""Dashboard figures from the core tables: sync health per connector, open escalations, folded ticket figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.audit import append
from hub.console import analytics
from hub.db import DeadLetter, OutboxAction
from hub.http import RateBudget, SystemGuard

from .conftest import T0

pytestmark = pytest.mark.unit


class GuardedConnector:
    name = "zendesk"

    def __init__(self):
        self.guard = SystemGuard("zendesk", per_minute=600, burst=10)
        self.guard.budget = RateBudget(10, 10, clock=lambda: 1000.0)  # frozen: no refill while the test runs

    def execute(self, operation, payload, idempotency_key):
        return {}

    def check(self):
        return {"ok": True, "detail": ""}


def _action(db, key, status, created, done=None, error=None, system="zendesk"):
    db.add(OutboxAction(key=key, system=system, operation="update_ticket", payload="{}", order_key=key,
                        status=status, attempts=1, created_at=created, available_at=created, done_at=done,
                        last_error=error))


@pytest.mark.parametrize("counted", [True, False], ids=["counted-by-analytics", "scanned-from-tables"])
def test_sync_health_reports_lag_last_success_error_rate_and_budget(make_hub, now, counted):
    import plugins.analytics
    from hub.pipeline import Action, EventContext
    hub = make_hub({"plugins": {"analytics": {}}} if counted else None)
    connector = GuardedConnector()
    hub.connectors["zendesk"] = connector
    for _ in range(4):
        connector.guard.budget.acquire()
    connector.guard.record(200)
    connector.guard.record(429)
    done = {"a1": T0 - timedelta(minutes=49), "a2": T0 - timedelta(minutes=29), "a3": T0 - timedelta(hours=3)}
    with hub.db.session() as db:
        for key, at in done.items():
            _action(db, key, "done", at - timedelta(minutes=1), done=at)
        _action(db, "a4", "pending", T0 - timedelta(minutes=10), error="zendesk answered 503")
        _action(db, "a5", "pending", T0 - timedelta(minutes=2))
        _action(db, "h1", "pending", T0 - timedelta(minutes=1), system="hubspot")
        db.add(DeadLetter(kind="outbox", ref_id=99, system="zendesk", operation="update_ticket", reason="422",
                          attempts=4, created_at=T0 - timedelta(minutes=5)))
    if counted:  # what the outbox workers do after each success: the plugin's on_action_done
        for number, (key, at) in enumerate(sorted(done.items(), key=lambda item: item[1])):
            now[0] = at
            with hub.db.session() as db:
                plugins.analytics.on_action_done(
                    action=Action(id=number, key=key, system="zendesk", operation="update_ticket", payload={},
                                  attempts=1), result={}, ctx=EventContext(hub, db))
        now[0] = T0
    with hub.db.session() as db:
        health = {h["system"]: h for h in analytics.sync_health(hub, db, T0)}
    zendesk = health["zendesk"]
    assert (zendesk["pending"], zendesk["lag_seconds"]) == (2, 600)
    assert zendesk["last_success"] == "2026-03-10T08:31:00Z"
    assert (zendesk["errors_last_hour"], zendesk["error_rate_pct"]) == (2, 50.0)  # 2 errors vs 2 successes
    assert zendesk["budget_use_pct"] == 40.0 and zendesk["per_minute"] == 600
    assert zendesk["by_status"] == {"200": 1, "429": 1} and zendesk["breaker"] == "closed"
    assert health["hubspot"]["enabled"] is False and health["hubspot"]["lag_seconds"] == 60


def test_open_escalations_skip_solved_tickets(console_hub):
    from hub.console.models import AnalyticsTicket
    with console_hub.db.session() as db:
        for key, status in (("zendesk:1", "open"), ("zendesk:2", "solved")):
            db.add(AnalyticsTicket(key=key, system="zendesk", record_id=key[-1], subject="", status=status,
                                   created_at=T0, created_day="2026-03-10", updated_at=T0, sla_state="running",
                                   links="{}"))
        for key in ("zendesk:1", "zendesk:2", "salesforce:9", "zendesk:1"):
            append(console_hub, db, actor="escalation", action="escalation.fired", target=key, outcome="ok")
    with console_hub.db.session() as db:
        found = analytics.open_escalations(db)
    assert found["count"] == 2 and {e["ticket"] for e in found["latest"]} == {"zendesk:1", "salesforce:9"}


def test_buckets_fold_into_figures():
    bucket = analytics.Bucket(volume=4, responded=2, frt_sum=1800, resolved=1, resolution_sum=7200, sla_met=3,
                              sla_breached=1, csat_good=1, csat_bad=3)
    figures = bucket.figures()
    assert (figures["first_response_minutes"], figures["resolution_hours"]) == (15.0, 2.0)
    assert (figures["sla_attainment_pct"], figures["csat_pct"]) == (75.0, 25.0)
    assert analytics.Bucket().figures()["csat_pct"] is None
    assert analytics.day_range(3, T0) == ["2026-03-08", "2026-03-09", "2026-03-10"]
