"""Zendesk webhook signatures.

``X-Zendesk-Webhook-Signature`` = base64(HMAC-SHA256(signing secret as UTF-8, timestamp + raw body))
where the timestamp is the exact text of ``X-Zendesk-Webhook-Signature-Timestamp`` (ISO-8601).
Zendesk documents no replay window; we apply the hub's 300 s one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.clock import parse_time
from webhooks.verifiers import TOLERANCE_SECONDS, VerificationError, check_timestamp, require_header, secret_list

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", re.ASCII)


@dataclass(frozen=True)
class VerifiedZendesk:
    signed_at: datetime


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value Zendesk would send (tests, bench, sandbox)."""
    return _signature(secret.encode("utf-8"), timestamp, body).decode("ascii")


def _signature(key: bytes, timestamp: str, body: bytes) -> bytes:
    return base64.b64encode(hmac.new(key, timestamp.encode("ascii") + body, hashlib.sha256).digest())


class ZendeskVerifier:
    """Verifies Zendesk deliveries against any of several signing secrets."""

    def __init__(self, secrets: str | Sequence[str], tolerance: int = TOLERANCE_SECONDS):
        self._keys = [s.encode("utf-8") for s in secret_list(secrets, "Zendesk")]
        self.tolerance = tolerance

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime | None = None) -> VerifiedZendesk:
        signature = require_header(headers, SIGNATURE_HEADER).encode("ascii")
        timestamp = require_header(headers, TIMESTAMP_HEADER)
        if not _ISO.fullmatch(timestamp):
            raise VerificationError(f"{TIMESTAMP_HEADER} header is not an ISO-8601 time")
        try:
            signed_at = parse_time(timestamp)
        except ValueError:
            raise VerificationError(f"{TIMESTAMP_HEADER} header is not a valid time") from None
        check_timestamp(signed_at.timestamp(), now, self.tolerance)
        for key in self._keys:
            if hmac.compare_digest(_signature(key, timestamp, body), signature):
                return VerifiedZendesk(signed_at=signed_at)
        raise VerificationError(f"{SIGNATURE_HEADER} does not match")
