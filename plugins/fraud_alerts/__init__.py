"""Fraud alerts: ``fraud.alert.created`` (bank or Stripe early fraud warning) deduplicated by alert id,
correlated per customer within a window into one case with one urgent ``compliance_fraud`` ticket (later
alerts as internal notes), the fraud team notified by webhook, and a card frozen only when policy allows."""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.fraud_alerts.config import Config

__version__ = "1.0.0"


@hookimpl
def on_event(event, ctx):
    """Open or extend a fraud case on ``fraud.alert.created``; close it when its ticket is solved."""
    from plugins.fraud_alerts import service

    if event.type == "fraud.alert.created" and event.source in ("banking", "stripe"):
        service.handle_alert(event, ctx)
    elif event.type in ("ticket.updated", "ticket.deleted") and event.source in ("sync", "zendesk"):
        service.handle_ticket_event(event, ctx)


@hookimpl
def on_action_done(action, result, ctx):
    """Record the case's ticket id and completed card freezes."""
    from plugins.fraud_alerts import service

    service.handle_action_done(action, result, ctx)


@hookimpl
def on_startup(hub):
    """Create the risk score ticket field in Zendesk when it is missing."""
    from plugins.fraud_alerts import service

    service.ensure_fields(hub)


__all__ = ["Config", "__version__", "on_action_done", "on_event", "on_startup"]
