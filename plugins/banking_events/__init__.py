"""Banking events into help-desk work: ``payment.failed`` → payments ticket or a note on the customer's open
one; ``account.frozen`` → high-priority account_access ticket; ``kyc.status.changed`` → context refreshed on
open tickets; ``dispute.*`` and ``incident.*`` kept in plugin state for the dispute and incident plugins."""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.banking_events.config import Config

__version__ = "1.0.0"
BANKING_SOURCES = ("banking", "stripe")


@hookimpl
def on_event(event, ctx):
    """Turn banking events into tickets, notes and stored records; close the hub's tickets when solved."""
    from plugins.banking_events import records, tickets
    from plugins.banking_events.config import config_of

    if event.source in BANKING_SOURCES:
        handler = {"payment.failed": tickets.payment_failed, "account.frozen": tickets.account_frozen,
                   "account.unfrozen": tickets.account_unfrozen, "kyc.status.changed": tickets.kyc_changed
                   }.get(event.type)
        if handler is not None:
            handler(event, ctx)
        elif config_of(ctx.hub).keep_records:
            records.keep(event, ctx)
    elif event.type in ("ticket.updated", "ticket.deleted") and event.source in ("sync", "zendesk"):
        tickets.ticket_closed(event, ctx)


__all__ = ["Config", "__version__", "on_event"]
