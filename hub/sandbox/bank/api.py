"""Request helpers shared by the bank routes: JSON bodies, pagination, idempotency keys."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable

import flask

from hub.clock import isoformat, parse_time
from hub.sandbox.bank.state import BankError, BankState

MAX_PAGE = 100
DEFAULT_PAGE = 25


def json_body() -> dict:
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BankError(400, "invalid_request", "request body must be a JSON object")
    return body


def required_str(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BankError(422, "missing_parameter" if value is None else "invalid_parameter",
                        f"{name} is required and must be a non-empty string", name)
    return value.strip()


def choice(body: dict, name: str, allowed: Iterable[str], default: str | None = None) -> str:
    value = body.get(name, default)
    allowed = tuple(allowed)
    if value not in allowed:
        raise BankError(422, "invalid_parameter", f"{name} must be one of {', '.join(allowed)}", name)
    return value


def since_arg(name: str = "updated_since") -> str | None:
    """An RFC 3339 query argument, normalised so plain string comparison orders times."""
    raw = flask.request.args.get(name)
    if raw is None:
        return None
    try:
        return isoformat(parse_time(raw))
    except ValueError:
        raise BankError(422, "invalid_parameter", f"{name} must be an RFC 3339 time", name) from None


def paginate(items: list[dict]) -> dict:
    """Stripe-style list page: ``limit`` (1..100, default 25) and ``starting_after`` (an id on the list)."""
    args = flask.request.args
    try:
        limit = int(args.get("limit", DEFAULT_PAGE))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE:
        raise BankError(422, "invalid_parameter", f"limit must be an integer from 1 to {MAX_PAGE}", "limit")
    start = 0
    after = args.get("starting_after")
    if after:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise BankError(422, "invalid_parameter", f"starting_after {after} is not on this list",
                            "starting_after")
        start = ids.index(after) + 1
    data = items[start:start + limit]
    has_more = start + limit < len(items)
    return {"object": "list", "url": flask.request.path, "data": data, "has_more": has_more,
            "next_starting_after": data[-1]["id"] if has_more and data else None}


def idempotent(state_of: Callable[[], BankState], lock) -> Callable:
    """POSTs with an ``Idempotency-Key`` header answer a repeat with the first result (Stripe semantics)."""

    def decorate(view: Callable[..., tuple[dict, int]]) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            key = flask.request.headers.get("Idempotency-Key")
            if not key:
                body, status = view(*args, **kwargs)
                return flask.jsonify(body), status
            if len(key) > 255:
                raise BankError(400, "invalid_request", "Idempotency-Key is longer than 255 characters")
            fingerprint = hashlib.sha256(
                f"{flask.request.method} {flask.request.path} ".encode() + flask.request.get_data()).hexdigest()
            with lock:
                state = state_of()
                cached = state.idempotency.get(key)
                if cached is not None:
                    if cached[0] != fingerprint:
                        raise BankError(422, "idempotency_key_reused",
                                        "this Idempotency-Key was used with a different request")
                    return flask.jsonify(cached[2]), cached[1], {"Idempotent-Replayed": "true"}
                try:
                    body, status = view(*args, **kwargs)
                except BankError as exc:
                    if exc.status < 500:
                        state.remember(key, fingerprint, exc.status, exc.body())
                    raise
                state.remember(key, fingerprint, status, body)
                return flask.jsonify(body), status

        return wrapper

    return decorate


def as_json(view: Callable[..., tuple[dict, int] | dict]) -> Callable:
    """Views return a dict (200) or ``(dict, status)``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        result = view(*args, **kwargs)
        body, status = result if isinstance(result, tuple) else (result, 200)
        return flask.jsonify(body), status

    return wrapper
