"""HubSpot's error bodies: ``{"status":"error","message","correlationId","category",...}``."""

from __future__ import annotations

import json
import uuid

import flask


class HubSpotError(Exception):
    """An API error the emulator answers with HubSpot's JSON error body and ``status``."""

    def __init__(self, status: int, category: str, message: str, *, sub_category: str | None = None,
                 context: dict | None = None, errors: list[dict] | None = None, extra: dict | None = None):
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.sub_category = sub_category
        self.context = context
        self.errors = errors
        self.extra = extra or {}

    def body(self) -> dict:
        out = {"status": "error", "message": self.message, "correlationId": correlation_id()}
        if self.sub_category:
            out["subCategory"] = self.sub_category
        if self.context:
            out["context"] = self.context
        if self.errors:
            out["errors"] = self.errors
        out["category"] = self.category
        out.update(self.extra)
        return out

    def as_batch_error(self) -> dict:
        """The ``errors[]`` entry of a 207 batch response (HubSpot's StandardError)."""
        out = {"status": "error", "category": self.category, "message": self.message,
               "context": self.context or {}, "errors": self.errors or [], "links": {}}
        if self.sub_category:
            out["subCategory"] = self.sub_category
        return out


def correlation_id() -> str:
    return str(uuid.uuid4())


def json_response(body, status: int = 200, headers: dict | None = None) -> flask.Response:
    return flask.Response(json.dumps(body, separators=(",", ":")), status=status,
                          mimetype="application/json", headers=headers or {})


def error_response(err: HubSpotError, headers: dict | None = None) -> flask.Response:
    return json_response(err.body(), err.status, headers)


def validation(message: str, **kw) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, **kw)


def not_found(object_id: str, message: str | None = None) -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND",
                        message or "Object not found.  objectId are usually numeric.",
                        context={"id": [str(object_id)]})


def property_errors(problems: list[dict]) -> HubSpotError:
    """HubSpot's 400 for bad property values, with the per-property list JSON-encoded in ``message``."""
    detail = json.dumps(problems, separators=(",", ":"))
    return HubSpotError(400, "VALIDATION_ERROR", f"Property values were not valid: {detail}",
                        errors=[{"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}}
                                for p in problems])


def property_problem(name: str, error: str, message: str) -> dict:
    return {"isValid": False, "message": message, "error": error, "name": name, "localizedErrorMessage": message}


def unauthorized() -> flask.Response:
    return error_response(HubSpotError(
        401, "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
        "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"))


def rate_limited(retry_after: int, policy: str, headers: dict) -> flask.Response:
    """HubSpot's 429: ``errorType: RATE_LIMIT`` and the policy that tripped."""
    body = {"status": "error", "message": f"You have reached your {policy.lower()} limit.",
            "errorType": "RATE_LIMIT", "correlationId": correlation_id(), "policyName": policy,
            "groupName": f"publicapi:private-app:{policy.lower()}"}
    return json_response(body, 429, headers | {"Retry-After": str(retry_after)})


def server_error(status: int) -> flask.Response:
    if status == 500:
        message, category = "internal error", "INTERNAL_ERROR"
    elif status == 502:
        message, category = "Bad Gateway", "BAD_GATEWAY"
    elif status == 504:
        message, category = "The request timed out.", "GATEWAY_TIMEOUT"
    else:
        message, category = "The service is temporarily unavailable. Please try again.", "SERVICE_UNAVAILABLE"
    return error_response(HubSpotError(status, category, message))
