"""Knowledge base: markdown articles (front matter ``title``, ``category``, ``updated``, ``owner``) suggested on new
tickets by TF-IDF cosine similarity, and a daily stale-article report.

Hooks: ``on_startup`` (loads and indexes the articles, so a broken article is reported at start),
``on_event`` (``ticket.created``: the top ``top_k`` articles above ``threshold`` as one internal note with titles
and links; a rating — from ``event.enrichment["csat"]`` set by the sentiment plugin, or the event's own
``satisfaction_rating`` — marks the suggested articles of a ticket rated bad), ``register_jobs`` (the daily
report, kept in plugin state) and ``register_blueprints`` (``GET /api/v1/knowledge/stale``).
"""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.knowledge.articles import Article, load_articles
from plugins.knowledge.config import Config
from plugins.knowledge.index import Index
from plugins.knowledge.service import (
    CSAT_EVENTS,
    config_of,
    get_index,
    on_rating,
    on_ticket_created,
    run_stale_job,
)

__version__ = "0.1.0"

__all__ = ["Article", "Config", "Index", "__version__", "load_articles", "run_stale_job"]


@hookimpl
def on_startup(hub):
    get_index(config_of(hub), hub.settings)


@hookimpl
def register_jobs(hub):
    from hub.scheduler import Job

    return [Job("knowledge.stale", run_stale_job, cron={"hour": config_of(hub).report_hour, "minute": 0})]


@hookimpl
def register_blueprints(hub):
    from plugins.knowledge.api import create_blueprint

    return create_blueprint()


@hookimpl
def on_event(event, ctx):
    if event.type == "ticket.created":
        on_ticket_created(event, ctx, config_of(ctx.hub))
    elif event.type == "ticket.updated" or event.type in CSAT_EVENTS:
        on_rating(event, ctx)
