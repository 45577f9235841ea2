"""simple-salesforce for one org: transport through ``hub.http``, OAuth refresh, error translation, API usage.

simple-salesforce runs unchanged over a ``hub.http.session_for`` session (timeouts, the org's rate budget). It
never retries by itself, so every wait happens in the shared ``SystemGuard``. The daily API allocation
(``Sforce-Limit-Info``, and 403 ``REQUEST_LIMIT_EXCEEDED`` once it is spent) pauses the guard instead of being
hammered.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (SalesforceError, SalesforceExpiredSession, SalesforceGeneralError,
                                          SalesforceMalformedRequest, SalesforceMoreThanOneRecord,
                                          SalesforceRefusedRequest, SalesforceResourceNotFound)

from hub.errors import AuthError, ConfigError, PermanentError, RetryableError
from hub.http import SystemGuard, error_for, session_for

log = logging.getLogger(__name__)
T = TypeVar("T")
SYSTEM = "salesforce"
INLINE_RETRIES = 3  # a refused (rate-limited) request was never processed, so re-sending it is safe
CONCURRENCY_PAUSE = 5.0  # seconds, after REQUEST_LIMIT_EXCEEDED for concurrent long-running requests
# Per-record error codes that are transient (row locks, org busy); every other record error is permanent.
TRANSIENT_CODES = {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG", "QUERY_TIMEOUT"}


def error_message(content) -> tuple[str, str]:
    """``(errorCode, message)`` of a Salesforce error body (a JSON array of ``{errorCode, message}``)."""
    body = content
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    if isinstance(content, str):
        try:
            body = json.loads(content)
        except ValueError:
            return "", content[:200]
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        return str(first.get("errorCode") or first.get("statusCode") or ""), str(first.get("message") or "")[:300]
    if isinstance(body, dict):
        return str(body.get("error") or ""), str(body.get("error_description") or body)[:300]
    return "", str(body)[:200]


class _SessionExpired(AuthError):
    """The session id was rejected; refreshed once when OAuth credentials are configured."""


class SalesforceClient:
    """One org: a ``Salesforce`` SDK object over a guarded session, rebuilt when its token is refreshed."""

    def __init__(self, config, guard: SystemGuard | None = None, metrics=None):
        self.config = config
        if not config.instance_url.startswith(("http://", "https://")):
            raise ConfigError(f"connectors.salesforce.instance_url: {config.instance_url!r} is not an http(s) URL")
        if not config.session_id and not (config.client_id and config.client_secret):
            raise ConfigError("connectors.salesforce: set session_id, or client_id and client_secret")
        self.instance_url = config.instance_url.rstrip("/")
        self.guard = guard or SystemGuard(SYSTEM, per_minute=config.per_minute, metrics=metrics,
                                          account=self.instance_url)
        self.session = self._session_for(self.instance_url)
        self.session_id: str | None = config.session_id
        self.api_usage: tuple[int, int] | None = None  # (used, max) from Sforce-Limit-Info
        self._sf: Salesforce | None = None
        self._lock = threading.Lock()

    def _session_for(self, url: str) -> requests.Session:
        downgrade = url if url.startswith("http://") else None  # simple-salesforce always builds https URLs
        return session_for(self.guard, timeout=(self.config.connect_timeout, self.config.read_timeout),
                           https_to_http=downgrade)

    # -- auth ------------------------------------------------------------------------------------------------
    @property
    def can_refresh(self) -> bool:
        return bool(self.config.client_id and (self.config.client_secret or self.config.refresh_token))

    def sdk(self) -> Salesforce:
        """The SDK object, fetching a first token when only OAuth credentials are configured."""
        with self._lock:
            if self._sf is None:
                if not self.session_id:
                    self._fetch_token()
                self._sf = Salesforce(instance_url=self.instance_url, session_id=self.session_id,
                                      session=self.session, version=self.config.api_version)
            return self._sf

    def refresh(self, stale: str | None) -> None:
        """Single-flight: only the first caller holding the stale token fetches a new one."""
        with self._lock:
            if self.session_id != stale and self._sf is not None:
                return
            self._fetch_token()
            self._sf = Salesforce(instance_url=self.instance_url, session_id=self.session_id,
                                  session=self.session, version=self.config.api_version)

    def _fetch_token(self) -> None:
        if not self.can_refresh:
            raise AuthError(f"{SYSTEM}: session rejected and no OAuth client credentials to refresh it", status=401)
        form = {"client_id": self.config.client_id}
        if self.config.refresh_token:
            form |= {"grant_type": "refresh_token", "refresh_token": self.config.refresh_token}
        else:
            form["grant_type"] = "client_credentials"
        if self.config.client_secret:
            form["client_secret"] = self.config.client_secret
        url = self.config.token_url or f"{self.instance_url}/services/oauth2/token"

        def post() -> dict:
            response = self.session.post(url, data=form)
            if response.status_code >= 300:
                code, message = error_message(response.content)
                if response.status_code in (400, 401, 403):
                    raise AuthError(f"{SYSTEM}: token request refused: {code} {message}".strip(),
                                    status=response.status_code)
                raise error_for(SYSTEM, response.status_code, f"token request failed: {message}")
            return response.json()

        body = self.guard.call(post)
        self.session_id = body["access_token"]
        if body.get("instance_url") and body["instance_url"].rstrip("/") != self.instance_url:
            self.instance_url = body["instance_url"].rstrip("/")
            self.session = self._session_for(self.instance_url)
        log.info("salesforce: new access token obtained")

    # -- error translation -----------------------------------------------------------------------------------
    def translate(self, exc: Exception) -> Exception | None:
        if isinstance(exc, SalesforceExpiredSession):
            return _SessionExpired(f"{SYSTEM} answered 401: session expired or invalid", status=401)
        if isinstance(exc, SalesforceRefusedRequest):
            code, message = error_message(exc.content)
            if code == "REQUEST_LIMIT_EXCEEDED":
                # "TotalRequests": the rolling daily allocation is spent (long pause); otherwise a concurrency
                # limit (long-running requests), which frees up within seconds.
                daily = "totalrequests" in message.lower()
                pause = self.config.limit_pause_seconds if daily else CONCURRENCY_PAUSE
                self.guard.budget.pause(pause)  # every caller waits; nobody hammers
                return RetryableError(f"{SYSTEM} answered 403: {code}: {message}", retry_after=pause, status=403)
            return AuthError(f"{SYSTEM} answered 403: {code}: {message}", status=403)
        if isinstance(exc, SalesforceMalformedRequest):
            code, message = error_message(exc.content)
            return PermanentError(f"{SYSTEM} answered 400: {code}: {message}", status=400)
        if isinstance(exc, SalesforceResourceNotFound):
            code, message = error_message(exc.content)
            return PermanentError(f"{SYSTEM} answered 404: {code}: {message}", status=404)
        if isinstance(exc, SalesforceMoreThanOneRecord):
            return PermanentError(f"{SYSTEM} answered 300: the external id matches several records", status=300)
        if isinstance(exc, (SalesforceGeneralError, SalesforceError)):
            code, message = error_message(exc.content)
            return error_for(SYSTEM, exc.status, f"{code}: {message}") or PermanentError(
                f"{SYSTEM}: unexpected answer {exc.status}", status=exc.status)
        if isinstance(exc, ValueError):  # a body that is not JSON where JSON was promised
            return RetryableError(f"{SYSTEM}: unreadable answer ({exc})"[:300])
        return None

    # -- calls -----------------------------------------------------------------------------------------------
    def call(self, fn: Callable[[Salesforce], T]) -> T:
        """Run ``fn(sdk)`` under the guard: refresh an expired session once, wait out short refusals."""
        refreshed = False
        while True:
            sf = self.sdk()
            try:
                # Salesforce refuses a request over its limit with 403 REQUEST_LIMIT_EXCEEDED as well as 429.
                result = self.guard.call(lambda: fn(sf), self.translate, retries=INLINE_RETRIES,
                                         retry_statuses=(403, 429))
            except _SessionExpired:
                if refreshed or not self.can_refresh:
                    raise
                refreshed = True
                self.refresh(sf.session_id)
                continue
            self._note_usage(sf)
            return result

    def _note_usage(self, sf: Salesforce) -> None:
        usage = (sf.api_usage or {}).get("api-usage")
        if usage is None:
            return
        self.api_usage = (usage.used, usage.total)
        if usage.total and usage.used >= usage.total:
            # The next call would be refused: pause now rather than spend a request learning it.
            self.guard.budget.pause(self.config.limit_pause_seconds)

    def rest(self, path: str, method: str = "GET", **kwargs):
        return self.call(lambda sf: sf.restful(path, method=method, **kwargs))

    def close(self) -> None:
        self.session.close()
