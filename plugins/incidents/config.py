"""The ``plugins.incidents`` block."""

from __future__ import annotations

import string
import weakref
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Priority = Literal["low", "normal", "high", "urgent"]
PLACEHOLDERS = {"title", "incident_id", "severity"}


def _check_template(value: str) -> str:
    names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    unknown = names - PLACEHOLDERS
    if unknown:
        raise ValueError(f"unknown placeholder {sorted(unknown)[0]!r}; use {', '.join(sorted(PLACEHOLDERS))}")
    return value


class ProblemTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(default_factory=lambda: ["incident", "incident_problem"])
    group: str | None = None
    # Severity (as the bank names it, lower case) → ticket priority; anything else gets ``default_priority``.
    severity_priority: dict[str, Priority] = Field(default_factory=lambda: {
        "critical": "urgent", "sev1": "urgent", "major": "high", "high": "high", "sev2": "high",
        "minor": "normal", "low": "low"})
    default_priority: Priority = "high"
    solve_on_resolve: bool = True


class Notices(BaseModel):
    """Proactive messages to affected customers through ``core_banking.send_notification``."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    channel: Literal["sms", "email", "push"] = "email"
    per_run: int = Field(50, ge=1, le=1000)  # customers handled per batch; further batches by the job
    batch_seconds: float = Field(60, ge=1)  # how often the job starts the next batch
    max_audience: int = Field(100000, ge=1)  # a segment larger than this is cut here (and the cut is noted)
    opened: str = ("We are aware of an issue affecting {title}. Our team is working on it; we will let you "
                   "know when it is resolved. You do not need to contact us about it.")
    resolved: str = "The issue affecting {title} has been resolved. Thank you for your patience."

    @field_validator("opened", "resolved")
    @classmethod
    def _templates(cls, value: str) -> str:
        return _check_template(value)


class OpenTickets(BaseModel):
    """Affected customers' open tickets: tagged, with a suggested public reply as an internal note."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    tags: list[str] = Field(default_factory=lambda: ["incident"])  # plus ``incident_<id>``
    reply_draft: str = ("Hello,\n\nthank you for getting in touch. We are aware of an issue affecting {title} "
                        "and our team is working on it with priority. We will update you here as soon as it "
                        "is resolved.\n\nKind regards")
    resolved_draft: str = ("Hello,\n\nthe issue affecting {title} has now been resolved. If you still see a "
                           "problem, reply here and we will look into it straight away.\n\nKind regards")

    @field_validator("reply_draft", "resolved_draft")
    @classmethod
    def _templates(cls, value: str) -> str:
        return _check_template(value)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    problem_ticket: ProblemTicket = Field(default_factory=ProblemTicket)
    notices: Notices = Field(default_factory=Notices)
    open_tickets: OpenTickets = Field(default_factory=OpenTickets)


_configs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def config_of(hub) -> Config:
    """The validated block, cached per hub."""
    found = _configs.get(hub)
    if found is None:
        found = hub.plugin_config("incidents")
        found = found if isinstance(found, Config) else Config.model_validate(found or {})
        _configs[hub] = found
    return found
