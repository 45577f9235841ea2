"""Config shown in the console with every secret masked.

Secrets are already resolved from ``{$env}``/``{$file}`` by the time settings exist, so masking is by shape: keys
that name a secret, credentials inside URLs, and token-like strings (long, no spaces, letters and digits mixed).
"""

from __future__ import annotations

import re
from typing import Any

from hub.logs import MASK, SECRET_KEYS, mask_pans

_MORE_KEYS = re.compile(r"(key|auth|dsn|salt|kek|otp|bearer|client_id|webhook_url)", re.I)
_URL_USERINFO = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)
_TOKEN_LIKE = re.compile(r"^[A-Za-z0-9_\-+/=.~:]{20,}$")


def _token_like(text: str) -> bool:
    if "/" in text[:12] or text.startswith(("http://", "https://", "./", "/")):
        return False
    return bool(_TOKEN_LIKE.match(text)) and any(c.isdigit() for c in text) and any(c.isalpha() for c in text)


def redact_config(value: Any, key: str | None = None) -> Any:
    if key is not None and (SECRET_KEYS.search(key) or _MORE_KEYS.search(key)) and value not in (None, "", [], {}):
        if isinstance(value, (dict, list, tuple)):
            return {k: MASK for k in value} if isinstance(value, dict) else [MASK for _ in value]
        return MASK
    if isinstance(value, str):
        if _token_like(value):
            return MASK
        return mask_pans(_URL_USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", value))
    if isinstance(value, dict):
        return {k: redact_config(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_config(v) for v in value]
    return value
