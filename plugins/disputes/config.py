"""The ``plugins.disputes`` block."""

from __future__ import annotations

import weakref
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Priority = Literal["low", "normal", "high", "urgent"]
BankStatus = Literal["needs_response", "under_review", "won", "lost"]


class TicketOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Priority = "normal"
    tags: list[str] = Field(default_factory=lambda: ["disputes", "dispute"])
    group: str | None = None  # a Zendesk group name, e.g. "Disputes"
    status_field: str = "Dispute status"
    due_field: str = "Evidence due"

    @field_validator("tags")
    @classmethod
    def _category_tag(cls, value: list[str]) -> list[str]:
        # the category tag agents, SLA policies and routing rely on
        return value if "disputes" in value else ["disputes", *value]


class Reminder(BaseModel):
    """An internal note (and a priority bump) this long before the evidence is due."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    before_hours: float = Field(48, gt=0)
    check_seconds: float = Field(300, ge=1)  # how often the scheduler job looks
    priority: Priority | None = "high"  # None keeps the ticket's priority


class RefundPolicy(BaseModel):
    """When the hub moves money back to the customer (each refund still needs identity verification when the
    identity plugin gates ``core_banking.create_refund``). At most one refund per dispute."""

    model_config = ConfigDict(extra="forbid")

    on_won: bool = True  # a dispute won at the bank refunds the customer
    provisional_credit: bool = False  # credit the customer as soon as the dispute opens...
    provisional_max_amount: Decimal = Field(Decimal("100"), ge=0)  # ...for amounts up to this
    max_amount: Decimal | None = None  # no automatic refund above this (agents may still approve by tag)
    approve_tag: str = "dispute_refund"  # an agent adds this tag to the ticket to issue the refund


class WriteBack(BaseModel):
    """What solving the dispute's ticket tells the bank."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    on_solve: BankStatus = "under_review"  # the agent solved it: evidence submitted, the network decides
    # A tag on the solved ticket naming the decision instead.
    tags: dict[str, BankStatus] = Field(default_factory=lambda: {"dispute_won": "won", "dispute_lost": "lost"})


class CustomerNotice(BaseModel):
    """Messages to the customer (through ``core_banking.send_notification``) with the status page link."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    channel: Literal["sms", "email", "push"] = "email"
    link_ttl_days: float = Field(60, gt=0)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket: TicketOptions = Field(default_factory=TicketOptions)
    reminder: Reminder = Field(default_factory=Reminder)
    refund: RefundPolicy = Field(default_factory=RefundPolicy)
    write_back: WriteBack = Field(default_factory=WriteBack)
    customer_notice: CustomerNotice = Field(default_factory=CustomerNotice)


_configs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def config_of(hub) -> Config:
    """The validated block, cached per hub."""
    found = _configs.get(hub)
    if found is None:
        found = hub.plugin_config("disputes")
        found = found if isinstance(found, Config) else Config.model_validate(found or {})
        _configs[hub] = found
    return found
