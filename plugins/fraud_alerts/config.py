"""The ``plugins.fraud_alerts`` block."""

from __future__ import annotations

import weakref
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SEGMENTS = ("end_user", "merchant", "investor")


class AutoFreeze(BaseModel):
    """When the hub may freeze a card on its own: all three must hold."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    min_risk_score: float = Field(0.9, ge=0, le=1)  # freeze at or above this score
    segments: list[Literal["end_user", "merchant", "investor"]] = Field(default_factory=lambda: ["end_user"])


class Notify(BaseModel):
    """The fraud team's Slack-compatible webhook."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: str | None = None
    every_alert: bool = False  # False: once per case (when it opens); True: for each alert


class TicketOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Literal["low", "normal", "high", "urgent"] = "urgent"
    tags: list[str] = Field(default_factory=lambda: ["compliance_fraud", "fraud_alert"])
    group: str | None = None  # a Zendesk group name, e.g. "Fraud"
    risk_score_field: str | None = "Risk score"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_hours: float = Field(24, gt=0)  # alerts for one customer this close together form one case
    ticket: TicketOptions = Field(default_factory=TicketOptions)
    notify: Notify = Field(default_factory=Notify)
    auto_freeze: AutoFreeze = Field(default_factory=AutoFreeze)

    @field_validator("ticket")
    @classmethod
    def _category_tag(cls, value: TicketOptions) -> TicketOptions:
        if "compliance_fraud" not in value.tags:  # the category tag agents and SLA policies rely on
            value.tags = ["compliance_fraud", *value.tags]
        return value


_configs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def config_of(hub) -> Config:
    """The validated block, cached per hub."""
    found = _configs.get(hub)
    if found is None:
        found = _configs[hub] = hub.plugin_config("fraud_alerts")
    return found
