"""Inbound webhook verifiers, one module per signing scheme.

Every verifier works on the raw body bytes before anything parses them, compares with
``hmac.compare_digest``, accepts several secrets at once (rotation) and refuses timestamps more
than ``TOLERANCE_SECONDS`` away from the hub clock in either direction. A failure raises
``VerificationError`` whose message is one line naming the problem and never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hub import clock
from hub.errors import DeskbridgeError

TOLERANCE_SECONDS = 300
# Caps keep hostile headers cheap: a 10 000-entry signature list is refused, not looped over.
MAX_SIGNATURE_ENTRIES = 16
MAX_HEADER_LENGTH = 4096
MAX_ID_LENGTH = 255  # the inbox event_id column is 255 characters


class VerificationError(DeskbridgeError):
    """The request is not authentic (or not fresh). ``reason`` is safe to show to the sender."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def get_header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts and werkzeug ``Headers``."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


def require_header(headers: Mapping[str, str], name: str) -> str:
    """Return the header's value, ASCII-printable and of bounded length, or raise ``VerificationError``."""
    value = get_header(headers, name)
    if value is None or value.strip() == "":
        raise VerificationError(f"missing {name} header")
    if len(value) > MAX_HEADER_LENGTH:
        raise VerificationError(f"{name} header is too long")
    if not value.isascii() or not value.isprintable():
        raise VerificationError(f"{name} header contains non-ASCII or control characters")
    return value.strip()


def check_timestamp(signed_at: float, now: datetime | None, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Refuse a signing time more than ``tolerance`` seconds before or after now."""
    current = (now or clock.now()).timestamp()
    skew = signed_at - current
    if skew < -tolerance:
        raise VerificationError(f"timestamp is too old ({int(-skew)} s, tolerance {tolerance} s)")
    if skew > tolerance:
        raise VerificationError(f"timestamp is in the future ({int(skew)} s, tolerance {tolerance} s)")


def parse_unix_seconds(value: str, header: str, digits: int = 12) -> int:
    """A non-negative integer of at most ``digits`` digits (no sign, no exponent, no fraction)."""
    if not value.isdigit() or not value.isascii() or len(value) > digits:
        raise VerificationError(f"{header} header is not an integer timestamp")
    return int(value)


def secret_list(secrets: str | bytes | list | tuple, scheme: str) -> list:
    """Normalise the configured secrets; at least one non-empty secret is required."""
    if isinstance(secrets, (str, bytes)):
        secrets = [secrets]
    cleaned = [s.strip() if isinstance(s, str) else s for s in secrets if s]
    cleaned = [s for s in cleaned if s]
    if not cleaned:
        raise ValueError(f"no {scheme} webhook secret configured")
    return cleaned


__all__ = [
    "MAX_HEADER_LENGTH",
    "MAX_SIGNATURE_ENTRIES",
    "TOLERANCE_SECONDS",
    "VerificationError",
    "check_timestamp",
    "get_header",
    "parse_unix_seconds",
    "require_header",
    "secret_list",
]
