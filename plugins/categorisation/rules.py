"""Admin rules: keywords, regular expressions and field conditions → category, priority, group.

A rule matches when every kind of condition it has holds: any of its ``keywords`` (whole words or phrases,
case-insensitive), any of its ``patterns`` (regular expressions, case-insensitive) in the ticket's subject and
description, and all of its ``fields`` (ticket field → a value or a list of accepted values; a list-valued
ticket field such as ``tags`` matches when any element is accepted; dotted names such as
``customer.segment`` reach into nested dicts). Rules are tried in order: the first matching rule that sets a
category decides the category, and likewise for priority and group.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Category = Literal["payments", "cards", "disputes", "fees", "kyc_verification", "account_management",
                   "account_access", "compliance_fraud"]
Priority = Literal["low", "normal", "high", "urgent"]


class Rule(BaseModel):
    """One admin rule (see the module docstring for how conditions combine)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    fields: dict[str, str | list[str]] = Field(default_factory=dict)
    category: Category | None = None
    priority: Priority | None = None
    group: str | None = None

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return patterns

    @field_validator("keywords")
    @classmethod
    def _not_blank(cls, keywords: list[str]) -> list[str]:
        if any(not k.strip() for k in keywords):
            raise ValueError("keywords must not be blank")
        return keywords

    @model_validator(mode="after")
    def _useful(self) -> Rule:
        if not (self.keywords or self.patterns or self.fields):
            raise ValueError(f"rule {self.name!r} has no condition (keywords, patterns or fields)")
        if self.category is None and self.priority is None and self.group is None:
            raise ValueError(f"rule {self.name!r} sets nothing (category, priority or group)")
        return self


@dataclass
class RuleOutcome:
    """What the matching rules decided; ``None`` where no matching rule said."""

    category: str | None = None
    priority: str | None = None
    group: str | None = None
    category_rule: str | None = None
    matched: list[str] = field(default_factory=list)


def ticket_text(ticket: Mapping) -> str:
    """Subject and description, the text rules and the model read."""
    parts = [str(ticket.get(name) or "").strip() for name in ("subject", "description")]
    return "\n".join(p for p in parts if p)


def evaluate(rules: list[Rule], ticket: Mapping) -> RuleOutcome:
    """Apply ``rules`` in order to a canonical ticket dict."""
    outcome = RuleOutcome()
    text = ticket_text(ticket)
    for rule in rules:
        if not matches(rule, ticket, text):
            continue
        outcome.matched.append(rule.name)
        if outcome.category is None and rule.category is not None:
            outcome.category, outcome.category_rule = rule.category, rule.name
        if outcome.priority is None and rule.priority is not None:
            outcome.priority = rule.priority
        if outcome.group is None and rule.group is not None:
            outcome.group = rule.group
    return outcome


def matches(rule: Rule, ticket: Mapping, text: str | None = None) -> bool:
    text = ticket_text(ticket) if text is None else text
    if rule.keywords and not any(_keyword(k).search(text) for k in rule.keywords):
        return False
    if rule.patterns and not any(_pattern(p).search(text) for p in rule.patterns):
        return False
    return all(_field_matches(lookup(ticket, name), wanted) for name, wanted in rule.fields.items())


def lookup(ticket: Mapping, dotted: str) -> object:
    value: object = ticket
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _field_matches(actual: object, wanted: str | list[str]) -> bool:
    accepted = {w.casefold() for w in ([wanted] if isinstance(wanted, str) else wanted)}
    values = actual if isinstance(actual, (list, tuple, set)) else [actual]
    return any(v is not None and str(v).casefold() in accepted for v in values)


@lru_cache(maxsize=1024)
def _keyword(keyword: str) -> re.Pattern[str]:
    # Word boundaries only where the keyword starts/ends with a word character, so "3-D secure" still works.
    words = r"\s+".join(re.escape(w) for w in keyword.split())
    start = r"\b" if re.match(r"\w", keyword.strip()) else ""
    end = r"\b" if re.search(r"\w$", keyword.strip()) else ""
    return re.compile(start + words + end, re.IGNORECASE)


@lru_cache(maxsize=1024)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)
