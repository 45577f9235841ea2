"""Disputes and refunds: ``dispute.*`` events drive a state machine that never regresses (out-of-order
deliveries converge), one Zendesk ticket per dispute (category ``disputes``, fields "Dispute status" and
"Evidence due", an internal note per status change), an evidence reminder, refunds under policy and identity
checks, the bank told when the agent solves the ticket, and a customer status page ``/s/dispute/<token>``."""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.disputes.config import Config

__version__ = "1.0.0"
DISPUTE_TYPES = ("dispute.opened", "dispute.updated", "dispute.closed")


@hookimpl
def on_event(event, ctx):
    """Apply dispute events; act on the dispute ticket's approval tag and solve; send due reminders."""
    from plugins.disputes import reminders, service

    if event.type in DISPUTE_TYPES and event.source in service.BANKING_SOURCES:
        service.handle_dispute_event(event, ctx)
    elif event.type == reminders.EVENT_TYPE and event.source == service.PLUGIN:
        reminders.handle_reminder(event, ctx)
    elif event.type in service.TICKET_TYPES and event.source in service.TICKET_SOURCES:
        service.handle_ticket_event(event, ctx)


@hookimpl
def on_action_done(action, result, ctx):
    """Record the ticket id, the bank's refund and write-back answers."""
    from plugins.disputes import service

    service.handle_action_done(action, result, ctx)


@hookimpl
def on_action_dead(action, reason, ctx):
    """A refund or write-back the bank refused: a note on the ticket."""
    from plugins.disputes import service

    service.handle_action_dead(action, reason, ctx)


@hookimpl
def on_startup(hub):
    """Create the "Dispute status" and "Evidence due" ticket fields when missing."""
    from plugins.disputes import service

    service.ensure_fields(hub)


@hookimpl
def register_jobs(hub):
    """Evidence reminders, every ``reminder.check_seconds``."""
    from hub.scheduler import Job
    from plugins.disputes.config import config_of
    from plugins.disputes.reminders import run_reminders

    return [Job("disputes.reminders", run_reminders, seconds=config_of(hub).reminder.check_seconds)]


@hookimpl
def register_blueprints(hub):
    """``/s/dispute/<token>``, the customer's status page."""
    from plugins.disputes.web import create_blueprint

    return create_blueprint(hub)


__all__ = ["Config", "__version__", "on_action_dead", "on_action_done", "on_event", "on_startup",
           "register_blueprints", "register_jobs"]
