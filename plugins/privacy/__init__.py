"""GDPR: a consent ledger enforced before processing, and data-subject requests across every system."""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.privacy.config import Config, ConsentRule, RetentionRule

__version__ = "0.1.0"
DEADLINE_CHECK_SECONDS = 3600


@hookimpl
def register_blueprints(hub):
    """``/api/v1/consents`` and ``/api/v1/dsr``."""
    from plugins.privacy.web import create_blueprint
    return create_blueprint(hub)


@hookimpl
def register_jobs(hub):
    """Hourly: warn about data-subject requests open 21 days, escalate at 28."""
    from hub.scheduler import Job
    from plugins.privacy.dsr import check_deadlines
    return [Job("privacy.dsr_deadlines", check_deadlines, seconds=DEADLINE_CHECK_SECONDS)]


@hookimpl
def enrich_event(event, ctx):
    """The bank's current consents of the event's customer (a withdrawal at the bank counts at once)."""
    from plugins.privacy.consents import bank_consents
    return bank_consents(event, ctx)


@hookimpl
def on_event(event, ctx):
    """Bank consent changes newer than the ledger's are recorded in it."""
    from plugins.privacy.consents import import_bank_consents
    import_bank_consents(event, ctx)


@hookimpl
def decide_action_allowed(system, operation, payload, ctx):
    """Processing under consent (e.g. marketing notifications) is refused once the consent is withdrawn."""
    from plugins.privacy.consents import gate
    return gate(system, operation, payload, ctx)


__all__ = ["Config", "ConsentRule", "RetentionRule", "decide_action_allowed", "enrich_event", "on_event",
           "register_blueprints", "register_jobs"]
