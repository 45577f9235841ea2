"""The shared steps of every webhook route: bounded body read, JSON parse, error bodies, durable store.

Order (reliability notes §1): size cap → raw bytes → verify → parse → schema → store + commit → 2xx.
Nothing here touches the database before the signature has been verified.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable

from flask import Response, current_app, g, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from hub.inbox import store_batch

log = logging.getLogger(__name__)
READ_CHUNK = 64 * 1024
COMMITTER = "deskbridge.webhooks.commit"


class IntakeError(Exception):
    """Ends a webhook request with ``status`` and a JSON body naming the problem."""

    def __init__(self, status: int, error: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.field = status, error, message, field


def error_response(exc: IntakeError) -> Response:
    body = {"error": exc.error, "message": exc.message, "status": exc.status,
            "correlation_id": g.get("correlation_id")}
    if exc.field is not None:
        body["field"] = exc.field
    response = jsonify(body)
    response.status_code = exc.status
    if exc.status == 503:
        response.headers["Retry-After"] = "5"
    return response


def read_body(cap: int) -> bytes:
    """At most ``cap`` bytes of raw body; 413 beyond, also for chunked bodies without Content-Length."""
    length = request.content_length
    if length is not None and length > cap:
        raise IntakeError(413, "payload_too_large", f"request body is larger than the limit of {cap} bytes")
    chunks, total = [], 0
    try:
        stream = request.stream
        while total <= cap:
            chunk = stream.read(min(READ_CHUNK, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except RequestEntityTooLarge:
        total = cap + 1
    except (ClientDisconnected, OSError):
        raise IntakeError(400, "incomplete_body", "the request body ended before its declared length") from None
    if total > cap:
        raise IntakeError(413, "payload_too_large", f"request body is larger than the limit of {cap} bytes")
    return b"".join(chunks)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes) -> object:
    """Strict JSON (UTF-8, no NaN/Infinity); 400 naming the problem otherwise."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise IntakeError(400, "malformed_json", "body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise IntakeError(400, "malformed_json", f"body is not valid JSON: {exc.msg} at line {exc.lineno} "
                                                 f"column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        # Over-deep nesting and over-long integers land here.
        raise IntakeError(400, "malformed_json", f"body is not acceptable JSON: {str(exc)[:120]}") from None


class _Ticket:
    __slots__ = ("source", "items", "wake", "done", "result", "failed")

    def __init__(self, source: str, items: list):
        self.source, self.items = source, items
        self.wake = threading.Event()  # set when committed (done) or when this request must lead the next commit
        self.done = False
        self.result: list[tuple[int, bool]] = []
        self.failed = False


class GroupCommit:
    """Stores concurrent deliveries in one transaction and acks each only after that commit.

    SQLite has one writer and each commit costs an fsync plus a fixed overhead, so concurrent request threads
    share commits: the first to arrive leads — it takes every queued delivery, commits them together (one
    fsync) and wakes their threads — while later arrivals queue. When a commit ends with deliveries queued
    behind it, the oldest queued request leads the next one (no thread keeps committing for others, no
    polling, no timer). Nothing is acknowledged before the commit that holds it; if that commit fails, every
    delivery in it gets 503 and is retried by its sender.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._leading = False

    def store(self, db, source: str, items: Iterable[tuple[str, str, dict]]) -> list[tuple[int, bool]]:
        ticket = _Ticket(source, list(items))
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        if not lead:
            ticket.wake.wait()
            lead = not ticket.done  # woken to lead: its ticket is the oldest still queued
        if lead:
            self._lead(db)
        if ticket.failed:
            raise IntakeError(503, "unavailable", "the event could not be stored; retry later")
        return ticket.result

    def _lead(self, db) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            self._commit(db, batch)
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].wake.set()  # hand the lead over; _leading stays True
                else:
                    self._leading = False

    @staticmethod
    def _commit(db, batch: list[_Ticket]) -> None:
        items = [(ticket.source, event_id, event_type, payload)
                 for ticket in batch for event_id, event_type, payload in ticket.items]
        try:
            results = store_batch(db, items)
            for ticket in batch:
                ticket.result, results = results[:len(ticket.items)], results[len(ticket.items):]
        except (SQLAlchemyError, sqlite3.Error, ValueError, TypeError) as exc:
            log.error("%d webhook deliveries not stored: %s", len(batch), type(exc).__name__)
            for ticket in batch:
                ticket.failed = True
        finally:
            for ticket in batch:
                ticket.failed = ticket.failed or len(ticket.result) != len(ticket.items)
                ticket.done = True
                ticket.wake.set()


def store(source: str, events: Iterable[tuple[str, str, dict]]) -> list[tuple[int, bool]]:
    """Store ``(event_id, type, payload)`` items durably (committed) before returning; 503 if the store is down."""
    app = current_app
    committer = app.extensions.get(COMMITTER)
    if committer is None:
        committer = app.extensions.setdefault(COMMITTER, GroupCommit())
    hub = app.extensions["deskbridge"]
    results = committer.store(hub.db, source, events)
    for _, created in results:
        hub.metrics.events_in.labels(source=source, duplicate=str(not created).lower()).inc()
    return results


def accepted(results: list[tuple[int, bool]]) -> Response:
    """202 with the inbox id(s) of new events; 200 ``duplicate`` when every event was already stored."""
    new = [row_id for row_id, created in results if created]
    if not new:
        ids = [row_id for row_id, _ in results]
        response = jsonify(status="duplicate", id=ids[0] if ids else None)
        response.status_code = 200
        return response
    body = {"status": "accepted", "id": new[0]}
    if len(results) > 1:
        body.update(ids=new, duplicates=len(results) - len(new))
    response = jsonify(body)
    response.status_code = 202
    return response
