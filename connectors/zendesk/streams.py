"""Zendesk streams, declared as data, and the incremental reader that turns them into pages with cursors.

Cursor: ``{"updated_at", "id"}`` of the last record handed out, plus ``after_cursor`` (Zendesk's own incremental
cursor, exact: a record changed while paging reappears after it), ``start_time`` for time-based exports, and
``recent`` — the ``[id, updated_at]`` versions already handed out inside the overlap window, so re-reading
that window never hands out the same version twice. Zendesk stamps to the second, so only versions whose
second is over ("settled") are remembered: a record changed again within the same second keeps the same
``updated_at`` and must not be mistaken for a version already seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from hub import clock, streams
from hub.streams import SeenVersions

RECENT_CAP = 1000
SETTLE_SECONDS = 2


@dataclass(frozen=True)
class Stream(streams.Stream):
    mode: str  # "cursor" (incremental cursor export) or "time" (time-based export)
    resource: str


STREAMS = {
    "ticket": Stream("tickets", "ticket", "incremental/tickets/cursor.json", "id", "updated_at", 1000, "cursor",
                     "tickets"),
    "customer": Stream("users", "customer", "incremental/users/cursor.json", "id", "updated_at", 1000, "cursor",
                       "users"),
    "organisation": Stream("organizations", "organisation", "incremental/organizations.json", "id", "updated_at",
                           1000, "time", "organizations"),
}


def _epoch(value: str) -> int:
    return int(clock.parse_time(value).timestamp())


def settled_before() -> str:
    """Versions stamped before this instant can no longer change without a new ``updated_at``."""
    return clock.isoformat(clock.now() - timedelta(seconds=SETTLE_SECONDS))


def _is_deleted(stream: Stream, record: dict) -> bool:
    if stream.object == "ticket":
        return record.get("status") == "deleted"
    if stream.object == "customer":
        return record.get("active") is False
    return bool(record.get("deleted_at"))


class Reader:
    """Pages of one stream after a cursor; dedupes versions inside the overlap window."""

    def __init__(self, client, stream: Stream, overlap_seconds: int, page_size: int | None = None):
        self.client = client
        self.stream = stream
        self.overlap = overlap_seconds
        self.page_size = page_size or stream.page_size

    def read(self, cursor: dict | None, backfill: bool) -> Iterator[tuple[list[dict], dict]]:
        if cursor is None and not backfill:
            yield from self._from_now()
            return
        cursor = dict(cursor or {})
        recent = SeenVersions(cursor.get("recent"), RECENT_CAP, settled=settled_before())
        floor = cursor.get("floor")
        if self.stream.mode == "cursor" and cursor.get("after_cursor"):
            url, params = self.stream.path, {"cursor": cursor["after_cursor"], "per_page": self.page_size}
        else:
            start = 0 if not cursor.get("updated_at") else max(0, _epoch(cursor["updated_at"]) - self.overlap)
            url, params = self.stream.path, {"start_time": start, "per_page": self.page_size}
        while True:
            body = self.client.get_json(url, params)
            page = []
            for record in body.get(self.stream.resource) or []:
                version = (str(record["id"]), record.get("updated_at"))
                if version in recent or (floor and (record.get("updated_at") or "") < floor):
                    continue
                recent.add(version)
                if _is_deleted(self.stream, record):
                    record["deleted"] = True
                page.append(record)
                cursor["updated_at"], cursor["id"] = record.get("updated_at"), str(record["id"])
            cursor["recent"] = self._window(recent, cursor.get("updated_at"))
            nxt = self._next(body, cursor)
            yield page, dict(cursor)
            if nxt is None or nxt == (url, params):
                return
            url, params = nxt

    def _next(self, body: dict, cursor: dict):
        if self.stream.mode == "cursor":
            if body.get("after_cursor"):
                cursor["after_cursor"] = body["after_cursor"]
            if body.get("end_of_stream") or not body.get("after_url"):
                return None
            return body["after_url"], None
        if body.get("end_time") is not None:
            cursor["start_time"] = body["end_time"]
        if body.get("end_of_stream") or not body.get("next_page"):
            return None
        return body["next_page"], None

    def _window(self, recent: SeenVersions, newest: str | None) -> list[list[str]]:
        if not newest:
            return []
        return recent.window(_epoch(newest) - self.overlap, stamp=_epoch)

    def _from_now(self) -> Iterator[tuple[list[dict], dict]]:
        now = clock.now()
        stamp = clock.isoformat(now)
        cursor = {"updated_at": stamp, "id": "", "floor": stamp, "recent": []}
        if self.stream.mode == "cursor":
            # Ask Zendesk for its own cursor at "now", so later reads are exact rather than time-based.
            # What is already stamped this second happened before this call: page past it (normally nothing).
            url, params = self.stream.path, {"start_time": int(now.timestamp()), "per_page": self.page_size}
            while True:
                body = self.client.get_json(url, params)
                if body.get("after_cursor"):
                    cursor["after_cursor"] = body["after_cursor"]
                if body.get("end_of_stream") or not body.get("after_url"):
                    break
                url, params = body["after_url"], None
        yield [], cursor


# -- comments of many tickets per request ------------------------------------------------------------------------
COMMENT_KEYS = ("id", "type", "author_id", "body", "html_body", "plain_body", "public", "attachments", "audit_id",
                "via", "created_at")


@dataclass
class CommentPage:
    """One page of the ticket event export: ``(ticket id, comment)`` pairs in the order they were written, and
    how far the export has been read (``end_time``; with ``end_of_stream`` everything up to it is in)."""

    comments: list[tuple[str, dict]]
    end_time: int
    end_of_stream: bool


def comment_events(client, start_time: int, page_size: int = 1000) -> Iterator[CommentPage]:
    """Every comment written since ``start_time`` (epoch seconds), many tickets per request: Zendesk's
    Incremental Ticket Event Export with the ``comment_events`` sideload (one event per ticket audit; the last
    minute is never exported). Comments come in the shape ``tickets/{id}/comments.json`` has; a comment on a
    page boundary may come twice (time-based pages overlap by a second), the caller dedupes by id."""
    url, params = "incremental/ticket_events.json", {"start_time": max(0, int(start_time)),
                                                     "include": "comment_events", "per_page": page_size}
    while True:
        body = client.get_json(url, params)
        found = []
        for event in body.get("ticket_events") or []:
            for child in event.get("child_events") or []:
                if child.get("event_type") == "Comment" and "body" in child:
                    comment = {k: child.get(k) for k in COMMENT_KEYS}
                    comment["type"] = "Comment"
                    comment["created_at"] = comment["created_at"] or event.get("created_at")
                    found.append((str(event["ticket_id"]), comment))
        end_time = int(body.get("end_time") or 0)
        done = bool(body.get("end_of_stream")) or not body.get("next_page")
        yield CommentPage(found, end_time, done)
        if done or body["next_page"] == url:
            return
        url, params = body["next_page"], None
