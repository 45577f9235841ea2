"""The ``plugins.banking_events`` block."""

from __future__ import annotations

import weakref
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Priority = Literal["low", "normal", "high", "urgent"]


class PaymentFailed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    priority: Priority = "normal"
    tags: list[str] = Field(default_factory=lambda: ["payments", "payment_failed"])
    group: str | None = None
    # An open ticket of the customer carrying one of these tags gets a note instead of a new ticket.
    note_on_open_tags: list[str] = Field(default_factory=lambda: ["payments", "cards", "fees"])


class AccountFrozen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    priority: Priority = "high"
    tags: list[str] = Field(default_factory=lambda: ["account_access", "account_frozen"])
    group: str | None = None


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_failed: PaymentFailed = Field(default_factory=PaymentFailed)
    account_frozen: AccountFrozen = Field(default_factory=AccountFrozen)
    refresh_context_on_kyc: bool = True  # kyc.status.changed → context note on the customer's open tickets
    keep_records: bool = True  # dispute.* / incident.* kept in plugin state for their plugins


_configs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def config_of(hub) -> Config:
    found = _configs.get(hub)
    if found is None:
        found = _configs[hub] = hub.plugin_config("banking_events")
    return found
