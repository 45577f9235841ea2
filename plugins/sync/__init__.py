"""The sync engine as a plugin: the polling job, webhook-triggered polls, write results into the link table,
and ``/api/v1/sync/status`` + ``/api/v1/sync/failures``. The engine itself lives in ``hub.sync``.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

from hub.hookspecs import hookimpl

__version__ = "1.0.0"
log = logging.getLogger(__name__)


class Config(BaseModel):
    """``plugins.sync`` block."""

    model_config = ConfigDict(extra="forbid")

    poll_seconds: float = Field(30.0, gt=0)  # the safety-net poll; vendor webhooks trigger polls sooner
    webhook_polls: bool = True
    backfill_comments: bool = True  # false: `sync --backfill` imports old tickets without reading their comments


def _config(hub) -> Config:
    config = hub.plugin_config("sync")
    return config if isinstance(config, Config) else Config.model_validate(config or {})


@hookimpl
def on_startup(hub):
    """Validate the mappings once, so a broken mapping is reported at start-up rather than at the first pass."""
    from hub.mappings import load_dir
    load_dir(hub.settings.mappings_dir)
    # One pass now: on a first start it sets every cursor to "now" (no flood, and nothing created before the
    # first scheduled poll is missed); after downtime it catches up from the saved cursors.
    from hub.sync import run_pass
    run_pass(hub)


@hookimpl
def register_jobs(hub):
    """Every ``poll_seconds``: a sync pass over every connected system."""
    from hub.scheduler import Job
    from hub.sync.jobs import poll_job
    return [Job("sync.poll", poll_job, seconds=_config(hub).poll_seconds)]


@hookimpl
def on_event(event, ctx):
    """A Zendesk, HubSpot or Salesforce webhook: poll that system right after this event is stored."""
    if _config(ctx.hub).webhook_polls:
        from hub.sync.jobs import on_webhook_event
        on_webhook_event(event, ctx)


@hookimpl
def on_action_done(action, result, ctx):
    """A sync write succeeded: keep the vendor's id and ``updated_at`` for links and echo suppression."""
    from hub.sync.jobs import on_action_done as record
    record(action, result, ctx)


@hookimpl
def register_blueprints(hub):
    """``GET /api/v1/sync/status`` and ``GET /api/v1/sync/failures`` (scope ``read``)."""
    from plugins.sync.web import blueprint
    return blueprint()


__all__ = ["Config", "__version__", "on_action_done", "on_event", "on_startup", "register_blueprints",
           "register_jobs"]
