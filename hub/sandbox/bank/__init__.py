"""Core banking emulator: a BaaS-style REST API at ``/bank/v1/`` (Bearer ``sandbox-key``).

Modelled on Unit / Treasury Prime / Stripe Treasury: Stripe-style lists (``limit``, ``starting_after``,
``has_more``), ``Idempotency-Key`` on POSTs, amounts as decimal strings, errors as
``{"error": {"code", "message", "param"?}}``. State changes emit SPEC §2 banking events, signed with Standard
Webhooks, to the sandbox's webhook target.
"""

from __future__ import annotations

import flask
from werkzeug.exceptions import HTTPException

from hub.clock import isoformat
from hub.sandbox.bank import control, customers, money
from hub.sandbox.bank.openapi import openapi_document
from hub.sandbox.bank.state import DEFAULT_WEBHOOK_SECRET, BankError, BankState, EventPublisher
from hub.sandbox.core import Emulator

API_KEY = "sandbox-key"
PUBLIC_PATHS = ("/bank/v1/openapi.json",)
_SERVER_ERRORS = {500: ("internal_error", "An internal error occurred. Retry later."),
                  502: ("bad_gateway", "Upstream connection failed."),
                  503: ("service_unavailable", "The service is temporarily unavailable. Retry later."),
                  504: ("gateway_timeout", "The request timed out upstream.")}


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> flask.Response:
    response = flask.jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


class BankEmulator(Emulator):
    name = "bank"
    prefixes = ("/bank/v1/",)

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.state = BankState()
        self.events = EventPublisher(sandbox, self.state)

    def now_iso(self) -> str:
        return isoformat(self.sandbox.now())

    def set_kyc_status(self, customer: dict, status: str, reason: str = "review") -> None:
        if customer["kyc_status"] == status:
            return
        customer.update(kyc_status=status, updated_at=self.now_iso())
        self.events.publish("kyc.status.changed", {"customer_id": customer["id"], "status": status,
                                                   "reason": reason})

    # -- Emulator contract ---------------------------------------------------------------------------------
    def blueprint(self) -> flask.Blueprint:
        bp = flask.Blueprint("bank", __name__)
        customers.register(bp, self)
        money.register(bp, self)
        control.register(bp, self)

        @bp.get("/bank/v1/openapi.json")
        def openapi():
            return flask.jsonify(openapi_document())

        @bp.route("/bank/v1/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def no_route(unknown: str):
            raise BankError(404, "route_not_found", f"No route {flask.request.method} /bank/v1/{unknown}")

        @bp.errorhandler(BankError)
        def bank_error(exc: BankError):
            return flask.jsonify(exc.body()), exc.status

        @bp.errorhandler(HTTPException)
        def http_error(exc: HTTPException):
            code = (exc.name or "error").lower().replace(" ", "_")
            return error_response(exc.code or 500, code, exc.description or exc.name)

        return bp

    def authenticate(self, request: flask.Request) -> bool:
        if request.path in PUBLIC_PATHS:
            return True
        return request.headers.get("Authorization", "") == f"Bearer {API_KEY}"

    def unauthorized(self) -> flask.Response:
        return error_response(401, "unauthorized", "Invalid or missing API key. Send Authorization: Bearer <key>.",
                              {"WWW-Authenticate": 'Bearer realm="bank"'})

    def rate_limited(self, retry_after: int) -> flask.Response:
        return error_response(429, "rate_limited", f"Too many requests. Retry after {retry_after} seconds.",
                              {"Retry-After": str(retry_after)})

    def server_error(self, status: int) -> flask.Response:
        code, message = _SERVER_ERRORS.get(status, ("server_error", "The server failed to answer."))
        return error_response(status, code, message)

    def rate_headers(self, limit: int, remaining: int) -> dict:
        return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}

    def reset(self) -> None:
        self.state = BankState()
        self.events.state = self.state

    def seed(self, dataset) -> None:
        self.state.load(dataset, self.now_iso())


__all__ = ["API_KEY", "DEFAULT_WEBHOOK_SECRET", "BankEmulator"]
