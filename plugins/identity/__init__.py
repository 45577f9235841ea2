"""Identity verification: a fresh one-time code, bound to customer and action, before sensitive actions."""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.identity.config import Config
from plugins.identity.service import IdentityError, Outcome, consume, request_verification, verify_code

__version__ = "0.1.0"
PURGE_SECONDS = 3600


@hookimpl
def on_startup(hub):
    """Make sure the help desk has the "Identity verified" checkbox the plugin writes."""
    from plugins.identity.config import config_of
    if "zendesk" in hub.connectors:
        hub.emit("zendesk", "ensure_ticket_fields",
                 {"fields": [{"title": config_of(hub).verified_field, "type": "checkbox"}]},
                 key="identity:ensure-fields:v1")


@hookimpl
def register_connectors(hub):
    """``identity.update_payout_details``: sends a verified payout change, opening its sealed details at send
    time, through ``core_banking``."""
    from plugins.identity.payouts import PayoutSender
    return [PayoutSender(hub)]


@hookimpl
def register_jobs(hub):
    """Hourly: delete the sealed details of payout changes that can no longer be sent (dead-lettered longer ago
    than ``payout_replay_days``, or never verified)."""
    from hub.scheduler import Job
    from plugins.identity.payouts import purge
    return [Job("identity.payout_purge", purge, seconds=PURGE_SECONDS)]


@hookimpl
def register_blueprints(hub):
    """``/s/verify/<token>`` (customer code page) and ``/api/v1/identity/requests|verify`` (admin API)."""
    from plugins.identity.web import create_blueprints
    return create_blueprints(hub)


@hookimpl
def decide_action_allowed(system, operation, payload, ctx):
    """Gated actions need a fresh, unused verification of the payload's ``customer_id`` for that action."""
    from plugins.identity.service import gate
    return gate(system, operation, payload, ctx)


@hookimpl
def on_event(event, ctx):
    """``identity.requested`` events and tickets tagged for verification send a one-time code."""
    from plugins.identity.events import handle_event
    handle_event(event, ctx)


@hookimpl
def on_action_done(action, result, ctx):
    """The code message went out: the outbox row no longer keeps the code. A payout change went through:
    audited, noted on the ticket, its sealed details deleted."""
    from plugins.identity.events import scrub_code
    from plugins.identity.payouts import on_done
    scrub_code(action, ctx)
    on_done(action, result, ctx)


@hookimpl
def on_action_dead(action, reason, ctx):
    """A code message the bank could not deliver ends its challenge; the ticket gets a note saying why. A payout
    change the bank refused is audited and noted; its sealed details stay for a replay within
    ``payout_replay_days``."""
    from plugins.identity.events import code_undeliverable
    from plugins.identity.payouts import on_dead
    code_undeliverable(action, reason, ctx)
    on_dead(action, reason, ctx)


__all__ = ["Config", "IdentityError", "Outcome", "consume", "decide_action_allowed", "on_action_dead",
           "on_action_done", "on_event", "on_startup", "register_blueprints", "register_connectors", "register_jobs",
           "request_verification", "verify_code"]
