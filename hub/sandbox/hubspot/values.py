"""Property value checks and normalisation the way HubSpot applies them on write (all values end up strings)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

from hub.sandbox.hubspot.errors import property_problem

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CANONICAL_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_CANONICAL_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


def iso_ms(when: datetime) -> str:
    """``2024-05-01T12:00:00.000Z``: HubSpot's timestamp format."""
    when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_instant(value: str) -> datetime | None:
    """Epoch milliseconds or an ISO 8601 date/time -> aware UTC datetime; None when it is neither."""
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        try:
            return datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text), time(0), tzinfo=timezone.utc)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def as_text(raw) -> str | None:
    """JSON value -> HubSpot's string form; None and "" clear the property."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, (list, dict)):
        return None if not raw else str(raw)
    text = str(raw)
    return text if text != "" else None


def normalise(name: str, definition: dict, raw, type_name: str) -> tuple[str | None, dict | None]:
    """``(stored value, None)`` or ``(None, problem)`` for one property write."""
    text = as_text(raw)
    if text is None:
        return None, None
    kind = definition["type"]
    if kind != "string" and text != text.strip():
        return None, property_problem(name, "INVALID_WHITESPACE",
                                      f"{text!r} has leading or trailing whitespace, which is not allowed.")
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if number != number or abs(number) == float("inf") or "e" in text.lower():
            return None, _bad(name, "INVALID_INTEGER", f"{text} was not a valid number.", text)
        return text, None
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            return None, _bad(name, "INVALID_BOOLEAN", f"{text} was not a valid boolean.", text)
        return text.lower(), None
    if kind in ("datetime", "date"):
        instant = parse_instant(text)
        if instant is None:
            return None, _bad(name, "INVALID_DATE", f"{text} was not a valid date or epoch milliseconds.", text)
        if kind == "date":
            if instant.time() != time(0):
                return None, _bad(name, "INVALID_DATE",
                                  f"{text} is not at midnight UTC; date properties hold dates only.", text)
            return instant.date().isoformat(), None
        return iso_ms(instant), None
    if kind == "enumeration":
        allowed = [o["value"] for o in definition.get("options", [])]
        if allowed:
            values = text.split(";") if definition.get("fieldType") == "checkbox" else [text]
            wrong = [v for v in values if v not in allowed]
            if wrong:
                return None, _bad(name, "INVALID_OPTION",
                                  f"{wrong[0]} was not one of the allowed options: [{', '.join(allowed)}]", text)
        return text, None
    if name == "email" and type_name == "contacts" and not _EMAIL.match(text):
        return None, _bad(name, "INVALID_EMAIL", f"Email address {text} is invalid", text)
    return text, None


def _bad(name: str, error: str, message: str, value: str) -> dict:
    return property_problem(name, error, message) | {"propertyValue": value}


def compare_key(kind: str, value: str | None):
    """A sortable key for a stored value of property type ``kind`` (numbers and instants compare as such)."""
    if value is None:
        return None
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return None
    if kind == "datetime":
        # Stored datetimes are already canonical ISO-ms strings, which sort chronologically as text.
        if _CANONICAL_INSTANT.match(value):
            return value
        instant = parse_instant(value)
        return iso_ms(instant) if instant else None
    if kind == "date":
        if _CANONICAL_DATE.match(value):
            return value
        instant = parse_instant(value)
        return instant.date().isoformat() if instant else None
    return value.lower()
