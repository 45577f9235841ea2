"""SLA clocks: policies with business calendars, per-ticket due times written to every linked record, and
``sla.warning`` / ``sla.breached`` events when targets near or pass their due time."""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.sla.policy import SlaSettings as Config

__version__ = "0.1.0"
JOB_SECONDS = 15


@hookimpl
def on_event(event, ctx):
    """Start, pause, resume and stop ticket clocks; write due times (``update_ticket``/``update_case``)."""
    from plugins.sla.service import handle_event

    handle_event(event, ctx)


@hookimpl
def on_action_done(action, result, ctx):
    """A ticket or case the hub created (``create_*``/``upsert_*``) gets its clock from the moment it exists."""
    from plugins.sla.service import handle_action_done

    handle_action_done(action, result, ctx)


@hookimpl
def register_jobs(hub):
    """Every 15 s: store due warnings and breaches as ``sla.warning`` / ``sla.breached`` inbox events."""
    from hub.scheduler import Job
    from plugins.sla.service import run_due

    return [Job("sla.due", run_due, seconds=JOB_SECONDS)]


__all__ = ["Config", "__version__", "on_action_done", "on_event", "register_jobs"]
