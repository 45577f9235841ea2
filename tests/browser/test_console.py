"""The console in headless Chromium (Debian's, no download): sign in, every page at 390 px and 1280 px with no
horizontal scrolling, no console errors and no serious/critical axe-core violations; the dashboard's numbers equal
the database's for a seeded data set and update live. Screenshots go to ``test-artifacts/screenshots/``."""

from __future__ import annotations

import random
import re
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
WIDTHS = (390, 1280)
PASSWORD = "browser-test-password"
CATEGORIES = ("payments", "cards", "disputes", "fees", "kyc_verification", "account_management", "account_access",
              "compliance_fraud")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _seed(hub) -> None:
    """Sixty tickets over ten days through the real pipeline, with replies, solves, ratings, SLA events, banking
    events, a dead letter and escalations."""
    from hub.audit import append
    from hub.db import DeadLetter, OutboxAction
    from hub.inbox import store_event
    from hub.pipeline import process_next_event
    rng = random.Random(8)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    events = []
    for number in range(1, 61):
        system = ("zendesk", "salesforce", "hubspot")[number % 3]
        created = now - timedelta(days=rng.randint(0, 9), minutes=rng.randint(30, 600))
        category = rng.choice(CATEGORIES + (None,))
        ticket = {"system": system, "id": str(number), "status": "open", "priority": rng.choice(("low", "normal",
                  "high", "urgent")), "subject": f"Customer question {number} about {category or 'something'}",
                  "tags": [category] if category else [], "customer_id": f"CUST-{number % 7:04d}",
                  "created_at": _iso(created), "updated_at": _iso(created)}
        events.append(("sync", "ticket.created", ticket))
        if rng.random() < 0.8:
            events.append(("sync", "comment.created", {"system": system, "ticket_id": str(number), "public": True,
                                                       "author_role": "agent",
                                                       "created_at": _iso(created + timedelta(minutes=rng.randint(1, 240)))}))
        if rng.random() < 0.25:
            events.append(("sla", "sla.breached", {"target": "first_response", "ticket_key": f"{system}:{number}",
                                                   "records": {system: str(number)}}))
        if rng.random() < 0.6:
            solved = dict(ticket, status="solved", updated_at=_iso(created + timedelta(minutes=rng.randint(250, 2000))))
            if rng.random() < 0.7:
                solved["satisfaction_rating"] = {"score": rng.choice(("good", "good", "good", "bad"))}
            events.append(("sync", "ticket.updated", solved))
    for index in range(3):
        events.append(("banking", "fraud.alert.created", {"alert_id": f"FA-{index}", "customer_id": "CUST-0001",
                                                          "risk_score": 0.91, "reason": "card testing pattern"}))
    with hub.db.session() as db:
        for index, (source, type_, data) in enumerate(events):
            store_event(db, source, f"seed-{index}", type_, {"data": data})
    while process_next_event(hub, "seed"):
        pass
    with hub.db.session() as db:
        action = OutboxAction(key="seed-dead", system="zendesk", operation="update_ticket", payload="{}",
                              order_key="zendesk:ticket:3", status="dead", attempts=4, created_at=now,
                              available_at=now)
        db.add(action)
        db.flush()
        db.add(DeadLetter(kind="outbox", ref_id=action.id, system="zendesk", operation="update_ticket",
                          reason="zendesk answered 422: Status: closed prevents ticket update", attempts=4,
                          created_at=now))
        for key in ("zendesk:3", "salesforce:4"):
            append(hub, db, actor="escalation", action="escalation.fired", target=key, outcome="ok",
                   source="escalation", detail={"rule": "security-sla", "level": 1})


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    from flask import Blueprint, render_template_string
    from werkzeug.serving import make_server

    from hub.app import create_app
    from hub.console.users import ensure_user
    from hub.runtime import Hub
    from hub.settings import load_settings
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (.ci/run does)")
    data_dir = tmp_path_factory.mktemp("console")
    settings = load_settings(Path(__file__).resolve().parents[2] / "config" / "test",
                             env={"DESKBRIDGE_DATA_DIR": str(data_dir),
                                  "DESKBRIDGE_BANKING_WEBHOOK_SECRET": "whsec_" + "QUJD" * 11},
                             overrides={"plugins": {"analytics": {}}})
    hub = Hub(settings)
    ensure_user(hub, "admin", PASSWORD)
    _seed(hub)
    app = create_app(hub=hub)
    sample = Blueprint("sample_customer", __name__)

    @sample.get("/s/example")
    def example():  # a customer page on the shared layout, as /s/upload and /s/verify will be
        return render_template_string(
            '{% extends "customer_base.html" %}{% block title %}Upload your document{% endblock %}'
            '{% block lead %}Send a photo of your ID. It is encrypted before it is stored.{% endblock %}'
            '{% block content %}<ol class="steps"><li aria-current="step">Upload</li><li>Check</li><li>Done</li></ol>'
            '<form class="card"><div class="field"><label for="doc">Document</label>'
            '<input id="doc" name="doc" type="file" aria-describedby="doc-hint"><span class="hint" id="doc-hint">'
            'JPEG, PNG or PDF, up to 10 MB.</span></div><button class="button" type="submit">Upload</button></form>'
            '{% endblock %}{% block footer_note %}This link expires in 24 hours.{% endblock %}')
    app.register_blueprint(sample)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hub, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    hub.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


class Watched:
    """A page plus the console errors and uncaught exceptions seen on it."""

    def __init__(self, context):
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/admin/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin/")


def _check_page(watched: Watched, url: str, name: str, width: int) -> None:
    page = watched.page
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response.status if response else 'no response'}"
    page.wait_for_load_state("load")
    overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"{name} at {width}px scrolls sideways: {overflow}"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                           ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))")
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name} at {width}px: {bad}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}-first-screen.png"))  # what a reader sees on arrival
    assert not watched.errors, f"{name} at {width}px console errors: {watched.errors}"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_is_accessible_and_error_free(console, browser, width):
    hub, base = console
    # bypass_csp only so axe-core can be injected; the pages themselves run under the console's CSP.
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    try:
        watched = Watched(context)
        _check_page(watched, f"{base}/admin/login", "login", width)
        _check_page(watched, f"{base}/s/example", "customer-layout", width)
        _sign_in(watched.page, base)
        for path, name in (("/admin/", "dashboard"), ("/admin/tickets", "tickets"),
                           ("/admin/tickets?category=cards&sla=met", "tickets-filtered"),
                           ("/admin/tickets/zendesk:3", "ticket-timeline"), ("/admin/plugins", "plugins"),
                           ("/admin/dead-letters", "dead-letters"), ("/admin/audit", "audit")):
            _check_page(watched, base + path, name, width)
    finally:
        context.close()


def _number(text_value: str) -> float | None:
    found = re.search(r"-?[\d,]+(\.\d+)?", text_value)
    return float(found.group(0).replace(",", "")) if found else None


def _from_database(hub) -> dict:
    """The figures recomputed with plain SQL over the analytics store (not through the console's code)."""
    start = (datetime.now(timezone.utc).date() - timedelta(days=29)).isoformat()
    with hub.db.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT count(*), avg(frt_seconds) / 60.0, avg(resolution_seconds) / 3600.0, "
            "100.0 * sum(sla_state = 'met') / nullif(sum(sla_state IN ('met', 'breached')), 0), "
            "100.0 * sum(csat = 'good') / nullif(sum(csat IS NOT NULL), 0) "
            "FROM analytics_tickets WHERE created_day >= :start AND status != 'deleted'"), {"start": start}).one()
        open_tickets = conn.execute(text(
            "SELECT count(*) FROM analytics_tickets WHERE status NOT IN ('solved', 'closed', 'deleted')")).scalar()
        dead = conn.execute(text("SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL")).scalar()
        escalations = conn.execute(text(
            "SELECT count(DISTINCT a.target) FROM audit_log a LEFT JOIN analytics_tickets t ON t.key = a.target "
            "WHERE a.action = 'escalation.fired' AND coalesce(t.status, 'open') NOT IN ('solved', 'closed', 'deleted')"
        )).scalar()
    return {"volume": row[0], "first_response_minutes": row[1], "resolution_hours": row[2],
            "sla_attainment_pct": row[3], "csat_pct": row[4], "open_tickets": open_tickets,
            "fraud_alerts_today": 3, "dead_letters": dead, "open_escalations": escalations}


def test_dashboard_numbers_equal_the_database_and_update_live(console, browser):
    hub, base = console
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        watched = Watched(context)
        _sign_in(watched.page, base)
        page = watched.page
        page.goto(f"{base}/admin/?refresh=2")
        truth = _from_database(hub)
        assert truth["volume"] == 60
        for key, expected in truth.items():
            shown = _number(page.locator(f'[data-kpi="{key}"]').inner_text())
            assert shown == pytest.approx(round(expected, 1), abs=0.051), key
        start = (datetime.now(timezone.utc).date() - timedelta(days=29)).isoformat()
        with hub.db.engine.connect() as conn:
            per_category = dict(conn.execute(text(
                "SELECT coalesce(category, 'uncategorised'), count(*) FROM analytics_tickets "
                "WHERE created_day >= :start AND status != 'deleted' GROUP BY 1"), {"start": start}).all())
        for category in CATEGORIES + ("uncategorised",):
            cell = page.locator(f'[data-cell="volume:{category.replace("_", " ")}"]').text_content()
            assert _number(cell) == per_category.get(category, 0), category
        from hub.inbox import store_event
        from hub.pipeline import process_next_event
        now = _iso(datetime.now(timezone.utc))
        with hub.db.session() as db:
            store_event(db, "sync", "live-1", "ticket.created", {"data": {
                "system": "zendesk", "id": "999", "status": "new", "tags": ["fees"], "subject": "Live one",
                "created_at": now, "updated_at": now}})
        while process_next_event(hub, "live"):
            pass
        page.wait_for_function("() => document.querySelector('[data-kpi=volume]').textContent.trim() === '61'",
                               timeout=20_000)
        assert page.locator("#live-status").inner_text().startswith("Updated ")
        assert not watched.errors
    finally:
        context.close()


def test_replay_button_posts_with_its_token(console, browser):
    hub, base = console
    context = browser.new_context(viewport={"width": 390, "height": 900})
    try:
        watched = Watched(context)
        _sign_in(watched.page, base)
        page = watched.page
        page.goto(f"{base}/admin/dead-letters")
        page.get_by_role("button", name=re.compile(r"^Replay dead letter")).first.click()
        page.wait_for_url(re.compile(r"replayed=1"))
        assert "Replayed 1." in page.inner_text("main")
        with hub.db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'dlq.replay'")).scalar() == 1
    finally:
        context.close()
