"""Prometheus metrics, one registry per hub (tests build many hubs in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from hub import clock
from hub.ratelimit import BudgetCollector


class Metrics:
    def __init__(self, hub):
        self.registry = CollectorRegistry(auto_describe=True)
        self.events_in = Counter("deskbridge_events_received_total", "Inbound events stored, by source",
                                 ["source", "duplicate"], registry=self.registry)
        self.events_processed = Counter("deskbridge_events_processed_total", "Inbound events processed",
                                        ["source", "type"], registry=self.registry)
        self.events_failed = Counter("deskbridge_events_failed_total", "Inbound event failures by outcome",
                                     ["source", "type", "outcome"], registry=self.registry)
        self.actions = Counter("deskbridge_actions_total", "Outbox actions executed, by system and status",
                               ["system", "status"], registry=self.registry)
        self.outbound_calls = Counter("deskbridge_outbound_calls_total", "HTTP calls to outside systems",
                                      ["system", "status"], registry=self.registry)
        self.webhooks = Counter("deskbridge_webhooks_total", "Inbound webhook requests by source and status code",
                                ["source", "code"], registry=self.registry)
        self.registry.register(_QueueCollector(hub))
        self.registry.register(BudgetCollector(hub))
        self.up = Gauge("deskbridge_up", "1 while the hub is serving", registry=self.registry)
        self.up.set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _QueueCollector:
    """Queue depth and age read from the database at scrape time (shared by every process)."""

    def __init__(self, hub):
        self.hub = hub

    def describe(self):
        return []

    def collect(self):
        from hub.db import DeadLetter, InboxEvent, OutboxAction
        depth = GaugeMetricFamily("deskbridge_queue_depth", "Pending items", labels=["queue"])
        age = GaugeMetricFamily("deskbridge_queue_oldest_age_seconds", "Age of the oldest pending item",
                                labels=["queue"])
        dead = GaugeMetricFamily("deskbridge_dead_letters", "Dead letters not replayed")
        try:
            with self.hub.db.session() as session:
                now = clock.now()
                for name, model, stamp in (("inbox", InboxEvent, InboxEvent.received_at),
                                           ("outbox", OutboxAction, OutboxAction.created_at)):
                    count, oldest = session.execute(
                        select(func.count(), func.min(stamp)).where(model.status == "pending")).one()
                    depth.add_metric([name], count)
                    if oldest is not None and oldest.tzinfo is None:
                        from datetime import timezone
                        oldest = oldest.replace(tzinfo=timezone.utc)
                    age.add_metric([name], (now - oldest).total_seconds() if oldest else 0)
                dead.add_metric([], session.execute(
                    select(func.count()).select_from(DeadLetter).where(DeadLetter.replayed_at.is_(None))).scalar())
        except Exception:
            return
        yield depth
        yield age
        yield dead
