"""JSON Schemas (draft 2020-12) of the banking events (SPEC §2) and their validator.

``envelope.json`` pins ``{id, type, created_at, data}``; ``<type>.json`` adds each type's ``data``
fields; ``common.json`` holds shared field definitions. The files are the published contract.

Validation has two stages. A body is accepted when ``fastjsonschema``'s compiled check of the same schema
(generated Python, ~10x faster than walking the schema) passes; otherwise ``jsonschema`` decides and names the
failing field. The compiled check is never more lenient than ``jsonschema`` for these schemas (it is stricter
in one place: ``$`` in a pattern does not match before a trailing newline), so the outcome of every body is
``jsonschema``'s; tests/unit/webhooks/test_schemas.py checks the two against each other.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from hub.errors import DeskbridgeError

SCHEMA_DIR = Path(__file__).parent
# Error messages echo the offending value; never echo something that may be a card number.
_LONG_DIGITS = re.compile(r"\d[\d -]{10,}\d")


class SchemaError(DeskbridgeError):
    """A body failed its schema: ``field_path`` names the field (``data.risk_score``), ``message`` the problem."""

    def __init__(self, field_path: str, message: str):
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path
        self.message = message


def _load(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def _inline(node: object) -> object:
    """Replace our relative ``$ref``s by their targets: validating then needs no reference lookups (5x faster)."""
    if isinstance(node, list):
        return [_inline(item) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if ref is None:
        return {key: _inline(value) for key, value in node.items()}
    name, _, pointer = ref.partition("#")
    target: dict = _load(name)
    for part in filter(None, pointer.split("/")):
        target = target[part]
    target = {k: v for k, v in target.items() if k not in ("$id", "$schema", "title")}
    return _inline({**target, **{k: v for k, v in node.items() if k != "$ref"}})


_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


@lru_cache(maxsize=1)
def _known_types() -> frozenset[str]:
    return frozenset(event_types())


def event_types() -> list[str]:
    """Every banking event type that has a schema."""
    return list(_load("envelope.json")["properties"]["type"]["enum"])


def schema_for(event_type: str) -> dict:
    """The published JSON Schema of one event type."""
    if event_type not in event_types():
        raise KeyError(event_type)
    return _load(f"{event_type}.json")


@lru_cache(maxsize=None)
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(_inline(_load(name)), format_checker=_formats)


def _is_datetime_text(value: object) -> bool:
    try:
        return _is_datetime(value)
    except ValueError:
        return False


@lru_cache(maxsize=None)
def _fast_check(name: str):
    """The compiled check of one schema file."""
    schema = {k: v for k, v in _inline(_load(name)).items() if k != "$schema"}
    # Draft 7 keywords only (type, properties, required, const, enum, allOf, anyOf, items, lengths, patterns,
    # bounds, format) — the same meaning in draft 2020-12, which fastjsonschema does not name.
    return fastjsonschema.compile({**schema, "$schema": "http://json-schema.org/draft-07/schema#"},
                                  formats={"date-time": _is_datetime_text})


def _passes_fast(name: str, body: object) -> bool:
    try:
        _fast_check(name)(body)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def validate_event(body: object) -> None:
    """Raise ``SchemaError`` naming the first failing field, or return when ``body`` is a valid event."""
    event_type = body.get("type") if isinstance(body, dict) else None
    if isinstance(event_type, str) and event_type in _known_types() and _passes_fast(f"{event_type}.json", body):
        return  # each type's schema includes the envelope (allOf): one compiled check covers both
    for name in ("envelope.json", f"{body.get('type')}.json" if isinstance(body, dict) else None):
        if name is None:
            continue
        validator = _validator(name)
        if validator.is_valid(body):
            continue
        error = best_match(validator.iter_errors(body), key=_relevance)
        if error is not None:
            raise SchemaError(*_describe(error))


def _relevance(error: ValidationError):
    # Prefer the deepest, then the alphabetically first path, so the reported field is stable.
    return (-len(error.absolute_path), tuple(str(p) for p in error.absolute_path))


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(error: ValidationError) -> tuple[str, str]:
    parts = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            return _path(parts + [missing[0]]), "is required"
    if error.validator == "enum" and parts == ["type"]:
        return "type", f"{_LONG_DIGITS.sub('[redacted]', repr(error.instance))[:80]} is not a known banking event type"
    message = _LONG_DIGITS.sub("[redacted]", error.message)
    if len(message) > 200:
        message = message[:197] + "..."
    return _path(parts) or "body", message
