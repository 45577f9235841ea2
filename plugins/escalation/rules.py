"""Escalation rules: conditions on a ticket → levels (trigger + timer) → actions. Evaluation is pure.

A rule applies while its conditions hold (category, priority, segment, channel, amount over a threshold,
repeated contact). Each level is armed by its trigger — the rule matching (``match``), an SLA warning or breach
(optionally for given targets), or the previous level firing (``previous``) — and fires ``after_minutes``
later if the ticket is still open and the rule still applies. A level fires at most once per ticket; a solved
ticket closes every escalation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.clock import parse_time
from plugins.escalation.messages import email_message, slack_message

PRIORITIES = ("low", "normal", "high", "urgent")
SOLVED_STATUSES = frozenset({"solved", "closed"})
LevelTrigger = Literal["match", "sla.warning", "sla.breached", "previous"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value):
    return [value] if isinstance(value, str) else value


class Reassign(_Strict):
    group: str | None = None
    tier: str | None = None

    @model_validator(mode="after")
    def _one(self):
        if self.group is None and self.tier is None:
            raise ValueError("reassign needs a group or a tier")
        return self


class NotifyWebhook(_Strict):
    url: str = Field(pattern=r"^https?://")


class Email(_Strict):
    to: list[str] = Field(min_length=1)
    subject: str | None = None

    _to_list = field_validator("to", mode="before")(classmethod(lambda cls, v: _as_list(v)))


class ActionSpec(_Strict):
    """Exactly one of the fields."""

    reassign: Reassign | None = None
    raise_priority: Literal["low", "normal", "high", "urgent"] | None = None
    add_followers: list[str] | None = None
    notify_webhook: NotifyWebhook | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"an action sets exactly one of {list(type(self).model_fields)}, got {given or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)


class Level(_Strict):
    trigger: LevelTrigger = "match"
    target: list[str] | None = None
    after_minutes: float = Field(default=0, ge=0)
    actions: list[ActionSpec] = Field(min_length=1)

    _target_list = field_validator("target", mode="before")(classmethod(lambda cls, v: _as_list(v)))


class RepeatedContact(_Strict):
    tickets: int = Field(ge=2)
    within_hours: float = Field(gt=0)


class RuleConditions(_Strict):
    category: list[str] | None = None
    priority: list[str] | None = None
    segment: list[str] | None = None
    channel: list[str] | None = None
    amount_over: float | None = None
    repeated_contact: RepeatedContact | None = None

    _lists = field_validator("category", "priority", "segment", "channel", mode="before")(
        classmethod(lambda cls, v: _as_list(v))
    )


class Rule(_Strict):
    name: str
    when: RuleConditions = Field(default_factory=RuleConditions)
    levels: list[Level] = Field(min_length=1)

    @model_validator(mode="after")
    def _previous_has_a_predecessor(self):
        if self.levels[0].trigger == "previous":
            raise ValueError(f"rule {self.name!r}: the first level cannot have trigger 'previous'")
        return self


class EscalationSettings(_Strict):
    """The escalation plugin's config block (``plugins: {escalation: {...}}``)."""

    enabled: bool = True
    rules: list[Rule] = Field(default_factory=list)
    max_contact_window_hours: float = Field(default=24 * 30, gt=0)

    @model_validator(mode="after")
    def _unique_names(self):
        names = [rule.name for rule in self.rules]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"rule names used twice: {twice}")
        return self


@dataclass(frozen=True)
class Trigger:
    """What happened: ``ticket`` (created/updated), ``sla.warning``, ``sla.breached`` or ``tick`` (timers)."""

    kind: str
    at: datetime
    target: str | None = None


@dataclass
class Action:
    """One thing to do; ``key`` is the idempotency key, unique per ticket, rule, level and action."""

    kind: str  # reassign | raise_priority | add_followers | notify_webhook | email
    params: dict
    rule: str
    level: int
    key: str


@dataclass
class TicketState:
    """What escalation knows of one ticket; serialisable with ``to_dict``/``from_dict``.

    ``facts`` is the canonical ticket (``system``, ``id``, ``status``, ``priority``, ``category``, ``segment``,
    ``channel``, ``amount``, ``url``); ``contacts`` the times of this customer's tickets (the caller keeps
    them); ``levels`` maps ``"<rule>#<level>"`` to ``{"armed_at", "fire_at", "fired_at", "reason"}``.
    """

    ticket: str
    facts: dict = field(default_factory=dict)
    contacts: list[datetime] = field(default_factory=list)
    levels: dict[str, dict] = field(default_factory=dict)
    closed: bool = False

    def to_dict(self) -> dict:
        return {
            "ticket": self.ticket,
            "facts": dict(self.facts),
            "contacts": [_iso(at) for at in self.contacts],
            "levels": {key: dict(value) for key, value in self.levels.items()},
            "closed": self.closed,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> TicketState:
        return cls(
            ticket=data["ticket"],
            facts=dict(data.get("facts", {})),
            contacts=[parse_time(at) for at in data.get("contacts", [])],
            levels={key: dict(value) for key, value in data.get("levels", {}).items()},
            closed=bool(data.get("closed", False)),
        )

    def next_timer(self) -> datetime | None:
        """Earliest armed level waiting on its timer, or ``None``."""
        if self.closed:
            return None
        pending = [parse_time(v["fire_at"]) for v in self.levels.values() if not v.get("fired_at")]
        return min(pending, default=None)


def conditions_hold(conditions: RuleConditions, state: TicketState, at: datetime) -> bool:
    facts = state.facts
    for name in ("category", "priority", "segment", "channel"):
        allowed = getattr(conditions, name)
        if allowed is not None and facts.get(name) not in allowed:
            return False
    if conditions.amount_over is not None:
        amount = facts.get("amount")
        if amount is None or float(amount) <= conditions.amount_over:
            return False
    repeated = conditions.repeated_contact
    if repeated is not None:
        since = at - timedelta(hours=repeated.within_hours)
        if sum(1 for contact in state.contacts if since <= contact <= at) < repeated.tickets:
            return False
    return True


def evaluate(rules: Sequence[Rule], state: TicketState, trigger: Trigger, now: datetime) -> list[Action]:
    """Arm and fire levels for ``trigger`` at ``now``; records what fired in ``state`` and returns the actions."""
    if state.closed:
        return []
    if str(state.facts.get("status", "")).lower() in SOLVED_STATUSES:
        state.closed = True
        return []
    actions: list[Action] = []
    for rule in rules:
        if not conditions_hold(rule.when, state, trigger.at):
            continue
        previous_fired_at: datetime | None = None
        for index, level in enumerate(rule.levels, start=1):
            key = f"{rule.name}#{index}"
            record = state.levels.get(key)
            if record is None:
                armed_at = _arming_time(level, trigger, previous_fired_at)
                if armed_at is not None:
                    record = state.levels[key] = {
                        "armed_at": _iso(armed_at),
                        "fire_at": _iso(armed_at + timedelta(minutes=level.after_minutes)),
                        "fired_at": None,
                        "reason": _reason(level, trigger),
                    }
            previous_fired_at = None
            if record is None or record["fired_at"]:
                continue
            if parse_time(record["fire_at"]) <= now:
                record["fired_at"] = _iso(now)
                previous_fired_at = now
                actions.extend(_actions(rule, index, level, state, record["reason"]))
    return actions


def _arming_time(level: Level, trigger: Trigger, previous_fired_at: datetime | None) -> datetime | None:
    if level.trigger == "previous":
        return previous_fired_at
    if level.trigger == "match":
        return trigger.at
    if trigger.kind == level.trigger and (level.target is None or trigger.target in level.target):
        return trigger.at
    return None


def _reason(level: Level, trigger: Trigger) -> str:
    if trigger.kind in ("sla.warning", "sla.breached") and level.trigger == trigger.kind:
        word = "warning" if trigger.kind == "sla.warning" else "breached"
        return f"SLA {(trigger.target or 'target').replace('_', ' ')} {word}"
    if level.trigger == "previous":
        return "previous level not resolved"
    return "rule matched"


def _actions(rule: Rule, index: int, level: Level, state: TicketState, reason: str) -> list[Action]:
    result = []
    for number, spec in enumerate(level.actions, start=1):
        key = f"esc:{state.ticket}:{rule.name}:{index}:{number}"
        kind = spec.kind
        if kind == "reassign":
            params = spec.reassign.model_dump(exclude_none=True)
        elif kind == "raise_priority":
            current = state.facts.get("priority")
            rank = PRIORITIES.index(current) if current in PRIORITIES else -1
            if PRIORITIES.index(spec.raise_priority) <= rank:
                continue  # raising never lowers, and an equal priority needs no write
            params = {"priority": spec.raise_priority}
            state.facts["priority"] = spec.raise_priority
        elif kind == "add_followers":
            params = {"followers": list(spec.add_followers)}
        elif kind == "notify_webhook":
            params = {"url": spec.notify_webhook.url, "json": slack_message(state, rule.name, index, reason)}
        else:
            params = {"to": list(spec.email.to), **email_message(state, rule.name, index, reason, spec.email.subject)}
        result.append(Action(kind, params, rule.name, index, key))
    return result


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()
