"""hubspot-api-client for one portal: every call under the shared guard, errors translated, answers as JSON.

The SDK talks urllib3 directly, so it cannot take a ``hub.http`` session: each call goes through
``guard.call(fn, translate)`` instead, with ``_request_timeout`` on every request and a urllib3 ``Retry`` that
never retries (the SDK would otherwise silently re-send GETs on 429/503 behind the budget's back). Answers are
read raw (``_preload_content=False``) so records stay native JSON dicts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import urllib3
from hubspot import HubSpot
from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsApiException
from hubspot.crm.companies.exceptions import ApiException as CompaniesApiException
from hubspot.crm.contacts.exceptions import ApiException as ContactsApiException
from hubspot.crm.objects.exceptions import ApiException as ObjectsApiException
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException
from hubspot.crm.tickets.exceptions import ApiException as TicketsApiException
from urllib3.util.retry import Retry

from hub.errors import ConfigError, PermanentError, RetryableError
from hub.http import SystemGuard, error_for, parse_retry_after

log = logging.getLogger(__name__)
SYSTEM = "hubspot"
INLINE_429_RETRIES = 3  # a 429 is never processed by HubSpot, so re-sending after the pause is safe
NO_RETRY = Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0, respect_retry_after_header=False,
                 raise_on_status=False)


# Each generated package raises its own ApiException class (same attributes); these are the packages used here.
API_EXCEPTIONS = (ObjectsApiException, PropertiesApiException, ContactsApiException, AssociationsApiException,
                  CompaniesApiException, TicketsApiException)


def error_message(body) -> str:
    """HubSpot's error ``message`` (plus ``category``), or the raw body cut short."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return str(body)[:200]
    if isinstance(parsed, dict):
        return f"{parsed.get('category') or ''}: {parsed.get('message') or ''}".strip(": ")[:300]
    return str(parsed)[:200]


class HubSpotClient:
    """One portal's SDK object; ``call(fn)`` runs ``fn(sdk)`` and returns the parsed JSON answer."""

    def __init__(self, config, guard: SystemGuard | None = None, metrics=None):
        if not config.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"connectors.hubspot.base_url: {config.base_url!r} is not an http(s) URL")
        self.config = config
        self.guard = guard or SystemGuard(SYSTEM, per_minute=config.per_minute, burst=config.burst, metrics=metrics,
                                          account=config.access_token)  # hashed in the budget's key
        self.sdk = HubSpot(access_token=config.access_token, host=config.base_url.rstrip("/"), retry=NO_RETRY)
        self.timeout = (config.connect_timeout, config.read_timeout)
        # The SDK builds a new ApiClient (and connection pool) on every attribute access: build each once.
        crm = self.sdk.crm
        self.basic, self.batch, self.search = crm.objects.basic_api, crm.objects.batch_api, crm.objects.search_api
        self.properties, self.properties_batch = crm.properties.core_api, crm.properties.batch_api
        self.contacts = crm.contacts.basic_api
        self.associations = crm.associations.v4.batch_api
        # Merging has no generic objects endpoint in the SDK: one basic api per type.
        self.merges = {"tickets": crm.tickets.basic_api, "contacts": self.contacts,
                       "companies": crm.companies.basic_api}

    def translate(self, exc: Exception) -> Exception | None:
        if isinstance(exc, API_EXCEPTIONS):
            status = int(getattr(exc, "status", 0) or 0)
            headers = getattr(exc, "headers", None) or {}
            retry_after = parse_retry_after(headers.get("Retry-After")) if hasattr(headers, "get") else None
            message = error_message(getattr(exc, "body", None) or getattr(exc, "reason", ""))
            if status == 0:  # the SDK's own failure (undecodable answer, transport) before any status
                return RetryableError(f"{SYSTEM}: {message or exc}"[:300])
            self.guard.record(status, headers)  # urllib3 bypasses hub.http's adapter: counted (and quota read) here
            if status == 429 and '"DAILY"' in str(getattr(exc, "body", "") or ""):
                # The portal's daily allocation is spent: every caller waits instead of spending 429s on it.
                retry_after = max(retry_after or 0.0, self.config.daily_limit_pause_seconds)
            return error_for(SYSTEM, status, message, retry_after) or PermanentError(
                f"{SYSTEM}: unexpected answer {status}", status=status)
        if isinstance(exc, urllib3.exceptions.HTTPError):  # timeouts, resets, refused connections
            return RetryableError(f"{SYSTEM}: transport failed ({type(exc).__name__})")
        if isinstance(exc, ValueError):
            return RetryableError(f"{SYSTEM}: unreadable answer ({exc})"[:300])
        return None

    def call(self, fn: Callable[["HubSpotClient", dict], object]) -> dict | None:
        """The parsed JSON answer of ``fn(client, opts)``: ``fn`` calls one of the client's cached SDK apis and
        splats ``opts`` (timeout, raw answer) into it.

        A 429 waits for the shared pause (``Retry-After``) and is re-sent a few times.
        """
        opts = {"_preload_content": False, "_request_timeout": self.timeout}

        def run():
            response = fn(self, opts)
            self.guard.record(getattr(response, "status", 200), getattr(response, "headers", None))
            data = response.data if response is not None else b""
            return json.loads(data) if data else None

        return self.guard.call(run, self.translate, retries=INLINE_429_RETRIES)

    def close(self) -> None:
        for api in (self.basic, self.batch, self.search, self.properties, self.properties_batch, self.contacts,
                    self.associations, self.merges["tickets"], self.merges["companies"]):
            api.api_client.rest_client.pool_manager.clear()
