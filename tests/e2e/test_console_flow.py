"""Console end to end: signed fraud alerts from the bank emulator → fraud plugin → ticket upserted in the Zendesk
emulator → analytics → the console's dashboard and timeline, read over HTTP by a signed-in admin."""

from __future__ import annotations

import re

import pytest
import requests

from tests.support.banking_stack import start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "e2e-console-password"


@pytest.fixture
def stack(make_hub):
    from hub.console.users import ensure_user
    built, running = start_stack(make_hub, {
        "customer_context": {}, "analytics": {},
        "fraud_alerts": lambda receiver: {"notify": {"webhook_url": receiver.url}, "ticket": {"group": "Fraud"},
                                          "auto_freeze": {"enabled": False}}})
    ensure_user(built.hub, "admin", PASSWORD)
    yield built
    stop_stack(built, running)


def _signed_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/admin/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = session.post(f"{base}/admin/login", data={"username": "admin", "password": PASSWORD,
                                                       "csrf_token": token}, timeout=10, allow_redirects=False)
    assert answer.status_code == 302
    return session


def test_fraud_alerts_reach_the_dashboard_and_the_ticket_timeline(stack):
    for alert_id, customer in (("AL-900", "CUST-0001"), ("AL-901", "CUST-0001"), ("AL-902", "CUST-0002")):
        stack.emit("fraud.alert.created", {"alert_id": alert_id, "customer_id": customer, "risk_score": 0.7,
                                           "reason": "card testing pattern"})
    stack.settle()
    cases = [t for t in stack.tickets() if (t.get("external_id") or "").startswith("fraud-")]
    assert len(cases) == 2
    console = _signed_in(stack.hub_url)
    data = console.get(f"{stack.hub_url}/admin/dashboard.json?days=7", timeout=10).json()
    assert data["fraud_alerts_today"] == 3
    assert data["tickets"]["by_category"]["compliance_fraud"]["volume"] == 2
    assert data["open_tickets"] == 2
    first = next(t for t in cases if t["external_id"].startswith("fraud-CUST-0001"))
    timeline = console.get(f"{stack.hub_url}/admin/tickets/zendesk:{first['id']}", timeout=10)
    assert timeline.status_code == 200
    assert "fraud.alert.created" in timeline.text and "upsert_ticket" in timeline.text
    assert "CUST-0001" in timeline.text
    listed = console.get(f"{stack.hub_url}/admin/tickets?category=compliance_fraud", timeout=10).text
    assert f"/admin/tickets/zendesk:{first['id']}" in listed
