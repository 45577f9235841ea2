"""Field values: JSON in (validated and coerced per field type) and JSON out (Salesforce formats)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, datetime, timezone

from hub.sandbox.salesforce import ids
from hub.sandbox.salesforce.errors import SalesforceApiError, json_parser_error
from hub.sandbox.salesforce.schema import NUMBER_TYPES, Field

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_datetime(value: datetime) -> str:
    """Salesforce's wire format: ``2024-05-01T12:00:00.000+0000``."""
    v = value.astimezone(timezone.utc)
    # Hand-formatted: strftime dominated the cost of rendering large query pages.
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}."
            f"{v.microsecond // 1000:03d}+0000")


def parse_datetime(text: str) -> datetime:
    """Accepts ``Z``, ``+hh:mm`` and ``+hhmm`` offsets and optional fractions; naive means UTC."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    match = re.match(r"^(.*[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([+-]\d{2})(\d{2})$", value)
    if match:
        value = f"{match.group(1)}{match.group(2)}:{match.group(3)}"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    parsed = parsed.astimezone(timezone.utc)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def truncate_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def to_json(field: Field, value: object) -> object:
    if value is None:
        return None
    if field.type == "datetime":
        return format_datetime(value)  # type: ignore[arg-type]
    if field.type == "date":
        return value.isoformat()  # type: ignore[union-attr]
    if field.type == "base64":
        # Real REST returns a blob URL for base64 fields instead of inline content.
        return None
    return value


def _type_error(kind: str, value: object) -> SalesforceApiError:
    token = "VALUE_STRING" if isinstance(value, str) else "VALUE_" + type(value).__name__.upper()
    return json_parser_error(f"Cannot deserialize instance of {kind} from {token} value {value} or request may "
                             "be missing a required field")


def coerce(sobject_name: str, field: Field, value: object) -> object:
    """The stored value for ``value`` written to ``field``, or a SalesforceApiError like the real API's."""
    if value is None or (value == "" and field.type not in ("string", "textarea")):
        return None
    kind = field.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _type_error("boolean", value)
    if kind in NUMBER_TYPES:
        if isinstance(value, bool):
            raise _type_error(kind, value)
        try:
            number = float(value) if not isinstance(value, (int, float)) else value
        except (TypeError, ValueError):
            raise _type_error("double" if kind != "int" else "int", value) from None
        if kind == "int":
            if float(number) != int(number):
                raise _type_error("int", value)
            return int(number)
        return float(number)
    if kind == "datetime":
        if not isinstance(value, str):
            raise _type_error("datetime", value)
        try:
            return parse_datetime(value)
        except ValueError:
            raise _type_error("datetime", value) from None
    if kind == "date":
        if not isinstance(value, str) or not _DATE_RE.match(value[:10]):
            raise _type_error("date", value)
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            raise _type_error("date", value) from None
    if kind == "base64":
        if not isinstance(value, str):
            raise _type_error("base64", value)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise json_parser_error(f"Illegal character in base64 content of {field.name}") from None
    if isinstance(value, (dict, list)):
        raise json_parser_error(f"Cannot deserialize instance of string from START_OBJECT value for {field.name}")
    text = value if isinstance(value, str) else (str(value).lower() if isinstance(value, bool) else str(value))
    if kind == "reference":
        if not ids.is_well_formed(text):
            raise SalesforceApiError(400, "MALFORMED_ID", f"{field.label}: id value of incorrect type: {text}",
                                     [field.name])
        return ids.to18(text)
    if len(text) > field.max_length:
        raise SalesforceApiError(400, "STRING_TOO_LONG",
                                 f"{field.label}: data value too large: {text[:255]} (max length={field.max_length})",
                                 [field.name])
    if kind == "email" and not _EMAIL_RE.match(text):
        raise SalesforceApiError(400, "INVALID_EMAIL_ADDRESS", f"{field.label}: invalid email address: {text}",
                                 [field.name])
    if kind == "picklist" and field.restricted and text not in field.picklist:
        raise SalesforceApiError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                 f"{field.label}: bad value for restricted picklist field: {text}", [field.name])
    return text
