"""The ``plugins.sentiment`` config block."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Config(BaseModel):
    """Thresholds for labels and escalation, who counts as the customer, and the CSAT follow-up."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    neutral_band: float = Field(0.2, gt=0.0, lt=1.0, description="|score| below this is labelled neutral")
    strong_negative: float = Field(-0.6, ge=-1.0, lt=0.0,
                                   description="a score at or below this tags the ticket and raises its priority")
    negative_tag: str = "negative_sentiment"
    raise_priority: bool = Field(True, description="raise priority one step on strongly negative text")
    customer_roles: list[str] = Field(
        default_factory=lambda: ["end-user", "end_user", "customer", "requester", "contact"],
        description="comment author roles that are the customer (agents' replies are not scored)")
    csat_bad_tag: str = "csat_bad"
    csat_followup: bool = Field(True, description="a bad rating adds an internal note and the csat_bad tag")
