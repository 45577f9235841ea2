"""The ``plugins.customer_context`` block."""

from __future__ import annotations

import weakref

from pydantic import BaseModel, ConfigDict, Field

BANKING_TYPES = ("fraud.alert.created", "payment.failed", "account.frozen", "account.unfrozen",
                 "kyc.status.changed", "dispute.opened", "dispute.updated", "dispute.closed")
TICKET_TYPES = ("ticket.created", "ticket.updated")


class FieldTitles(BaseModel):
    """Zendesk custom field titles the context is written to; ``None`` leaves that field out."""

    model_config = ConfigDict(extra="forbid")

    segment: str | None = "Segment"
    kyc_status: str | None = "KYC status"
    account_status: str | None = "Account status"
    risk_score: str | None = "Risk score"  # filled by fraud alerts; created here with the others


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Events whose customer is looked up in core banking (``event.enrichment["customer"]``).
    event_types: list[str] = Field(default_factory=lambda: [*BANKING_TYPES, *TICKET_TYPES])
    # Events that also list the customer's help-desk tickets (``event.enrichment["customer_tickets"]``).
    ticket_lookup_types: list[str] = Field(
        default_factory=lambda: ["payment.failed", "kyc.status.changed", "account.frozen", "account.unfrozen"])
    fields: FieldTitles = Field(default_factory=FieldTitles)
    ensure_fields: bool = True  # create missing ticket fields in the help desk at start-up
    note_on_help_desk_tickets: bool = True  # context note on tickets customers open in the help desk
    # A bank outage delays the event this many attempts; after that it proceeds without context.
    retry_attempts: int = Field(3, ge=1)
    max_items: int = Field(5, ge=1, le=50)  # failed payments / disputes shown in the note


_configs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def config_of(hub) -> Config:
    """The validated block, cached per hub (settings never change once the hub serves)."""
    found = _configs.get(hub)
    if found is None:
        found = _configs[hub] = hub.plugin_config("customer_context")
    return found
