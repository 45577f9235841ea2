"""HTTP client for the core banking API: Bearer key, ``Idempotency-Key`` on every POST, typed errors.

Everything goes through ``hub.http``: the session has timeouts on every call and counts against the account's
``SystemGuard`` (rate budget shared by the whole hub, 429 pauses, circuit breaker).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator

import requests

from hub.errors import ConfigError, PermanentError, RetryableError
from hub.http import SystemGuard, error_for, parse_retry_after, session_for

log = logging.getLogger(__name__)
SYSTEM = "core_banking"
INLINE_429_RETRIES = 3  # a 429 was not processed, so re-sending after the shared pause is safe
MAX_KEY_LENGTH = 255


def idempotency_header(key: str) -> str:
    """The action's key as sent; keys longer than the bank accepts are sent as their SHA-256."""
    return key if len(key) <= MAX_KEY_LENGTH else hashlib.sha256(key.encode()).hexdigest()


class BankApiError(Exception):
    """A non-2xx answer, carried to ``translate`` inside the guard."""

    def __init__(self, response: requests.Response):
        self.response = response
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        self.code = code or response.reason
        self.text = f"{code or response.reason}: {message or response.text[:120]}"
        super().__init__(self.text)


class BankClient:
    def __init__(self, config, guard: SystemGuard | None = None, metrics=None):
        if not config.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"connectors.core_banking.base_url: {config.base_url!r} is not an http(s) URL")
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self.guard = guard or SystemGuard(SYSTEM, per_minute=config.per_minute, metrics=metrics,
                                          account=config.base_url)
        self.session = session_for(self.guard, timeout=(config.connect_timeout, config.read_timeout))
        self.session.headers.update({"Authorization": f"Bearer {config.api_key}", "Accept": "application/json",
                                     "User-Agent": "deskbridge-core-banking/1.0"})

    @staticmethod
    def translate(exc: Exception) -> Exception | None:
        if isinstance(exc, BankApiError):
            retry_after = parse_retry_after(exc.response.headers.get("Retry-After"))
            return error_for(SYSTEM, exc.response.status_code, exc.text, retry_after)
        if isinstance(exc, ValueError):
            return RetryableError(f"{SYSTEM}: unreadable answer ({exc})"[:300])
        return None

    def request(self, method: str, path: str, *, params: dict | None = None, json: dict | None = None,
                idempotency_key: str | None = None) -> dict:
        """One call; a 429 waits for the shared pause and is re-sent a few times, anything else is raised."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        headers = {}
        if method == "POST":
            if not idempotency_key:
                raise PermanentError(f"{SYSTEM}: POST {path} needs an idempotency key")
            headers["Idempotency-Key"] = idempotency_header(idempotency_key)

        def send() -> dict:
            response = self.session.request(method, url, params=params, json=json, headers=headers)
            if response.status_code >= 300:
                raise BankApiError(response)
            return response.json() if response.content else {}

        return self.guard.call(send, self.translate, retries=INLINE_429_RETRIES)

    def get_optional(self, path: str, params: dict | None = None) -> dict | None:
        try:
            return self.request("GET", path, params=params)
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise

    def pages(self, path: str, params: dict | None = None, limit: int = 100) -> Iterator[list[dict]]:
        """Every page of a list (``limit``, ``starting_after``, ``has_more``)."""
        query = {**(params or {}), "limit": limit}
        while True:
            body = self.request("GET", path, params=query)
            data = body.get("data") or []
            yield data
            if not body.get("has_more") or not data:
                return
            query = {**query, "starting_after": body.get("next_starting_after") or data[-1]["id"]}

    def close(self) -> None:
        self.session.close()
