"""Figures for the dashboard, the admin API and ``/metrics``, read from the analytics store and the core tables.

Ticket figures come from ``analytics_daily`` (running sums per creation day and category, kept by the analytics
plugin): at most days × categories rows are read however many tickets exist, and the per-category and per-day
views are folded from them in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, inspect, select

from hub import clock
from hub.console.models import AnalyticsDaily, AnalyticsEvent, AnalyticsTicket
from hub.console.rollup import SUMS
from hub.db import AuditEntry, DeadLetter, InboxEvent, OutboxAction, PluginState

CATEGORIES = ("payments", "cards", "disputes", "fees", "kyc_verification", "account_management", "account_access",
              "compliance_fraud")
UNCATEGORISED = "uncategorised"
SOLVED = ("solved", "closed", "deleted")
SLA_STATES = ("running", "at_risk", "breached", "met")


@dataclass
class Bucket:
    """Sums for one (day, category) cell or any fold of cells; the figures are derived from them."""

    volume: int = 0
    responded: int = 0
    frt_sum: int = 0
    resolved: int = 0
    resolution_sum: int = 0
    sla_met: int = 0
    sla_breached: int = 0
    csat_good: int = 0
    csat_bad: int = 0

    def add(self, other: "Bucket") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def figures(self) -> dict:
        """Volume; mean first response (minutes) and resolution (hours); SLA attainment and CSAT (percent)."""
        def ratio(part, whole, scale=1.0):
            return round(part / whole * scale, 1) if whole else None
        return {
            "volume": self.volume,
            "first_response_minutes": ratio(self.frt_sum, self.responded, 1 / 60),
            "resolution_hours": ratio(self.resolution_sum, self.resolved, 1 / 3600),
            "sla_attainment_pct": ratio(self.sla_met, self.sla_met + self.sla_breached, 100),
            "csat_pct": ratio(self.csat_good, self.csat_good + self.csat_bad, 100),
            "responded": self.responded, "resolved": self.resolved, "sla_met": self.sla_met,
            "sla_breached": self.sla_breached, "csat_good": self.csat_good, "csat_bad": self.csat_bad,
        }


@dataclass
class TicketFigures:
    days: list[str]
    total: Bucket = field(default_factory=Bucket)
    by_category: dict[str, Bucket] = field(default_factory=dict)
    by_day: dict[str, Bucket] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "from": self.days[0], "to": self.days[-1],
            "total": self.total.figures(),
            "by_category": {c: b.figures() for c, b in self.by_category.items()},
            "over_time": [{"day": d, **self.by_day[d].figures()} for d in self.days],
        }


def day_range(days: int, now: datetime | None = None) -> list[str]:
    today = (now or clock.now()).astimezone(timezone.utc).date()
    return [(today - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


def ticket_figures(db, days: int = 30, now: datetime | None = None) -> TicketFigures:
    """Ticket figures for tickets created in the last ``days`` days (UTC), by category and by day."""
    span = day_range(days, now)
    d = AnalyticsDaily
    rows = db.execute(select(d.day, d.category, *[d.__table__.c[name] for name in SUMS])
                      .where(d.day >= span[0], d.day <= span[-1])).all()
    figures = TicketFigures(days=span, by_category={c: Bucket() for c in CATEGORIES},
                            by_day={day: Bucket() for day in span})
    for day, category, *sums in rows:
        cell = Bucket(*(int(value or 0) for value in sums))
        figures.total.add(cell)
        figures.by_category.setdefault(category or UNCATEGORISED, Bucket()).add(cell)
        figures.by_day[day].add(cell)
    return figures


def fraud_alerts_today(db, now: datetime | None = None) -> int:
    midnight = (now or clock.now()).astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return db.execute(select(func.count()).select_from(AnalyticsEvent).where(
        AnalyticsEvent.type == "fraud.alert.created", AnalyticsEvent.at >= midnight)).scalar()


def open_escalations(db, limit: int = 10) -> dict:
    """Tickets an escalation level fired for (from the audit log) that are not solved yet: count and latest."""
    fired = db.execute(select(AuditEntry.target, func.max(AuditEntry.at)).where(
        AuditEntry.action == "escalation.fired").group_by(AuditEntry.target)).all()
    when = {target: at for target, at in fired}
    closed = set(db.execute(select(AnalyticsTicket.key).where(
        AnalyticsTicket.key.in_(list(when)), AnalyticsTicket.status.in_(SOLVED))).scalars()) if when else set()
    still_open = sorted(((t, at) for t, at in when.items() if t not in closed), key=lambda i: i[1], reverse=True)
    return {"count": len(still_open),
            "latest": [{"ticket": t, "at": clock.isoformat(at)} for t, at in still_open[:limit]]}


def _guard_use(connector) -> dict:
    """Rate-budget use and call counts of a connector's ``SystemGuard``, when it has one."""
    guard = getattr(connector, "guard", None)
    if guard is None or getattr(guard, "budget", None) is None or not hasattr(guard, "snapshot"):
        return {}
    state = guard.snapshot()  # hub.ratelimit: local bucket, or the account's shared one in Redis
    stats = getattr(guard, "stats", None)
    breaker = getattr(getattr(guard, "breaker", None), "current_state", None)
    return {"budget_use_pct": state.get("use_pct"), "per_minute": round(state.get("per_minute") or 0, 1),
            "paused_seconds": round(state.get("paused_seconds") or 0, 1), "budget_backend": state.get("backend"),
            "vendor_remaining": state.get("vendor_remaining"), "calls": getattr(stats, "calls", 0),
            "by_status": {str(k): v for k, v in (getattr(stats, "by_status", None) or {}).items()},
            "breaker": str(breaker) if breaker else None}


def _last_reads(db) -> dict[str, str]:
    """Per system, when the sync last saved a read cursor (the sync engine's tables, when it is installed)."""
    try:
        from hub.sync import cursors
    except ImportError:
        return {}
    if not inspect(db.connection()).has_table("sync_cursors"):
        return {}
    found: dict[str, str] = {}
    for row in cursors.all_cursors(db):
        if row.get("saved_at") and row["saved_at"] > found.get(row["system"], ""):
            found[row["system"]] = row["saved_at"]
    return found


def _flows(db) -> tuple[dict[str, str], dict[str, dict]]:
    """What the analytics plugin counted: last event in per source, last success and per-minute successes out."""
    rows = db.execute(select(PluginState.key, PluginState.value).where(
        PluginState.plugin == "analytics", PluginState.key.startswith("flow:"))).all()
    inbound, outbound = {}, {}
    for key, value in rows:
        _, direction, system = key.split(":", 2)
        (inbound if direction == "in" else outbound)[system] = json.loads(value)
    return {s: v["last"] for s, v in inbound.items()}, outbound


def _scanned(db, hour_ago: datetime) -> tuple[dict, dict, dict]:
    """The same from the inbox and outbox tables (scans: used when the analytics plugin is not enabled)."""
    last_ok = {s: clock.isoformat(_aware(at)) for s, at in db.execute(
        select(OutboxAction.system, func.max(OutboxAction.done_at)).where(OutboxAction.status == "done")
        .group_by(OutboxAction.system)).all() if at}
    done_hour = dict(db.execute(select(OutboxAction.system, func.count()).where(
        OutboxAction.status == "done", OutboxAction.done_at >= hour_ago).group_by(OutboxAction.system)).all())
    last_in = {s: clock.isoformat(_aware(at)) for s, at in db.execute(
        select(InboxEvent.source, func.max(InboxEvent.received_at)).group_by(InboxEvent.source)).all() if at}
    return last_ok, done_hour, last_in


def sync_health(hub, db, now: datetime | None = None) -> list[dict]:
    """Per connector: lag (oldest pending outbox action), last success, error rate over the last hour, budget."""
    now = now or clock.now()
    hour_ago = now - timedelta(hours=1)
    pending = {s: (n, oldest) for s, n, oldest in db.execute(
        select(OutboxAction.system, func.count(), func.min(OutboxAction.created_at))
        .where(OutboxAction.status == "pending").group_by(OutboxAction.system)).all()}
    retrying = dict(db.execute(select(OutboxAction.system, func.count()).where(
        OutboxAction.status == "pending", OutboxAction.last_error.is_not(None)).group_by(OutboxAction.system)).all())
    dead_hour = dict(db.execute(select(DeadLetter.system, func.count()).where(
        DeadLetter.kind == "outbox", DeadLetter.created_at >= hour_ago).group_by(DeadLetter.system)).all())
    if "analytics" in hub.settings.enabled_plugins():
        last_in, flows = _flows(db)
        since = hour_ago.strftime("%Y-%m-%dT%H:%M")
        last_ok = {s: f["last"] for s, f in flows.items()}
        done_hour = {s: sum(n for m, n in (f.get("minutes") or {}).items() if m >= since) for s, f in flows.items()}
    else:
        last_ok, done_hour, last_in = _scanned(db, hour_ago)
    reads = _last_reads(db)
    systems = sorted(set(hub.connectors) | set(pending) | set(last_ok))
    health = []
    for system in systems:
        count, oldest = pending.get(system, (0, None))
        errors = retrying.get(system, 0) + dead_hour.get(system, 0)
        attempts = errors + done_hour.get(system, 0)
        health.append({
            "system": system, "enabled": system in hub.connectors, "pending": count,
            "lag_seconds": round((now - _aware(oldest)).total_seconds()) if oldest else 0,
            "last_success": last_ok.get(system),
            "last_received": last_in.get(system),
            "last_read": reads.get(system),
            "error_rate_pct": round(errors / attempts * 100, 1) if attempts else 0.0,
            "errors_last_hour": errors,
            **_guard_use(hub.connectors.get(system)),
        })
    return health


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def dead_letter_summary(db, limit: int = 5) -> dict:
    query = select(DeadLetter).where(DeadLetter.replayed_at.is_(None))
    count = db.execute(select(func.count()).select_from(DeadLetter).where(DeadLetter.replayed_at.is_(None))).scalar()
    latest = db.execute(query.order_by(DeadLetter.id.desc()).limit(limit)).scalars().all()
    return {"count": count, "latest": [{"id": d.id, "system": d.system, "operation": d.operation,
                                        "reason": d.reason[:200], "at": clock.isoformat(d.created_at)}
                                       for d in latest]}


def dashboard(hub, days: int = 30, now: datetime | None = None) -> dict:
    """Everything the dashboard shows, as JSON-ready data."""
    now = now or clock.now()
    with hub.db.session() as db:
        figures = ticket_figures(db, days, now)
        return {
            "generated_at": clock.isoformat(now),
            "days": days,
            "tickets": figures.as_dict(),
            "open_tickets": db.execute(select(func.count()).select_from(AnalyticsTicket).where(
                AnalyticsTicket.status.not_in(SOLVED))).scalar(),
            "open_escalations": open_escalations(db),
            "fraud_alerts_today": fraud_alerts_today(db, now),
            "sync": sync_health(hub, db, now),
            "dead_letters": dead_letter_summary(db),
        }
