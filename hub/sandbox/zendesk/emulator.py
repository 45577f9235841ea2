"""``ZendeskEmulator``: Zendesk Support API v2 on the sandbox, good enough for zenpy to run unchanged."""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import logging
from datetime import datetime, timedelta, timezone

import flask

from hub.sandbox.core import Emulator, SlidingWindowLimit
from hub.sandbox.zendesk import (fields, incremental, people, people_routes, redaction, search, seeding,
                                 ticket_routes, uploads, webhooks)
from hub.sandbox.zendesk.errors import (ZendeskApiError, invalid_endpoint, invalid_value, parameter_missing,
                                        rate_limited_body, unparsable_json)
from hub.sandbox.zendesk.state import ZendeskState

log = logging.getLogger(__name__)

AGENT_EMAIL = "agent@sandbox.test"
API_TOKEN = "sandbox-token"
ACCOUNT_AGE = timedelta(days=400)
INCREMENTAL_PER_MINUTE = 10  # Zendesk's own endpoint limit for incremental exports
SERVER_ERRORS = {500: ("InternalServerError", "Something went wrong on our side"),
                 502: ("BadGateway", "Bad gateway"),
                 503: ("ServiceUnavailable", "The service is temporarily unavailable, please retry later"),
                 504: ("GatewayTimeout", "The request took too long to process")}


class ZendeskEmulator(Emulator):
    """Tickets, comments, audits, users, organizations, groups, fields, uploads, search, exports, webhooks."""

    name = "zendesk"
    prefixes = ("/api/v2/", "/attachments/token/")

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.state: ZendeskState
        self._incremental_limit: SlidingWindowLimit | None = None
        self._limit_seen: object | None = None
        self.reset()

    # -- Emulator contract ---------------------------------------------------------------------------------
    def reset(self) -> None:
        state = ZendeskState(clock=self.now)
        # The account's own records date from its creation, on the real clock: the sandbox may reset this
        # emulator before it zeroes its clock offset, and change stamps must never start in the future.
        opened = datetime.now(timezone.utc).replace(microsecond=0) - ACCOUNT_AGE
        fields.install_system_fields(state, at=opened)
        support = people.create_group(state, {"name": "Support", "default": True,
                                              "description": "Default support group"}, at=opened)
        agent = people.create_user(state, {"name": "Sandbox Agent", "email": AGENT_EMAIL, "role": "admin",
                                           "verified": True, "default_group_id": support["id"]}, at=opened)
        state.agent_id = agent["id"]
        self.state = state
        self._incremental_limit = None
        self._limit_seen = None

    def seed(self, dataset) -> None:
        seeding.seed(self.state, dataset)

    def authenticate(self, request: flask.Request) -> bool:
        if request.path.startswith("/attachments/token/"):
            return True  # attachment content URLs carry their own unguessable token
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            return hmac.compare_digest(credentials.strip(), API_TOKEN)
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, secret = decoded.partition(":")
        return hmac.compare_digest(user.lower(), f"{AGENT_EMAIL}/token") and hmac.compare_digest(secret, API_TOKEN)

    def unauthorized(self) -> flask.Response:
        resp = flask.jsonify({"error": "Couldn't authenticate you"})
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = 'Basic realm="Web Password"'
        return resp

    def rate_limited(self, retry_after: int) -> flask.Response:
        limit = self.sandbox.limits.get(self.name)
        return rate_limited_body(retry_after, limit.per_minute if limit else None)

    def server_error(self, status: int) -> flask.Response:
        error, description = SERVER_ERRORS.get(status, ("ServerError", "Server error"))
        resp = flask.jsonify({"error": error, "description": description})
        resp.status_code = status
        if status == 503:
            resp.headers["Retry-After"] = "1"
        return resp

    def rate_headers(self, limit: int, remaining: int) -> dict:
        reset = 60 - int(self.now().timestamp()) % 60
        return {"X-Rate-Limit": limit, "X-Rate-Limit-Remaining": remaining, "ratelimit-limit": limit,
                "ratelimit-remaining": remaining, "ratelimit-reset": reset}

    def blueprint(self) -> flask.Blueprint:
        bp = flask.Blueprint("zendesk", __name__)
        for module in (ticket_routes, people_routes, fields, search, incremental, uploads, webhooks, redaction):
            module.register(bp, self)

        @self.route(bp, "/api/v2/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def unknown_endpoint(rest):
            raise invalid_endpoint()

        return bp

    # -- helpers the route modules use ----------------------------------------------------------------------
    def route(self, bp: flask.Blueprint, rule: str, methods: list[str]):
        """Register ``view`` under the state lock; it returns a dict, ``(dict, status)`` or a Response."""

        def decorate(view):
            module = view.__module__.rsplit(".", 1)[-1]

            @functools.wraps(view)
            def handle(**kwargs):
                with self.sandbox.lock:
                    try:
                        result = view(**kwargs)
                    except ZendeskApiError as exc:
                        return exc.response()
                    except (KeyError, TypeError, ValueError, AttributeError):
                        # A malformed body shape (a string where an object belongs, ...) is the client's
                        # mistake; Zendesk answers 400, never 500.
                        log.warning("zendesk emulator rejected a malformed request", exc_info=True)
                        return invalid_value("The request body has an invalid shape").response()
                    if isinstance(result, flask.Response):
                        return result
                    if isinstance(result, tuple):
                        body, *rest = result
                        if isinstance(body, flask.Response):
                            return (body, *rest)
                        return (flask.jsonify(body), *rest)
                    return flask.jsonify(result)

            bp.add_url_rule(rule, endpoint=f"{module}_{view.__name__}", view_func=handle, methods=methods)
            return view

        return decorate

    def raw_body(self) -> dict:
        raw = flask.request.get_data()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise unparsable_json() from exc
        if not isinstance(data, dict):
            raise unparsable_json()
        return data

    def body(self, key: str, kind: type = dict):
        data = self.raw_body()
        if key not in data or data[key] is None:
            raise parameter_missing(key)
        if not isinstance(data[key], kind):
            raise invalid_value(f"{key} must be an {'array' if kind is list else 'object'}")
        return data[key]

    def deliver(self, result) -> None:
        if result.events and self.state.webhooks:
            webhooks.deliver(self, result.ticket, result.events, self.state.agent_id)

    def check_incremental_limit(self) -> None:
        """When limits are on, incremental exports also get Zendesk's own 10 requests/minute."""
        account_limit = self.sandbox.limits.get(self.name)
        if account_limit is None:
            return
        if self._incremental_limit is None or self._limit_seen is not account_limit:
            self._incremental_limit = SlidingWindowLimit(INCREMENTAL_PER_MINUTE)
            self._limit_seen = account_limit
        allowed, _, retry_after = self._incremental_limit.hit(self.now().timestamp())
        if not allowed:
            raise ZendeskApiError(429, {"error": "APIRateLimitExceeded",
                                        "description": "Number of allowed incremental export API requests "
                                                       "per minute exceeded"},
                                  {"Retry-After": retry_after})
