"""Console pages under ``/admin/``: login, dashboard (with a live panel), tickets, timeline, plugins and
connectors, dead letters (replay), audit log."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from hub import clock
from hub.console import analytics, auth, charts
from hub.console.analytics import CATEGORIES, SLA_STATES
from hub.console.redact import redact_config
from hub.console.tickets import TicketQuery, search_tickets, timeline
from hub.db import AuditEntry

DAY_CHOICES = (7, 30, 90)
METRICS = (  # (key in figures, title, unit)
    ("volume", "Ticket volume", ""),
    ("first_response_minutes", "First response time (mean)", "min"),
    ("resolution_hours", "Resolution time (mean)", "h"),
    ("sla_attainment_pct", "SLA attainment", "%"),
    ("csat_pct", "CSAT (good ratings)", "%"),
)
AUDIT_PAGE = 100


def _hub():
    return current_app.extensions["deskbridge"]


def _days() -> int:
    try:
        days = int(request.args.get("days", 30))
    except ValueError:
        return 30
    return days if days in DAY_CHOICES else 30


def _safe_next(target: str | None) -> str:
    """Only a local console path: never an open redirect."""
    if target and target.startswith("/admin") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("console.dashboard")


def login():
    if request.method == "POST":
        refusal = auth.check_csrf()
        if refusal is not None:
            return auth.refuse_csrf(refusal, "console.login")
        ok, message = auth.attempt_login(request.form.get("username", ""), request.form.get("password", ""))
        if ok:
            return redirect(_safe_next(request.args.get("next")))
        status = 429 if message.startswith("Too many") else 401
        return render_template("console/login.html", error=message), status
    if auth.current_user()[0] is not None:
        return redirect(_safe_next(request.args.get("next")))
    notice = "Your session expired. Please sign in again." if request.args.get("expired") == "1" else None
    return render_template("console/login.html", notice=notice)


@auth.login_required
def logout():
    auth.logout()
    return redirect(url_for("console.login"))


def _chart_set(data: dict) -> list[dict]:
    tickets = data["tickets"]
    sets = []
    for key, title, unit in METRICS:
        by_cat = [(c.replace("_", " "), f[key]) for c, f in tickets["by_category"].items()]
        over = [(row["day"], row[key]) for row in tickets["over_time"]]
        sets.append({"key": key, "title": title, "unit": unit,
                     "total": tickets["total"][key], "by_category": by_cat, "over_time": over,
                     "bar": charts.bar_chart(f"{title} by category, last {data['days']} days", by_cat, unit,
                                             f"c-{key}-cat"),
                     "line": charts.line_chart(f"{title} per day, last {data['days']} days", over, unit,
                                               f"c-{key}-day")})
    return sets


@auth.login_required
def dashboard():
    data = analytics.dashboard(_hub(), _days())
    try:
        refresh = max(2, min(int(request.args.get("refresh", 15)), 300))
    except ValueError:
        refresh = 15
    return render_template("console/dashboard.html", data=data, charts=_chart_set(data), day_choices=DAY_CHOICES,
                           refresh=refresh)


@auth.login_required
def dashboard_panel():
    data = analytics.dashboard(_hub(), _days())
    return render_template("console/_panel.html", data=data, charts=_chart_set(data))


@auth.login_required
def dashboard_json():
    return jsonify(analytics.dashboard(_hub(), _days()))


@auth.login_required
def tickets():
    query = TicketQuery.from_args(request.args)
    with _hub().db.session() as db:
        rows, more = search_tickets(db, query)
    systems = sorted(set(_hub().connectors) | {r["system"] for r in rows} | {"zendesk", "salesforce", "hubspot"})
    return render_template("console/tickets.html", rows=rows, query=query, more=more, categories=CATEGORIES,
                           sla_states=SLA_STATES, systems=systems)


@auth.login_required
def ticket(key: str):
    with _hub().db.session() as db:
        found, entries = timeline(db, key)
    if found is None:
        return render_template("console/error.html", title="No such ticket",
                               message=f"No ticket is known as {key}."), 404
    return render_template("console/ticket.html", ticket=found, entries=entries)


def _connector_status(name: str, connector) -> dict:
    try:
        result = connector.check()
        return {"ok": bool(result.get("ok")), "detail": str(result.get("detail", ""))[:200]}
    except Exception as exc:  # a failing check is a status to show, not a page error
        return {"ok": False, "detail": f"{type(exc).__name__}: {str(exc)[:160]}"}


@auth.login_required
def plugins():
    hub = _hub()
    rows = []
    for info in hub.plugin_infos:
        section = hub.settings.connectors if info.kind == "connector" else hub.settings.plugins
        config = redact_config(dict(section.get(info.name) or {}))
        status = None
        if info.kind == "connector" and info.name in hub.connectors:
            status = _connector_status(info.name, hub.connectors[info.name])
        rows.append({"name": info.name, "kind": info.kind, "version": info.version, "enabled": info.enabled,
                     "hooks": info.hooks, "error": info.error, "status": status,
                     "config": json.dumps(config, indent=2, sort_keys=True, default=str) if config else ""})
    webhooks = {name: len(getattr(hub.settings.webhooks, name)) for name in
                ("banking_secrets", "stripe_secrets", "zendesk_secrets", "hubspot_client_secrets")}
    return render_template("console/plugins.html", rows=rows, webhooks=webhooks)


@auth.login_required
def dead_letters():
    from hub.api import list_dead_letters
    show_all = request.args.get("all") == "1"
    return render_template("console/dead_letters.html", rows=list_dead_letters(_hub(), include_replayed=show_all),
                           show_all=show_all, replayed=request.args.get("replayed"))


@auth.login_required
def replay_dead_letters():
    from hub.pipeline import replay_dead_letters as replay
    raw = request.form.getlist("id")
    try:
        ids = [int(value) for value in raw]
    except ValueError:
        ids = [-1]
    if any(not 0 < i < 2**63 for i in ids):
        return render_template("console/error.html", title="Request refused",
                               message="Dead-letter ids must be positive whole numbers."), 400
    if not ids and request.form.get("all") != "1":
        return render_template("console/error.html", title="Nothing to replay",
                               message="Choose a dead letter, or replay all."), 400
    hub = _hub()
    count = replay(hub, ids or None)
    with hub.db.session() as db:
        auth.audit(db, g.console_user, "dlq.replay", ",".join(map(str, ids)) or "all", "ok", count=count,
                   via="console")
    return redirect(url_for("console.dead_letters", replayed=count))


@auth.login_required
def audit_log():
    from hub.audit import verify
    hub = _hub()
    try:
        before = int(request.args.get("before", 0))
    except ValueError:
        before = 0
    before = before if 0 < before < 2**63 else None
    action = request.args.get("action", "").strip()[:100]
    result = verify(hub)
    with hub.db.session() as db:
        stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE + 1)
        if before:
            stmt = stmt.where(AuditEntry.id < before)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        rows = db.execute(stmt).scalars().all()
    entries = [{"id": r.id, "at": clock.isoformat(r.at), "actor": r.actor, "action": r.action, "target": r.target,
                "outcome": r.outcome, "source": r.source or "", "detail": r.detail if r.detail != "{}" else ""}
               for r in rows[:AUDIT_PAGE]]
    older = entries[-1]["id"] if len(rows) > AUDIT_PAGE else None
    return render_template("console/audit.html", result=result, entries=entries, older=older, action=action)


def register(bp: Blueprint) -> None:
    """Add the console routes to ``bp`` (no url prefix; every rule starts with ``/admin``)."""
    rules = [
        ("/admin/login", login, ["GET", "POST"]),
        ("/admin/logout", logout, ["POST"]),
        ("/admin/", dashboard, ["GET"]),
        ("/admin/dashboard/panel", dashboard_panel, ["GET"]),
        ("/admin/dashboard.json", dashboard_json, ["GET"]),
        ("/admin/tickets", tickets, ["GET"]),
        ("/admin/tickets/<path:key>", ticket, ["GET"]),
        ("/admin/plugins", plugins, ["GET"]),
        ("/admin/dead-letters", dead_letters, ["GET"]),
        ("/admin/dead-letters/replay", replay_dead_letters, ["POST"]),
        ("/admin/audit", audit_log, ["GET"]),
    ]
    for rule, view, methods in rules:
        bp.add_url_rule(rule, view.__name__, view, methods=methods)
    bp.add_url_rule("/admin", "root", lambda: redirect(url_for("console.dashboard")))

    @bp.app_context_processor
    def _console_globals():
        return {"csrf_token": auth.csrf_token, "console_user": g.get("console_user")}

    @bp.after_app_request
    def _console_headers(response):
        if request.path.startswith("/admin"):
            response.headers["Content-Security-Policy"] = (
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
            response.headers["X-Frame-Options"] = "DENY"
            if not request.path.startswith("/admin/static"):
                response.headers["Cache-Control"] = "no-store"
        return response
