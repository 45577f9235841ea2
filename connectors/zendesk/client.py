"""The zenpy client for one Zendesk account: transport through ``hub.http``, error translation, raw JSON pages.

zenpy runs unchanged; its requests session comes from ``hub.http.session_for`` (timeouts, the account's rate
budget and 429 pauses). zenpy's own Retry-After sleeping is switched off (``ratelimit_budget=1`` makes it raise
``RatelimitBudgetExceeded`` at the first wait), so waiting happens in one place: the shared ``SystemGuard``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import TypeVar
from urllib.parse import urlsplit

import requests
from zenpy import Zenpy
from zenpy.lib.api import BaseApi
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

from hub.errors import ConfigError, PermanentError, RetryableError
from hub.http import SystemGuard, error_for, parse_retry_after, session_for

log = logging.getLogger(__name__)
# zenpy logs every request's kwargs (ticket bodies: customer text, possibly card numbers) at DEBUG.
logging.getLogger("zenpy").setLevel(max(logging.getLogger("zenpy").getEffectiveLevel(), logging.INFO))
T = TypeVar("T")
SYSTEM = "zendesk"
INLINE_429_RETRIES = 3  # a 429 is never processed by the vendor, so re-sending after the pause is safe


def _message(exc: APIException) -> str:
    """A short human line from a Zendesk error body (``error`` + ``description`` + first detail)."""
    try:
        body = json.loads(str(exc.args[0])) if exc.args else {}
    except (ValueError, TypeError):
        return str(exc)[:200]
    if not isinstance(body, dict):
        return str(body)[:200]
    error = body.get("error")
    if isinstance(error, dict):  # some endpoints nest {"error": {"title", "message"}}
        error = error.get("title") or error.get("message")
    parts = [str(error or "error"), str(body.get("description") or "")]
    for problems in (body.get("details") or {}).values():
        if problems and isinstance(problems, list) and isinstance(problems[0], dict):
            parts.append(str(problems[0].get("description", "")))
            break
    return ": ".join(p for p in parts if p)[:300]


class ZendeskClient:
    """zenpy + a raw JSON helper, both over one guarded session."""

    def __init__(self, config, guard: SystemGuard | None = None, metrics=None):
        self.config = config
        self.guard = guard or SystemGuard(SYSTEM, per_minute=config.per_minute, metrics=metrics,
                                          account=config.subdomain)
        self.session = session_for(self.guard, timeout=(config.connect_timeout, config.read_timeout))
        base = config.base_url or f"https://{config.subdomain}.zendesk.com"
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"connectors.zendesk.base_url: {base!r} is not an http(s) URL")
        self.scheme, self.netloc = parts.scheme, parts.netloc
        self.base_url = f"{self.scheme}://{self.netloc}"
        subdomain, domain = config.subdomain, "zendesk.com"
        custom = self.netloc != f"{config.subdomain}.zendesk.com"
        if custom and "." in self.netloc:
            # zenpy builds its netloc as f"{subdomain}.{domain}": splitting at the first dot addresses any
            # dotted host (the sandbox's 127.0.0.1:P) per instance, without touching process-wide settings.
            subdomain, domain = self.netloc.split(".", 1)
        elif custom:
            os.environ["ZENPY_FORCE_NETLOC"] = self.netloc  # undotted host (localhost): only zenpy's env route
            os.environ["ZENPY_FORCE_SCHEME"] = self.scheme
        self.zenpy = Zenpy(subdomain=subdomain, domain=domain, email=config.email, token=config.token,
                           session=self.session, timeout=config.read_timeout, disable_cache=True,
                           ratelimit_budget=1)
        self._set_protocol(self.zenpy, self.scheme, set())

    @staticmethod
    def _set_protocol(obj, scheme: str, seen: set) -> None:
        """zenpy keeps the scheme per Api object (``protocol``); set it on every one, nested ones included."""
        for value in vars(obj).values():
            if isinstance(value, BaseApi) and id(value) not in seen:
                seen.add(id(value))
                value.protocol = scheme
                ZendeskClient._set_protocol(value, scheme, seen)

    # -- error translation -----------------------------------------------------------------------------------
    def translate(self, exc: Exception) -> Exception | None:
        if isinstance(exc, RatelimitBudgetExceeded):
            wait = max(self.guard.budget.paused_until - self.guard.budget.clock(), 1.0)
            return RetryableError(f"{SYSTEM} answered 429: rate limited", retry_after=wait, status=429)
        if isinstance(exc, APIException):
            response = exc.response
            status = response.status_code if response is not None else 400
            retry_after = parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
            return error_for(SYSTEM, status, _message(exc), retry_after) or PermanentError(
                f"{SYSTEM}: unexpected answer {status}")
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            retry_after = parse_retry_after(exc.response.headers.get("Retry-After"))
            return error_for(SYSTEM, status, exc.response.text[:200] or exc.response.reason, retry_after)
        if isinstance(exc, ZenpyException):
            return PermanentError(f"{SYSTEM}: {exc}"[:300])
        if isinstance(exc, ValueError):  # a body that is not JSON where JSON was promised
            return RetryableError(f"{SYSTEM}: unreadable answer ({exc})"[:300])
        return None

    def call(self, fn: Callable[[], T]) -> T:
        """One SDK call under the guard; a 429 waits for the shared pause and is re-sent a few times."""
        return self.guard.call(fn, self.translate, retries=INLINE_429_RETRIES)

    # -- raw JSON over the same session (page-level control zenpy's generators hide) --------------------------
    def get_json(self, path_or_url: str, params: dict | None = None) -> dict:
        url = path_or_url if path_or_url.startswith("http") else f"{self.base_url}/api/v2/{path_or_url}"
        if not url.startswith(f"{self.base_url}/"):
            # Pagination links come from the answer; never send the account's credentials to another host.
            raise PermanentError(f"{SYSTEM}: refusing to follow a link off {self.base_url}: {url[:100]}")

        def fetch() -> dict:
            response = self.session.get(url, params=params)
            if response.status_code >= 300:
                try:
                    body = response.json()
                except ValueError:
                    body = {"error": response.reason}
                raise APIException(json.dumps(body), response=response)
            return response.json()

        return self.call(fetch)

    def put_json(self, path: str, body: dict) -> dict:
        """``PUT`` a JSON body to an API path zenpy has no method for; errors translated like ``get_json``."""
        url = f"{self.base_url}/api/v2/{path}"

        def send() -> dict:
            response = self.session.put(url, json=body)
            if response.status_code >= 300:
                try:
                    answer = response.json()
                except ValueError:
                    answer = {"error": response.reason}
                raise APIException(json.dumps(answer), response=response)
            return response.json() if response.content else {}

        return self.call(send)

    def get_optional(self, path: str, params: dict | None = None) -> dict | None:
        """Like ``get_json`` but a 404 is ``None``."""
        try:
            return self.get_json(path, params)
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise

    def pages(self, path: str, resource: str, params: dict | None = None) -> Iterator[list[dict]]:
        """Every page of a cursor-paginated list (``page[size]=100``, ``links.next``)."""
        url, query = path, {**(params or {}), "page[size]": 100}
        while True:
            body = self.get_json(url, query)
            yield body.get(resource) or []
            nxt = (body.get("links") or {}).get("next")
            if not (body.get("meta") or {}).get("has_more") or not nxt:
                return
            url, query = nxt, None

    def wait_job(self, job_id: str) -> list[dict]:
        """Poll ``job_statuses/{id}`` until the job ends; returns its per-item results."""
        deadline = time.monotonic() + self.config.job_timeout
        delay = 0.05
        while True:
            job = self.get_json(f"job_statuses/{job_id}.json")["job_status"]
            if job.get("status") == "completed":
                return job.get("results") or []
            if job.get("status") in ("failed", "killed"):
                raise RetryableError(f"{SYSTEM}: bulk job {job_id} {job['status']}: {job.get('message')}")
            if time.monotonic() > deadline:
                raise RetryableError(f"{SYSTEM}: bulk job {job_id} still {job.get('status')} after "
                                     f"{self.config.job_timeout:.0f} s", retry_after=self.config.job_timeout)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def close(self) -> None:
        self.session.close()
