"""Zendesk's own error bodies, raised as ``ZendeskApiError`` and rendered by the blueprint."""

from __future__ import annotations

import flask


class ZendeskApiError(Exception):
    """An API refusal with Zendesk's status code and JSON body."""

    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(f"{status} {body.get('error')}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> flask.Response:
        resp = flask.jsonify(self.body)
        resp.status_code = self.status
        for name, value in self.headers.items():
            resp.headers[name] = str(value)
        return resp


def not_found() -> ZendeskApiError:
    return ZendeskApiError(404, {"error": "RecordNotFound", "description": "Not found"})


def invalid_endpoint() -> ZendeskApiError:
    return ZendeskApiError(404, {"error": "InvalidEndpoint", "description": "Not found"})


def record_invalid(details: dict[str, list[dict]]) -> ZendeskApiError:
    """422 with per-attribute ``details``: ``{"status": [{"description": ..., "error": ...}]}``."""
    return ZendeskApiError(422, {"error": "RecordInvalid", "description": "Record validation errors",
                                 "details": details})


def invalid_attr(attribute: str, description: str, error: str = "InvalidValue") -> ZendeskApiError:
    return record_invalid({attribute: [{"description": description, "error": error}]})


def too_many_values(parameter: str, maximum: int = 100) -> ZendeskApiError:
    return ZendeskApiError(400, {"error": "TooManyValues",
                                 "description": f"Too many values specified for parameter '{parameter}' "
                                                f"(maximum {maximum})"})


def invalid_value(description: str) -> ZendeskApiError:
    return ZendeskApiError(400, {"error": "InvalidValue", "description": description})


def parameter_missing(parameter: str) -> ZendeskApiError:
    return ZendeskApiError(400, {"error": "ParameterMissing",
                                 "description": f"Parameter {parameter} is required"})


def unparsable_json() -> ZendeskApiError:
    return ZendeskApiError(400, {"error": "Unprocessable Entity", "description": "Server could not parse JSON"})


def search_limit_exceeded() -> ZendeskApiError:
    # zenpy maps exactly this pair (422 + "invalid") onto SearchResponseLimitExceeded.
    return ZendeskApiError(422, {"error": "invalid", "description": "Invalid search: Requested response size "
                                                                    "was greater than Search Response Limits"})


def update_conflict() -> ZendeskApiError:
    return ZendeskApiError(409, {"error": "UpdateConflict",
                                 "description": "Safe Update prevented the update due to outdated ticket data. "
                                                "Please fetch the latest ticket data and try again."})


def rate_limited_body(retry_after: int, limit: int | None, description: str | None = None) -> flask.Response:
    body = {"error": "APIRateLimitExceeded",
            "description": description or "Number of allowed API requests per minute exceeded"}
    resp = flask.jsonify(body)
    resp.status_code = 429
    resp.headers["Retry-After"] = str(int(retry_after))
    if limit is not None:
        resp.headers["X-Rate-Limit"] = str(limit)
        resp.headers["X-Rate-Limit-Remaining"] = "0"
    return resp
