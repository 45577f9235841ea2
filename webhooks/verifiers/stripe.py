"""Stripe webhook signatures: ``Stripe-Signature: t=<unix s>,v1=<hex>,v1=<hex>...``.

``v1`` is the hex HMAC-SHA256 of ``f"{t}.{raw body}"`` keyed with the whole ``whsec_...`` string.
Unlike the Stripe SDK we also refuse timestamps more than the tolerance in the future.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from webhooks.verifiers import (
    MAX_SIGNATURE_ENTRIES,
    TOLERANCE_SECONDS,
    VerificationError,
    check_timestamp,
    parse_unix_seconds,
    require_header,
    secret_list,
)

HEADER = "Stripe-Signature"


@dataclass(frozen=True)
class VerifiedStripe:
    timestamp: int


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """A ``Stripe-Signature`` header value for one body (tests, bench)."""
    return f"t={timestamp},v1={_hex(secret.encode('utf-8'), timestamp, body).decode('ascii')}"


def _hex(key: bytes, timestamp: int, body: bytes) -> bytes:
    return hmac.new(key, str(timestamp).encode("ascii") + b"." + body, hashlib.sha256).hexdigest().encode("ascii")


class StripeVerifier:
    """Verifies ``Stripe-Signature`` against any of several endpoint secrets."""

    def __init__(self, secrets: str | Sequence[str], tolerance: int = TOLERANCE_SECONDS):
        self._keys = [s.encode("utf-8") for s in secret_list(secrets, "Stripe")]
        self.tolerance = tolerance

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime | None = None) -> VerifiedStripe:
        header = require_header(headers, HEADER)
        timestamp, candidates = _parse(header)
        check_timestamp(timestamp, now, self.tolerance)
        for key in self._keys:
            expected = _hex(key, timestamp, body)
            if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
                return VerifiedStripe(timestamp=timestamp)
        raise VerificationError("no matching v1 signature in Stripe-Signature header")


def _parse(header: str) -> tuple[int, list[bytes]]:
    items = header.split(",")
    if len(items) > MAX_SIGNATURE_ENTRIES + 1:
        raise VerificationError(f"Stripe-Signature header has more than {MAX_SIGNATURE_ENTRIES} entries")
    timestamp: int | None = None
    signatures: list[bytes] = []
    for item in items:
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise VerificationError("Stripe-Signature entry is not 'key=value'")
        if key == "t":
            if timestamp is not None:
                raise VerificationError("Stripe-Signature header has more than one timestamp")
            timestamp = parse_unix_seconds(value, HEADER)
        elif key == "v1" and value:
            signatures.append(value.encode("ascii"))
    if timestamp is None:
        raise VerificationError("Stripe-Signature header has no timestamp")
    if not signatures:
        raise VerificationError("Stripe-Signature header has no v1 signature")
    return timestamp, signatures
