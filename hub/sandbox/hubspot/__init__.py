"""HubSpot CRM v3 emulator: hubspot-api-client 12 works against it unchanged.

``HubSpot(access_token="sandbox-token", host="http://127.0.0.1:P")``. Objects (incl. merge and GDPR delete),
batch, search, associations v4, properties, pipelines, owners, custom object schemas, HubSpot's error bodies and
rate-limit headers, and v3-signed webhooks to the targets registered at ``POST /_sandbox/hubspot/subscriptions``
(or in-process with ``HubSpotEmulator.subscribe``).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING

import flask
from werkzeug.routing import BaseConverter

from hub.sandbox.core import Emulator
from hub.sandbox.hubspot import (associations, batch, errors, objects, owners, properties, schemas, search,
                                 webhooks)
from hub.sandbox.hubspot.seeding import load_dataset
from hub.sandbox.hubspot.store import PortalStore

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.seed import Dataset

SANDBOX_TOKEN = "sandbox-token"
DAILY_LIMIT = 650_000
SEARCH_PER_SECOND = 4


class ObjectTypeConverter(BaseConverter):
    """Object types in paths: ``contacts``, ``0-1``, custom ``2-12345``."""

    regex = r"[\w-]+"


class HubSpotEmulator(Emulator):
    name = "hubspot"
    prefixes = ("/crm/", "/crm-object-schemas/")

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.lock = sandbox.lock
        self.tokens = {SANDBOX_TOKEN}
        self.store = PortalStore(self.now)
        self.webhooks = webhooks.WebhookHub(self)
        self.store.listener = self.webhooks.record
        self.store.association_listener = self.webhooks.association
        self._search_hits: deque[float] = deque()
        self._search_lock = threading.Lock()
        self._daily_used = 0

    def blueprint(self) -> flask.Blueprint:
        bp = flask.Blueprint("hubspot", __name__)
        bp.record_once(lambda state: state.app.url_map.converters.setdefault("objtype", ObjectTypeConverter))
        for module in (objects, batch, search, associations, properties, owners, schemas, webhooks):
            module.register(bp, self)
        bp.register_error_handler(errors.HubSpotError, errors.error_response)
        bp.after_request(self._flush_webhooks)
        return bp

    def subscribe(self, target_url: str, client_secret: str, subscriptions: list[dict] | None = None) -> None:
        """Send webhooks to ``target_url`` signed with ``client_secret``; ``subscriptions`` as
        ``[{"eventType": "ticket.propertyChange", "propertyName": "hs_pipeline_stage"}]`` (None = every event)."""
        with self.lock:
            self.webhooks.subscribe(target_url, client_secret, subscriptions)

    def _flush_webhooks(self, response: flask.Response) -> flask.Response:
        self.webhooks.flush()
        return response

    # -- the framework's hooks ----------------------------------------------------------------------------
    def authenticate(self, request: flask.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and token.strip() in self.tokens

    def unauthorized(self) -> flask.Response:
        return errors.unauthorized()

    def rate_limited(self, retry_after: int) -> flask.Response:
        limit = self.sandbox.limits.get(self.name)
        headers = self.rate_headers(limit.per_minute if limit else 100, 0)
        return errors.rate_limited(retry_after, "TEN_SECONDLY_ROLLING", headers)

    def server_error(self, status: int) -> flask.Response:
        return errors.server_error(status)

    def rate_headers(self, limit: int, remaining: int) -> dict:
        # The sandbox limit is a rolling window of one minute; the headers say so rather than HubSpot's 10 s.
        self._daily_used += 1
        return {"X-HubSpot-RateLimit-Interval-Milliseconds": "60000", "X-HubSpot-RateLimit-Max": str(limit),
                "X-HubSpot-RateLimit-Remaining": str(remaining), "X-HubSpot-RateLimit-Daily": str(DAILY_LIMIT),
                "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, DAILY_LIMIT - self._daily_used))}

    def search_rate_limited(self) -> flask.Response | None:
        """Search's own limit (4 requests/s per token), enforced only while a HubSpot limit is on."""
        if self.name not in self.sandbox.limits:
            return None
        now = self.now().timestamp()
        with self._search_lock:
            while self._search_hits and self._search_hits[0] <= now - 1.0:
                self._search_hits.popleft()
            if len(self._search_hits) >= SEARCH_PER_SECOND:
                headers = {"X-HubSpot-RateLimit-Secondly": str(SEARCH_PER_SECOND),
                           "X-HubSpot-RateLimit-Secondly-Remaining": "0"}
                return errors.rate_limited(1, "SECONDLY", headers)
            self._search_hits.append(now)
        return None

    def reset(self) -> None:
        with self.lock:
            self.store.clear()
            # Subscriptions are configuration, like the sandbox's webhook target: they survive reset and seed.
            self.webhooks.pending.clear()
            self._search_hits.clear()
            self._daily_used = 0

    def seed(self, dataset: "Dataset") -> None:
        with self.lock:
            self.webhooks.muted = True
            try:
                load_dataset(self.store, dataset)
            finally:
                self.webhooks.muted = False


__all__ = ["HubSpotEmulator", "SANDBOX_TOKEN"]
