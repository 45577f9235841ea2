"""Categorisation: admin rules plus a trained text classifier put each new ticket in one of the 8 categories.

Hooks: ``decide_category`` (rules, then the model), ``decide_priority`` (the first matching rule that sets
one, else None), ``enrich_event`` (the decision for ``ticket.created``,
so every plugin's ``on_event`` sees it in ``event.enrichment["category"]``), ``on_event`` (category tag,
"Category" field and group on the help desk, the field on linked CRM records; agents' changes of the field
recorded as corrections for the next training run), ``on_action_done`` (the same for tickets the hub
creates itself with a category, which never come back as ``ticket.created``) and ``on_startup`` (loads the
model, so a broken model is reported at start rather than on the first ticket).
"""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.categorisation.config import Config
from plugins.categorisation.rules import evaluate
from plugins.categorisation.service import (
    PLUGIN,
    config_of,
    decide,
    get_model,
    on_ticket_created,
    on_ticket_updated,
    on_ticket_written,
    rules_view,
    ticket_of,
)

__version__ = "0.1.0"

__all__ = ["Config", "__version__"]


@hookimpl
def on_startup(hub):
    get_model(config_of(hub).model_path)


@hookimpl
def decide_category(ticket, ctx):
    config = config_of(ctx.hub)
    return decide(ticket, config, get_model(config.model_path))


@hookimpl
def decide_priority(ticket, ctx):
    return evaluate(config_of(ctx.hub).rules, ticket).priority


@hookimpl
def enrich_event(event, ctx):
    if event.type != "ticket.created" or event.source == PLUGIN:
        return None
    ticket = ticket_of(event.data)
    if ticket.get("id") is None:
        return None
    decided = ctx.hub.pm.hook.decide_category(ticket=rules_view(ticket, event.enrichment), ctx=ctx)
    return {"category": decided} if decided else None


@hookimpl
def on_event(event, ctx):
    if event.type == "ticket.created":
        on_ticket_created(event, ctx)
    elif event.type == "ticket.updated":
        on_ticket_updated(event, ctx)


@hookimpl
def on_action_done(action, result, ctx):
    on_ticket_written(action, result, ctx)
