"""Request parsing shared by the HubSpot routes (query lists, booleans, JSON bodies, paging links)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import flask

from hub.sandbox.hubspot.errors import validation


def query_list(name: str) -> list[str]:
    """``?properties=a&properties=b`` (the SDK's ``multi`` format) or ``?properties=a,b``."""
    out: list[str] = []
    for raw in flask.request.args.getlist(name):
        out.extend(part.strip() for part in raw.split(",") if part.strip())
    return out


def query_bool(name: str) -> bool:
    return flask.request.args.get(name, "false").lower() == "true"


def query_int(name: str, default: int, maximum: int) -> int:
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation(f"Invalid value for {name}: {raw}") from None
    if value < 1 or value > maximum:
        raise validation(f"{name} must be between 1 and {maximum}, was {value}")
    return value


def body() -> dict:
    """The JSON object body, or HubSpot's 400 for bad JSON."""
    raw = flask.request.get_data(cache=True)
    try:
        parsed = json.loads(raw or b"null")
    except ValueError as exc:
        raise validation(f"Invalid input JSON on line 1: {exc}") from None
    if not isinstance(parsed, dict):
        raise validation("Invalid input JSON: expected an object")
    return parsed


def next_link(after: str) -> str:
    """Absolute URL of the next page: this request with ``after`` replaced."""
    args = [(k, v) for k, v in flask.request.args.items(multi=True) if k != "after"] + [("after", after)]
    return f"{flask.request.base_url}?{urlencode(args)}"


def inputs(payload: dict, maximum: int = 100) -> list:
    """The ``inputs`` of a batch body; over ``maximum`` is HubSpot's 400 ``VALIDATION_ERROR``."""
    items = payload.get("inputs")
    if not isinstance(items, list):
        raise validation("Invalid input JSON: inputs must be a list")
    if len(items) > maximum:
        raise validation(f"Batch input size must be less than or equal to {maximum}. Input size: {len(items)}",
                         context={"maximum": [str(maximum)], "size": [str(len(items))]},
                         sub_category="BATCH_TOO_LARGE")
    return items
