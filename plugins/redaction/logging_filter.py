"""A ``logging.Filter`` that redacts every record: message, args, extra fields and exception text."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from plugins.redaction.redactor import Redactor

DEFAULT_SENSITIVE_KEYS = (
    "password", "passwd", "passphrase", "token", "secret", "authorization", "api_key", "apikey",
    "cookie", "session", "private_key", "credential", "signature", "kek", "otp",
    "cvv", "cvc", "pin", "track",
)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

# "Authorization: Bearer abc", "password=hunter2", "api_key": "k" inside free text.
_INLINE_SECRET = re.compile(
    r"(?i)(?P<label>\b(?:authorization|password|passwd|api[_-]?key|access[_-]?token|refresh[_-]?token|"
    r"client[_-]?secret|secret|token)\b[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>(?:bearer|basic)\s+[^\s\"',;&]+|[^\s\"',;&]+)"
)

REDACTED = "[REDACTED]"


class RedactingFilter(logging.Filter):
    """Redacts PANs, SAD, IBANs and national ids in records, and whole values under sensitive key names.

    Attach it to handlers (a filter on a logger does not see records propagated from child loggers);
    ``install_log_redaction`` does that for the root logger's handlers. It never drops a record.
    """

    def __init__(self, redactor: Redactor | None = None, sensitive_keys: Iterable[str] = DEFAULT_SENSITIVE_KEYS):
        super().__init__()
        self.redactor = redactor or Redactor()
        self.sensitive = tuple(k.lower().replace("-", "_") for k in sensitive_keys)

    def is_sensitive(self, key: object) -> bool:
        """True when a key name contains any sensitive word (``X-Api-Key``, ``webhook_secret``)."""
        name = str(key).lower().replace("-", "_")
        return any(word in name for word in self.sensitive)

    def redact_str(self, text: str) -> str:
        text = _INLINE_SECRET.sub(lambda m: m.group("label") + REDACTED, text)
        return self.redactor.redact_text(text)

    def redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact_str(value)
        if isinstance(value, Mapping):
            return {
                k: REDACTED if self.is_sensitive(k) and v not in (None, "") else self.redact_value(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return type(value)(self.redact_value(v) for v in value)
        if isinstance(value, int | float | bool) or value is None:
            return self.redactor.redact_payload(value)
        # Any other object is logged through its str(); redact that form.
        return self.redact_str(str(value))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must still not leak its args
            message = f"{record.msg} {record.args!r}"
        record.msg = self.redact_str(message)
        record.args = None
        for key in list(vars(record)):
            if key in _STANDARD_ATTRS:
                continue
            value = getattr(record, key)
            hidden = self.is_sensitive(key) and value not in (None, "")
            setattr(record, key, REDACTED if hidden else self.redact_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact_str(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact_str(record.stack_info)
        return True


def install_log_redaction(
    logger: logging.Logger | None = None, log_filter: RedactingFilter | None = None
) -> RedactingFilter:
    """Add one ``RedactingFilter`` to every handler of ``logger`` (root by default); idempotent."""
    target = logger or logging.getLogger()
    installed = log_filter or RedactingFilter()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(installed)
    return installed
