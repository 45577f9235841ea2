"""Analytics: turn canonical ticket, comment, satisfaction, SLA and banking events into stored facts (first
response, resolution, SLA outcome, CSAT, per-category volume) that the console, ``/metrics`` and
``/api/v1/metrics/...`` read. Facts live in the database, so figures survive restarts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from hub.hookspecs import hookimpl

__version__ = "0.1.0"


class Config(BaseModel):
    """``plugins.analytics``: which comment author roles count as the first response."""

    model_config = ConfigDict(extra="forbid")
    agent_roles: list[str] = ["agent", "admin", "staff"]


@hookimpl
def on_event(event, ctx):
    """Record the facts of ticket, comment, satisfaction, SLA and banking events (in the event's transaction)."""
    from plugins.analytics.facts import record_event

    record_event(event, ctx)


@hookimpl
def on_action_done(action, result, ctx):
    """Count the success for sync health; a ticket the hub created itself (echo suppression hides it from sync)
    is counted from the action."""
    from plugins.analytics.facts import record_created_by_hub, record_flow

    record_flow(ctx, "out", action.system, ctx.now())
    record_created_by_hub(action, result, ctx)


__all__ = ["Config", "__version__", "on_action_done", "on_event"]
