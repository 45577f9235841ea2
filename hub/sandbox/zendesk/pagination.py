"""Zendesk's two list styles: cursor-based (``page[size]``/``page[after]``) and legacy offset (``page``)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import flask

from hub.sandbox.zendesk.errors import ZendeskApiError, invalid_value

MAX_PAGE_SIZE = 100


def encode_cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_cursor(token: str) -> Any:
    try:
        padded = token + "=" * (-len(token) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ZendeskApiError(400, {"error": "InvalidPaginationParameter",
                                    "description": "cursor is invalid"}) from exc


def absolute_url(path: str, params: dict[str, Any]) -> str:
    """An absolute URL back to this emulator (SDKs follow pagination links verbatim)."""
    base = flask.request.host_url.rstrip("/")
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def wants_cursor(args) -> bool:
    return any(key.startswith("page[") for key in args)


def page_size(args, key: str = "page[size]", default: int = 100, maximum: int = MAX_PAGE_SIZE) -> int:
    raw = args.get(key)
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError as exc:
        raise invalid_value(f"{key} must be an integer") from exc
    if size < 1:
        raise invalid_value(f"{key} must be greater than 0")
    if size > maximum:
        raise ZendeskApiError(400, {"error": "InvalidPaginationParameter",
                                    "description": f"page[size] is greater than the maximum of {maximum}"})
    return size


def _same(item: dict) -> dict:
    return item


def cursor_page(items: Sequence[dict], key: Callable[[dict], list], resource: str, extra: dict | None = None,
                maximum: int = MAX_PAGE_SIZE, present: Callable[[dict], dict] = _same) -> dict:
    """One CBP page of ``items`` (already sorted by ``key``, unique per item); only the page is ``present``-ed."""
    args = flask.request.args
    size = page_size(args, maximum=maximum)
    keys = [key(item) for item in items]
    after, before = args.get("page[after]"), args.get("page[before]")
    if after:
        position = decode_cursor(after)
        start = next((i for i, k in enumerate(keys) if k > position), len(items))
        chunk = list(items[start:start + size])
        has_more = start + size < len(items)
    elif before:
        position = decode_cursor(before)
        end = next((i for i, k in enumerate(keys) if k >= position), len(items))
        start = max(0, end - size)
        chunk = list(items[start:end])
        has_more = start > 0
    else:
        chunk = list(items[:size])
        has_more = size < len(items)
    first = encode_cursor(key(chunk[0])) if chunk else None
    last = encode_cursor(key(chunk[-1])) if chunk else None
    keep = {k: v for k, v in args.items() if not k.startswith("page[")}
    path = flask.request.path
    body = {resource: [present(item) for item in chunk]}
    if extra:
        body.update(extra)
    body["meta"] = {"has_more": has_more, "after_cursor": last, "before_cursor": first}
    body["links"] = {
        "next": absolute_url(path, {**keep, "page[size]": size, "page[after]": last}) if has_more and last else None,
        "prev": absolute_url(path, {**keep, "page[size]": size, "page[before]": first}) if first else None,
    }
    return body


def offset_page(items: Sequence[dict], resource: str, maximum: int = MAX_PAGE_SIZE, extra: dict | None = None,
                limit_total: int | None = None, present: Callable[[dict], dict] = _same) -> dict:
    """One legacy offset page: ``page``/``per_page`` in, ``next_page``/``previous_page``/``count`` out."""
    args = flask.request.args
    per_page = page_size(args, key="per_page", default=maximum, maximum=maximum)
    try:
        page = max(1, int(args.get("page", 1)))
    except ValueError as exc:
        raise invalid_value("page must be an integer") from exc
    start = (page - 1) * per_page
    chunk = list(items[start:start + per_page])
    reachable = len(items) if limit_total is None else min(len(items), limit_total)
    keep = {k: v for k, v in args.items() if k not in ("page", "per_page")}
    path = flask.request.path
    body = {resource: [present(item) for item in chunk]}
    if extra:
        body.update(extra)
    body["next_page"] = (absolute_url(path, {**keep, "page": page + 1, "per_page": per_page})
                         if start + per_page < reachable else None)
    body["previous_page"] = (absolute_url(path, {**keep, "page": page - 1, "per_page": per_page})
                             if page > 1 else None)
    body["count"] = len(items)
    return body


def list_page(items: Sequence[dict], key: Callable[[dict], list], resource: str, extra: dict | None = None,
              present: Callable[[dict], dict] = _same) -> dict:
    """CBP when any ``page[...]`` parameter is present, offset otherwise (Zendesk serves both)."""
    if wants_cursor(flask.request.args):
        return cursor_page(items, key, resource, extra, present=present)
    return offset_page(items, resource, extra=extra, present=present)
