"""Console benchmark: the dashboard's server time with 100,000 tickets in the analytics store.

A real hub on SQLite (WAL, temporary dir) with the analytics tables filled by bulk insert: 100,000 tickets over
the last 90 days across the eight categories, with first response, resolution, SLA outcome and CSAT facts, plus
20,000 analytics events; the per-day running sums are rebuilt once after the load. Each route is requested through the Flask test client by a signed-in user (so session,
CSRF context, rendering and the SVG charts are all in the figure); the median of several requests is reported
beside ``/healthz`` (a trivial route) measured in the same run.

Run alone: ``python -m bench.bench_console [--quick]``.
"""

from __future__ import annotations

import base64
import json
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CATEGORIES = ("payments", "cards", "disputes", "fees", "kyc_verification", "account_management", "account_access",
              "compliance_fraud", None)
PASSWORD = "bench-password-123"
TARGET_MS = 300


def _row(benchmark, metric, value, unit, baseline, note) -> dict:
    ratio = value / baseline if baseline else None
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 3), "unit": unit,
            "baseline": round(baseline, 3) if baseline is not None else None,
            "ratio": round(ratio, 2) if ratio is not None else None, "note": note}


def fill_store(hub, tickets: int, seed: int = 5) -> None:
    """Bulk-insert ``tickets`` analytics tickets (and a fifth as many events) created over the last 90 days."""
    from sqlalchemy import insert

    from hub.console import rollup
    from hub.console.models import AnalyticsEvent, AnalyticsTicket
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    rows, events = [], []
    for number in range(tickets):
        created = now - timedelta(minutes=rng.randrange(90 * 1440))
        frt = rng.randint(60, 86_400) if rng.random() < 0.85 else None
        resolution = rng.randint(600, 7 * 86_400) if rng.random() < 0.7 else None
        sla = rng.choice(("met", "met", "met", "breached")) if resolution else rng.choice(("running", "at_risk"))
        system = ("zendesk", "salesforce", "hubspot")[number % 3]
        rows.append({"key": f"{system}:{number}", "system": system, "record_id": str(number), "external_id": None,
                     "subject": f"Bench ticket {number}", "customer_id": f"CUST-{number % 5000:04d}",
                     "category": rng.choice(CATEGORIES), "priority": "normal",
                     "status": "solved" if resolution else "open", "created_at": created,
                     "created_day": created.strftime("%Y-%m-%d"), "updated_at": created,
                     "first_response_at": created + timedelta(seconds=frt) if frt else None, "frt_seconds": frt,
                     "solved_at": created + timedelta(seconds=resolution) if resolution else None,
                     "resolution_seconds": resolution, "sla_state": sla,
                     "csat": rng.choice(("good", "good", "bad", None)) if resolution else None, "csat_at": None,
                     "links": json.dumps({system: str(number)})})
        if number % 5 == 0:
            events.append({"inbox_id": None, "ticket_key": f"{system}:{number}", "customer_id": None,
                           "source": system, "type": "ticket.created", "at": created, "summary": "created"})
    with hub.db.session() as db:
        for start in range(0, len(rows), 5000):
            db.execute(insert(AnalyticsTicket), rows[start:start + 5000])
        db.execute(insert(AnalyticsEvent), events)
        rollup.rebuild(db)  # the plugin keeps the running sums per event; a bulk load rebuilds them once


def _median_ms(client, path: str, repeats: int) -> float:
    client.get(path)  # warm caches (templates, statement cache), as a running console has
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(samples)


def _scan_figures(db, start_day: str) -> list:
    """What ``analytics_daily`` replaces: one grouped scan of every ticket in the period."""
    from sqlalchemy import text
    return db.execute(text(
        "SELECT created_day, category, count(*), count(frt_seconds), sum(frt_seconds), count(resolution_seconds), "
        "sum(resolution_seconds), sum(sla_state = 'met'), sum(sla_state = 'breached'), sum(csat = 'good'), "
        "sum(csat = 'bad') FROM analytics_tickets WHERE created_day >= :start AND status != 'deleted' "
        "GROUP BY created_day, category"), {"start": start_day}).all()


def _figure_rows(hub, tickets: int, repeats: int) -> list[dict]:
    from hub.console import analytics
    timings = {"rollup": [], "scan": []}
    with hub.db.session() as db:
        start = analytics.day_range(90)[0]
        for _ in range(repeats):
            began = time.perf_counter()
            figures = analytics.ticket_figures(db, 90)
            timings["rollup"].append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            scanned = _scan_figures(db, start)
            timings["scan"].append((time.perf_counter() - began) * 1000)
    assert figures.total.volume == sum(row[2] for row in scanned) > 0.95 * tickets, "rollup and scan disagree"
    return [_row("console", "ticket figures for 90 days from the per-day sums", statistics.median(timings["rollup"]),
                 "ms", statistics.median(timings["scan"]),
                 f"baseline: one grouped scan of all {tickets:,} tickets (same figures, checked equal)")]


def run(quick: bool) -> list[dict]:
    from hub.app import create_app
    from hub.console.users import ensure_user
    from hub.runtime import Hub
    from hub.settings import load_settings

    tickets = 100_000
    repeats = 5 if quick else 15
    with tempfile.TemporaryDirectory() as tmp:
        secret = "whsec_" + base64.b64encode(b"bench-console-banking-secret-32b!").decode()
        settings = load_settings(REPO / "config" / "test", env={"DESKBRIDGE_DATA_DIR": tmp,
                                                                "DESKBRIDGE_BANKING_WEBHOOK_SECRET": secret},
                                 overrides={"plugins": {"analytics": {}}})
        hub = Hub(settings)
        try:
            began = time.perf_counter()
            fill_store(hub, tickets)
            fill_s = time.perf_counter() - began
            ensure_user(hub, "admin", PASSWORD)
            app = create_app(hub=hub)
            client = app.test_client()
            page = client.get("/admin/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            signed = client.post("/admin/login", data={"username": "admin", "password": PASSWORD,
                                                       "csrf_token": token})
            assert signed.status_code == 302, "bench sign-in failed"
            baseline = _median_ms(client, "/healthz", repeats)
            rows = []
            for path, what in (("/admin/", "dashboard page, last 30 days"),
                               ("/admin/?days=90", "dashboard page, last 90 days (all 100k tickets)"),
                               ("/admin/dashboard/panel", "live panel fragment (what the page polls)"),
                               ("/admin/dashboard.json?days=90", "dashboard JSON, 90 days"),
                               ("/admin/tickets?category=cards&sla=breached", "tickets page, filtered")):
                value = _median_ms(client, path, repeats)
                rows.append(_row("console", f"{what} — median server time", value, "ms", baseline,
                                 f"{tickets:,} tickets in the store; baseline /healthz; aim < {TARGET_MS} ms"))
            rows += _figure_rows(hub, tickets, repeats)
            rows.append(_row("console", "bulk load of the analytics store", tickets / fill_s, "tickets/s", None,
                             "SQLite WAL, synchronous=FULL, 5,000 rows per statement"))
            return rows
        finally:
            hub.stop()


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row))
