"""Structured JSON logs, one event per line, with a redaction list applied to every record.

Keys that name secrets are masked whatever their value; card numbers (Luhn-valid 13–19 digits with any
separators) are masked anywhere in messages and fields. CR/LF and other control characters can't forge lines:
every JSON record is one object on one line, and plain-text records escape them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

from hub import pan

SECRET_KEYS = re.compile(r"(pass(word)?|secret|token|authorization|api[_-]?key|cookie|session|cvv|cvc|pin|"
                         r"signature|private|credential)", re.I)
MASK = "[redacted]"


def mask_pans(text: str) -> str:
    """Mask every card number (any separators, HTML, escapes, base64) to its last four digits."""
    return pan.mask_text(text)


def mask_pans_deep(value: Any) -> Any:
    """Mask card numbers in every string of a JSON-like value (keys and structure kept)."""
    if isinstance(value, str):
        return mask_pans(value)
    if isinstance(value, dict):
        return {k: mask_pans_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_pans_deep(v) for v in value]
    return value


def redact_value(value: Any, key: str | None = None) -> Any:
    if key is not None and SECRET_KEYS.search(key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, str):
        return mask_pans(value)
    if isinstance(value, dict):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_pans(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = redact_value(value, key)
        if record.exc_info:
            entry["error"] = mask_pans(f"{record.exc_info[0].__name__}: {record.exc_info[1]}")
        return json.dumps(entry, default=str, ensure_ascii=True)


_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


class TextFormatter(logging.Formatter):
    """Plain ``LEVEL logger: message`` lines; control characters are escaped so user input can't start a line."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), super().format(record))


class RedactingFilter(logging.Filter):
    """Masks secrets and card numbers in a record before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg = mask_pans(message)
        record.args = ()
        return True


def setup_logging(level: str = "INFO", json_lines: bool = True, stream=None) -> None:
    import time
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_deskbridge", False):
            root.removeHandler(existing)
    handler._deskbridge = True
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("werkzeug", "urllib3", "apscheduler", "waitress", "alembic"):
        logging.getLogger(noisy).setLevel("WARNING")
