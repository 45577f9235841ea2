"""Sentiment and CSAT: a banking-aware lexicon scores new tickets and customer comments; strongly negative text
tags the ticket ``negative_sentiment`` and raises its priority one step; satisfaction ratings are kept per
ticket, category and agent, and a bad one opens a follow-up (internal note + ``csat_bad`` tag).

Hooks: ``enrich_event`` (``event.enrichment["sentiment"]`` = ``{"score", "label", "strong", "terms"}`` on
``ticket.created`` and customer ``comment.created``; ``event.enrichment["csat"]`` = ``{"score": "good"|"bad",
"comment", "id", "assignee"}`` whenever an event carries a rating), ``decide_priority`` (tried last: one step
up for strongly negative text, so any other plugin's decision wins) and ``on_event`` (tags, priority, ratings).
"""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.sentiment.config import Config
from plugins.sentiment.csat import CSAT_EVENTS, summary
from plugins.sentiment.scorer import Sentiment, score_text
from plugins.sentiment.service import (
    config_of,
    enrichment_for,
    on_comment,
    on_rating_event,
    on_ticket,
    raised,
    scored,
    ticket_text,
)

__version__ = "0.1.0"

__all__ = ["Config", "Sentiment", "__version__", "score_text", "summary"]


@hookimpl
def enrich_event(event, ctx):
    return enrichment_for(event, config_of(ctx.hub))


@hookimpl(trylast=True)
def decide_priority(ticket, ctx):
    config = config_of(ctx.hub)
    if not config.raise_priority:
        return None
    sentiment = ticket.get("sentiment")
    if not isinstance(sentiment, dict):
        text = ticket_text(ticket)
        if not text:
            return None
        sentiment = scored(text, config)
    return raised(ticket.get("priority")) if sentiment.get("strong") else None


@hookimpl
def on_event(event, ctx):
    config = config_of(ctx.hub)
    if event.type in ("ticket.created", "ticket.updated"):
        on_ticket(event, ctx, config)
    elif event.type == "comment.created":
        on_comment(event, ctx, config)
    elif event.type in CSAT_EVENTS:
        on_rating_event(event, ctx, config)
