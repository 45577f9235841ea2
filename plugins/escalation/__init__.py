"""Escalation: rules in levels that reassign, raise priority, add followers and notify (Slack-compatible
webhook or e-mail), triggered by SLA warnings and breaches, ticket facts and timers; each level once per ticket."""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.escalation.rules import EscalationSettings as Config

__version__ = "0.1.0"
JOB_SECONDS = 15


@hookimpl
def on_event(event, ctx):
    """Evaluate rules on ``ticket.created``/``ticket.updated`` and ``sla.warning``/``sla.breached`` events."""
    from plugins.escalation.service import handle_event

    handle_event(event, ctx)


@hookimpl
def on_action_done(action, result, ctx):
    """Apply rules to a ticket the hub created itself (``create_*``/``upsert_*`` actions)."""
    from plugins.escalation.service import handle_action_done

    handle_action_done(action, result, ctx)


@hookimpl
def register_jobs(hub):
    """Every 15 s: fire escalation levels whose timers have run out."""
    from hub.scheduler import Job
    from plugins.escalation.service import run_timers

    return [Job("escalation.timers", run_timers, seconds=JOB_SECONDS)]


__all__ = ["Config", "__version__", "on_action_done", "on_event", "register_jobs"]
