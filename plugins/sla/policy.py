"""SLA policies: conditions on a ticket → targets in minutes, counted on a named calendar. First match wins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plugins.sla.calendar import WEEKDAYS, Calendar, CalendarError, build_calendar, parse_range

TARGETS = ("first_response", "next_response", "resolution")
CALENDAR_TIME = "24x7"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarConfig(_Strict):
    """A business calendar: ``hours`` per weekday (``mon``..``sun``) as ``"09:00-17:00"`` ranges, or ``"24x7"``."""

    timezone: str = "UTC"
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]] | Literal["24x7"]
    country: str | None = None
    subdivision: str | None = None
    closed_dates: list[date] = Field(default_factory=list)
    open_dates: list[date] = Field(default_factory=list)

    @field_validator("hours")
    @classmethod
    def _ranges_parse(cls, hours):
        if isinstance(hours, dict):
            for ranges in hours.values():
                for text in ranges:
                    try:
                        parse_range(text)
                    except CalendarError as exc:
                        raise ValueError(exc.problems[0].message) from exc
        return hours

    @model_validator(mode="after")
    def _buildable(self):
        try:
            build_calendar("calendar", self.model_dump())
        except CalendarError as exc:
            raise ValueError(exc.problems[0].message) from exc
        return self


def _as_list(value):
    if value is None or isinstance(value, list):
        return value
    return [value]


class Conditions(_Strict):
    """Each given field must hold (a value or a list of allowed values); an empty block matches every ticket."""

    category: list[str] | None = None
    priority: list[str] | None = None
    segment: list[str] | None = None
    channel: list[str] | None = None

    @field_validator("category", "priority", "segment", "channel", mode="before")
    @classmethod
    def _lists(cls, value):
        return _as_list(value)

    def matches(self, ticket: Mapping) -> bool:
        for field in ("category", "priority", "segment", "channel"):
            allowed = getattr(self, field)
            if allowed is not None and ticket.get(field) not in allowed:
                return False
        return True


class Targets(_Strict):
    """Target durations in minutes of the policy's calendar; an absent target is not measured."""

    first_response: float | None = Field(default=None, gt=0)
    next_response: float | None = Field(default=None, gt=0)
    resolution: float | None = Field(default=None, gt=0)

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in TARGETS if getattr(self, name) is not None}


class Policy(_Strict):
    name: str
    when: Conditions = Field(default_factory=Conditions)
    targets: Targets
    calendar: str = CALENDAR_TIME

    @model_validator(mode="after")
    def _has_target(self):
        if not self.targets.as_dict():
            raise ValueError(f"policy {self.name!r} sets no target")
        return self


class SlaSettings(_Strict):
    """The SLA plugin's config block (``plugins: {sla: {...}}``)."""

    enabled: bool = True
    warning_share: float = Field(default=0.75, gt=0, lt=1)
    late_start_grace_minutes: float = Field(default=60, ge=0)
    calendars: dict[str, CalendarConfig] = Field(default_factory=dict)
    policies: list[Policy] = Field(default_factory=list)
    due_fields: dict[str, str] = Field(
        default_factory=lambda: {"first_response": "SLA first response due", "resolution": "SLA resolution due"}
    )
    # CRMs name fields by API name, not title; a target a CRM has no field for is not written there.
    crm_due_fields: dict[str, dict[str, str]] = Field(
        default_factory=lambda: {"salesforce": {"first_response": "SLA_First_Response_Due__c"},
                                 "hubspot": {"first_response": "sla_first_response_due"}}
    )

    @model_validator(mode="after")
    def _references(self):
        names = set(self.calendars) | {CALENDAR_TIME}
        for policy in self.policies:
            if policy.calendar not in names:
                raise ValueError(f"policy {policy.name!r} uses unknown calendar {policy.calendar!r}")
        seen = set()
        for policy in self.policies:
            if policy.name in seen:
                raise ValueError(f"policy name {policy.name!r} is used twice")
            seen.add(policy.name)
        for target in [*self.due_fields, *(t for names in self.crm_due_fields.values() for t in names)]:
            if target not in TARGETS:
                raise ValueError(f"due_fields: unknown target {target!r}; use {list(TARGETS)}")
        return self

    def build_calendars(self) -> dict[str, Calendar]:
        calendars: dict[str, Calendar] = {CALENDAR_TIME: Calendar()}
        for name, spec in self.calendars.items():
            calendars[name] = build_calendar(name, spec.model_dump())
        return calendars


def match_policy(policies: Sequence[Policy], ticket: Mapping) -> Policy | None:
    """The first policy whose conditions hold for the canonical ticket dict, or ``None``."""
    for policy in policies:
        if policy.when.matches(ticket):
            return policy
    return None


__all__ = [
    "CALENDAR_TIME",
    "TARGETS",
    "WEEKDAYS",
    "CalendarConfig",
    "Conditions",
    "Policy",
    "SlaSettings",
    "Targets",
    "match_policy",
]
