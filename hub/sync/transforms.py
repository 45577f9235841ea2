"""Named value transforms used by mappings: each has ``into`` (native → canonical) and ``out`` (canonical → native).

A mapping names a built-in (``time``, ``tag_category``, …) or defines a value map in its ``transforms:`` block:
``{map: {native: canonical, …}, out: {canonical: native, …}}`` (``out`` defaults to the inverse of ``map``,
first native value winning), with optional ``default_in`` / ``default_out`` for values the map does not name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from hub import clock
from hub.records import CATEGORIES

MARKER = re.compile(r"\s*\[db:[0-9a-f]{8}\]\s*$")


@dataclass(frozen=True)
class Transform:
    name: str
    into: Callable[[Any], Any]
    out: Callable[[Any], Any]
    merge_list: bool = False  # out values are appended to a native list another field also writes (tags)


def _same(value):
    return value


def _text(value):
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value):
    if value in (None, ""):
        return None
    return int(float(value))


def _float(value):
    if value in (None, ""):
        return None
    return float(value)


def _bool_in(value):
    """Checkboxes: unset reads as False (Salesforce booleans cannot be null, Zendesk's default to false)."""
    return bool(_bool(value))


def _bool(value):
    if value in (None, ""):
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def _lower(value):
    text = _text(value)
    return text.lower() if text else None


def _upper(value):
    text = _text(value)
    return text.upper() if text else None


def _time(value):
    """Any RFC 3339 / SOQL / epoch-millisecond time → RFC 3339 UTC, second precision."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        from datetime import datetime, timezone
        number = float(value)
        return clock.isoformat(datetime.fromtimestamp(number / 1000 if number > 1e11 else number, timezone.utc))
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{4}", text):  # SOQL +0000 offset
        text = text[:-2] + ":" + text[-2:]
    return clock.isoformat(clock.parse_time(text))


def _strip_marker(value):
    """A comment body without the hub's ``[db:…]`` marker (the marker is for idempotency, not content)."""
    if value is None:
        return None
    return MARKER.sub("", str(value)).strip() or None


def _tags_of(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [t for t in re.split(r"[;,\s]+", value) if t]
    return [str(t) for t in value if t]


def _category_in(value):
    return next((t for t in _tags_of(value) if t in CATEGORIES), None)


def _category_out(value):
    return [value] if value else []


def _tags_in(value):
    return sorted({t for t in _tags_of(value) if t not in CATEGORIES})


def _tags_out(value):
    return sorted(set(value or []))


def _join_in(value):
    parts = [str(p).strip() for p in (value if isinstance(value, (list, tuple)) else [value]) if p]
    return " ".join(p for p in parts if p) or None


def _join_out(value):
    """"Ada King Lovelace" → ["Ada King", "Lovelace"] (first names, last name)."""
    if not value:
        return [None, None]
    first, _, last = str(value).strip().rpartition(" ")
    return [first or None, last or None] if first else [None, last]


def _first_in(value):
    if isinstance(value, (list, tuple)):
        return _text(value[0]) if value else None
    return _text(value)


def _first_out(value):
    return [value] if value is not None else None


BUILTINS: dict[str, Transform] = {t.name: t for t in (
    Transform("none", _same, _same),
    Transform("text", _text, _text),
    Transform("int", _int, _int),
    Transform("float", _float, _float),
    Transform("bool", _bool_in, _bool),
    Transform("lower", _lower, _lower),
    Transform("upper", _lower, _upper),
    Transform("time", _time, _time),
    Transform("strip_marker", _strip_marker, _text),
    Transform("tag_category", _category_in, _category_out, merge_list=True),
    Transform("tags", _tags_in, _tags_out, merge_list=True),
    Transform("join_name", _join_in, _join_out),
    Transform("first", _first_in, _first_out),
)}


def value_map(name: str, spec: dict) -> Transform:
    """A ``map`` transform from its mapping block; keys compare case-insensitively on the way in."""
    forward = {str(k).lower(): v for k, v in (spec.get("map") or {}).items()}
    backward = dict(spec.get("out") or {})
    if not backward:
        for native, canonical in (spec.get("map") or {}).items():
            backward.setdefault(canonical, native)
    default_in, default_out = spec.get("default_in"), spec.get("default_out")

    def into(value):
        if value in (None, ""):
            return None
        return forward.get(str(value).lower(), default_in)

    def out(value):
        if value is None:
            return None
        return backward.get(value, default_out)

    return Transform(name, into, out)
