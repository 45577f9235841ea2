"""Customer context: the customer's banking context (segment, KYC status, accounts, cards, recent failed
payments, open disputes, lifetime value) added to events, and written onto tickets as custom fields and one
internal note — a new note only when the context changed.

Other plugins reach the helpers without importing this package, through the plugin manager:
``ctx.hub.pm.get_plugin("customer_context").publish_context(ctx, target, context, order_key)`` (and
``context_fields(hub, context)`` plus ``note_for_new_ticket(ctx, target, context)`` for a ticket created with
the fields and the note already in its create).
"""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.customer_context.config import Config, config_of
from plugins.customer_context.notes import (
    context_fields, ensure_fields, handle_ticket_event, note_for_new_ticket, publish_context,
)
from plugins.customer_context.render import mask_pans, render_note, ticket_fields

__version__ = "1.0.0"
PLUGIN = "customer_context"


@hookimpl
def enrich_event(event, ctx):
    """``{"customer": {...}}`` (and ``customer_tickets`` for some types) from core banking and Zendesk reads."""
    from plugins.customer_context.fetch import enrich

    return enrich(event, ctx, config_of(ctx.hub))


@hookimpl
def on_event(event, ctx):
    """Context note and fields on tickets opened or changed in the help desk, once per change of context."""
    handle_ticket_event(event, ctx)


@hookimpl
def on_startup(hub):
    """Create the context's custom ticket fields in Zendesk when they are missing."""
    ensure_fields(hub)


__all__ = ["Config", "__version__", "context_fields", "enrich_event", "ensure_fields", "mask_pans",
           "note_for_new_ticket", "on_event", "on_startup", "publish_context", "render_note", "ticket_fields"]
