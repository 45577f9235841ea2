"""Incident workflows: ``incident.opened`` → one internal problem ticket, proactive notices to the affected
customers (ids or a segment; idempotent per customer and incident, a batch per run), their open tickets tagged
with a suggested public reply as an internal note; ``incident.resolved`` → the problem ticket noted and solved,
and a resolution notice to everyone who was told."""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.incidents.config import Config

__version__ = "1.0.0"


@hookimpl
def enrich_event(event, ctx):
    """Who an incident affects (a segment is listed from core banking); a batch's customers' open tickets."""
    if event.type not in ("incident.opened", "incident.batch"):
        return None
    from plugins.incidents import audience
    from plugins.incidents.config import config_of

    return audience.enrich(event, ctx, config_of(ctx.hub))


@hookimpl
def on_event(event, ctx):
    """Open or resolve an incident; run one batch of customer notices and ticket drafts."""
    from plugins.incidents import service

    if event.source in service.BANKING_SOURCES and event.type == "incident.opened":
        service.handle_opened(event, ctx)
    elif event.source in service.BANKING_SOURCES and event.type == "incident.resolved":
        service.handle_resolved(event, ctx)
    elif event.source == service.PLUGIN and event.type == service.BATCH_TYPE:
        service.handle_batch(event, ctx)


@hookimpl
def register_jobs(hub):
    """The next batch of each incident's customers, every ``notices.batch_seconds``."""
    from hub.scheduler import Job
    from plugins.incidents.config import config_of
    from plugins.incidents.service import run_batches

    return [Job("incidents.batches", run_batches, seconds=config_of(hub).notices.batch_seconds)]


__all__ = ["Config", "__version__", "enrich_event", "on_event", "register_jobs"]
