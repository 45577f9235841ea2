"""HubSpot webhook signatures (v3, and v1/v2 when ``X-HubSpot-Signature-Version`` asks for them).

v3: ``X-HubSpot-Signature-v3`` = base64(HMAC-SHA256(client secret, method + uri + raw body + timestamp))
with ``X-HubSpot-Request-Timestamp`` in epoch milliseconds. v1: hex SHA-256(secret + body);
v2: hex SHA-256(secret + method + uri + body) — both carry no timestamp, so they cannot stop replays
(the inbox's dedupe on ``eventId`` still does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from webhooks.verifiers import (
    TOLERANCE_SECONDS,
    VerificationError,
    check_timestamp,
    get_header,
    parse_unix_seconds,
    require_header,
    secret_list,
)

V3_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
LEGACY_HEADER = "X-HubSpot-Signature"
VERSION_HEADER = "X-HubSpot-Signature-Version"
# HubSpot signs the URI with these escapes decoded (developers.hubspot.com, "Validating requests").
_DECODED = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}


@dataclass(frozen=True)
class VerifiedHubSpot:
    version: str
    timestamp_ms: int | None


def normalise_uri(uri: str) -> str:
    """Decode the escapes HubSpot decodes before signing."""
    for escaped, char in _DECODED.items():
        uri = uri.replace(escaped, char).replace(escaped.lower(), char)
    return uri


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    """The ``X-HubSpot-Signature-v3`` value HubSpot would send (tests, bench, sandbox)."""
    return _v3(secret.encode("utf-8"), method, normalise_uri(uri), body, timestamp_ms).decode("ascii")


def _v3(key: bytes, method: str, uri: str, body: bytes, timestamp_ms: int | str) -> bytes:
    message = method.encode("ascii") + uri.encode("utf-8") + body + str(timestamp_ms).encode("ascii")
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest())


def _legacy(key: bytes, version: str, method: str, uri: str, body: bytes) -> bytes:
    parts = key + body if version == "v1" else key + method.encode("ascii") + uri.encode("utf-8") + body
    return hashlib.sha256(parts).hexdigest().encode("ascii")


class HubSpotVerifier:
    """Verifies HubSpot deliveries against any of several app client secrets."""

    def __init__(self, secrets: str | Sequence[str], tolerance: int = TOLERANCE_SECONDS, allow_legacy: bool = True):
        self._keys = [s.encode("utf-8") for s in secret_list(secrets, "HubSpot")]
        self.tolerance = tolerance
        self.allow_legacy = allow_legacy

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        method: str,
        uris: str | Sequence[str],
        now: datetime | None = None,
    ) -> VerifiedHubSpot:
        """``uris``: the request's full URL as HubSpot called it (several candidates when behind a proxy)."""
        candidates = [normalise_uri(u) for u in ([uris] if isinstance(uris, str) else uris)]
        method = method.upper()
        if get_header(headers, V3_HEADER) is not None or not self.allow_legacy:
            return self._verify_v3(headers, body, method, candidates, now)
        version = (get_header(headers, VERSION_HEADER) or "").strip().lower()
        if version not in ("v1", "v2"):
            raise VerificationError(f"missing {V3_HEADER} header")
        signature = require_header(headers, LEGACY_HEADER).encode("ascii")
        for key in self._keys:
            for uri in candidates[:1] if version == "v1" else candidates:
                if hmac.compare_digest(_legacy(key, version, method, uri, body), signature):
                    return VerifiedHubSpot(version=version, timestamp_ms=None)
        raise VerificationError(f"{LEGACY_HEADER} does not match")

    def _verify_v3(self, headers, body, method, candidates, now) -> VerifiedHubSpot:
        signature = require_header(headers, V3_HEADER).encode("ascii")
        raw_ts = require_header(headers, TIMESTAMP_HEADER)
        timestamp_ms = parse_unix_seconds(raw_ts, TIMESTAMP_HEADER, digits=15)
        check_timestamp(timestamp_ms / 1000, now, self.tolerance)
        for key in self._keys:
            for uri in candidates:
                # HubSpot signs the header text as sent.
                if hmac.compare_digest(_v3(key, method, uri, body, raw_ts), signature):
                    return VerifiedHubSpot(version="v3", timestamp_ms=timestamp_ms)
        raise VerificationError(f"{V3_HEADER} does not match")
