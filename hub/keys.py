"""Key material given in config: 32 raw bytes, or base64 / hex text of them (``{$env}`` / ``{$file}`` secrets)."""

from __future__ import annotations

import base64
import binascii


def key_bytes(value: str | bytes, size: int = 32) -> bytes | None:
    """The ``size`` raw bytes ``value`` stands for (raw, hex, base64 or URL-safe base64), or None if it is none."""
    if isinstance(value, bytes) and len(value) == size:
        return value
    text = (value.decode() if isinstance(value, bytes) else value).strip()
    for decode in (bytes.fromhex, lambda t: base64.b64decode(t, validate=True), base64.urlsafe_b64decode):
        try:
            raw = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == size:
            return raw
    return None
