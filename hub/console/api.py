"""Admin API ``/api/v1/metrics/...`` (scope ``read``) and the analytics gauges on ``/metrics``."""

from __future__ import annotations

import weakref

from flask import Blueprint, current_app, jsonify, request
from prometheus_client.core import GaugeMetricFamily

from hub.console import analytics

_collected: "weakref.WeakSet" = weakref.WeakSet()


def _days() -> int:
    try:
        days = int(request.args.get("days", 30))
    except ValueError:
        days = 30
    return max(1, min(days, 366))


def create_metrics_api() -> Blueprint:
    from hub.api import route
    bp = Blueprint("metrics_api", __name__, url_prefix="/api/v1")

    @route(bp, "/metrics/summary", "GET", "read",
           "Ticket figures (volume, first response, resolution, SLA attainment, CSAT) for the last ?days=N days, "
           "in total, by category and per day, plus open escalations, fraud alerts today and dead letters")
    def metrics_summary():
        return jsonify(analytics.dashboard(current_app.extensions["deskbridge"], _days()))

    @route(bp, "/metrics/categories", "GET", "read", "Ticket figures by category for the last ?days=N days")
    def metrics_categories():
        hub = current_app.extensions["deskbridge"]
        with hub.db.session() as db:
            figures = analytics.ticket_figures(db, _days()).as_dict()
        return jsonify(**{k: figures[k] for k in ("from", "to", "by_category")})

    @route(bp, "/metrics/timeseries", "GET", "read", "Ticket figures per day for the last ?days=N days")
    def metrics_timeseries():
        hub = current_app.extensions["deskbridge"]
        with hub.db.session() as db:
            figures = analytics.ticket_figures(db, _days()).as_dict()
        return jsonify(**{k: figures[k] for k in ("from", "to", "over_time")})

    @route(bp, "/metrics/sync", "GET", "read", "Sync health per connector: lag, last success, error rate, budget")
    def metrics_sync():
        hub = current_app.extensions["deskbridge"]
        with hub.db.session() as db:
            return jsonify(connectors=analytics.sync_health(hub, db))

    return bp


class AnalyticsCollector:
    """Last-30-day ticket figures by category, computed from the store at scrape time (shared by processes)."""

    GAUGES = (("volume", "deskbridge_tickets_created", "Tickets created in the last 30 days"),
              ("first_response_minutes", "deskbridge_first_response_minutes_mean",
               "Mean first response time (minutes), tickets of the last 30 days"),
              ("resolution_hours", "deskbridge_resolution_hours_mean",
               "Mean resolution time (hours), tickets of the last 30 days"),
              ("sla_attainment_pct", "deskbridge_sla_attainment_percent",
               "Share of tickets with a known SLA outcome that met it, last 30 days"),
              ("csat_pct", "deskbridge_csat_good_percent", "Share of satisfaction ratings that are good, last 30 days"))

    def __init__(self, hub):
        self.hub = hub

    def describe(self):
        return []

    def collect(self):
        try:
            with self.hub.db.session() as db:
                figures = analytics.ticket_figures(db, 30)
                fraud = analytics.fraud_alerts_today(db)
        except Exception:
            return
        for key, name, doc in self.GAUGES:
            gauge = GaugeMetricFamily(name, doc, labels=["category"])
            for category, bucket in figures.by_category.items():
                value = bucket.figures()[key]
                if value is not None:
                    gauge.add_metric([category], value)
            yield gauge
        yield GaugeMetricFamily("deskbridge_fraud_alerts_today", "Fraud alerts received since midnight UTC",
                                value=fraud)


def register_collector(hub) -> None:
    """Once per hub: add the analytics gauges to its Prometheus registry."""
    if hub in _collected:
        return
    hub.metrics.registry.register(AnalyticsCollector(hub))
    _collected.add(hub)
