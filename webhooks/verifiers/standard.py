"""Standard Webhooks (https://www.standardwebhooks.com), the banking systems' scheme.

Signed content is ``{webhook-id}.{webhook-timestamp}.{raw body}``; the signature header holds
space-separated ``v1,<base64 HMAC-SHA256>`` entries; secrets are ``whsec_`` + base64 key bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from webhooks.verifiers import (
    MAX_ID_LENGTH,
    MAX_SIGNATURE_ENTRIES,
    TOLERANCE_SECONDS,
    VerificationError,
    check_timestamp,
    parse_unix_seconds,
    require_header,
    secret_list,
)

SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class VerifiedMessage:
    """What a successful verification vouches for."""

    msg_id: str
    timestamp: int


def decode_secret(secret: str) -> bytes:
    """Key bytes of a ``whsec_`` secret (the prefix is optional, padding may be missing)."""
    text = secret.strip()
    if text.startswith(SECRET_PREFIX):
        text = text[len(SECRET_PREFIX):]
    text = text.rstrip("=")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("Standard Webhooks secret is not valid base64") from None
    if not key:
        raise ValueError("Standard Webhooks secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature entry for one message (used by tests, bench and emitters)."""
    return "v1," + _signature(decode_secret(secret), msg_id, timestamp, body).decode("ascii")


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    signed = msg_id.encode("ascii") + b"." + str(timestamp).encode("ascii") + b"." + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())


class StandardWebhookVerifier:
    """Verifies Standard Webhooks deliveries against any of several secrets."""

    def __init__(self, secrets: str | Sequence[str], tolerance: int = TOLERANCE_SECONDS):
        self._keys = [decode_secret(s) for s in secret_list(secrets, "Standard Webhooks")]
        self.tolerance = tolerance

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime | None = None) -> VerifiedMessage:
        """Return the verified id and timestamp, or raise ``VerificationError``."""
        msg_id = require_header(headers, "webhook-id")
        raw_ts = require_header(headers, "webhook-timestamp")
        raw_sig = require_header(headers, "webhook-signature")
        if len(msg_id) > MAX_ID_LENGTH:
            raise VerificationError("webhook-id header is too long")
        # The spec forbids "." in id and timestamp: it would make the signed content ambiguous.
        if "." in msg_id or " " in msg_id:
            raise VerificationError("webhook-id header contains '.' or a space")
        timestamp = parse_unix_seconds(raw_ts, "webhook-timestamp")
        candidates = _v1_signatures(raw_sig)
        check_timestamp(timestamp, now, self.tolerance)
        for key in self._keys:
            expected = _signature(key, msg_id, timestamp, body)
            # Compare the canonical base64 text, not decoded bytes: lenient decoding would accept
            # variants whose unused trailing bits differ.
            if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
                return VerifiedMessage(msg_id=msg_id, timestamp=timestamp)
        raise VerificationError("no matching signature in webhook-signature header")


def _v1_signatures(header: str) -> list[bytes]:
    entries = header.split()
    if len(entries) > MAX_SIGNATURE_ENTRIES:
        raise VerificationError(f"webhook-signature header has more than {MAX_SIGNATURE_ENTRIES} entries")
    found = []
    for entry in entries:
        version, sep, value = entry.partition(",")
        if not sep:
            raise VerificationError("webhook-signature entry is not 'version,signature'")
        if version == "v1" and value:
            found.append(value.encode("ascii"))
    if not found:
        raise VerificationError("webhook-signature header has no v1 signature")
    return found
