"""Incremental exports: cursor-based (tickets, users) and time-based (tickets, users, organizations).

Records are ordered by their change stamp and id. The cursor is that ``(stamp, id)`` pair, and stamps grow
strictly with every write, so a record changed while a client is paging reappears after the cursor instead of
being skipped. Deleted tickets stay in the stream with ``status: "deleted"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from hub.sandbox.zendesk import people, tickets
from hub.sandbox.zendesk.errors import invalid_value
from hub.sandbox.zendesk.pagination import absolute_url, decode_cursor, encode_cursor
from hub.sandbox.zendesk.state import ZendeskState

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.zendesk.emulator import ZendeskEmulator

MAX_PER_PAGE = 1000


def _per_page() -> int:
    raw = flask.request.args.get("per_page")
    if raw is None:
        return MAX_PER_PAGE
    try:
        return max(1, min(MAX_PER_PAGE, int(raw)))
    except ValueError as exc:
        raise invalid_value("per_page must be an integer") from exc


def _start_time() -> int:
    raw = flask.request.args.get("start_time")
    if raw is None:
        raise invalid_value("start_time is required")
    try:
        return int(raw)
    except ValueError as exc:
        raise invalid_value("start_time must be a unix timestamp in seconds") from exc


def _stream(state: ZendeskState, kind: str) -> list[tuple[list, dict]]:
    if kind == "ticket":
        records = list(state.tickets.values())
    elif kind == "user":
        records = list(state.users.values()) + list(state.deleted_users.values())
    else:
        records = list(state.organizations.values())
    keyed = [([state.stamp(kind, r["id"]), r["id"]], r) for r in records]
    keyed.sort(key=lambda pair: pair[0])
    return keyed


def _present(state: ZendeskState, kind: str, record: dict) -> dict:
    if kind == "ticket":
        return tickets.present_ticket(state, record)
    if kind == "user":
        return people.present_user(record)
    return people.present_org(record)


def sideloads(state: ZendeskState, records: list[dict]) -> dict:
    """``include=users,groups,organizations`` sideloads for the given ticket records."""
    include = {part.strip() for part in flask.request.args.get("include", "").split(",") if part.strip()}
    out: dict[str, list[dict]] = {}
    if "users" in include:
        ids = {r.get(k) for r in records for k in ("requester_id", "submitter_id", "assignee_id")} - {None}
        out["users"] = [people.present_user(state.users[i]) for i in sorted(ids) if i in state.users]
    if "groups" in include:
        ids = {r.get("group_id") for r in records} - {None}
        out["groups"] = [people.present_group(state.groups[i]) for i in sorted(ids) if i in state.groups]
    if "organizations" in include:
        ids = {r.get("organization_id") for r in records} - {None}
        out["organizations"] = [people.present_org(state.organizations[i]) for i in sorted(ids)
                                if i in state.organizations]
    return out


def cursor_export(state: ZendeskState, kind: str, resource: str) -> dict:
    args = flask.request.args
    per_page = _per_page()
    stream = _stream(state, kind)
    if args.get("cursor"):
        position = decode_cursor(args["cursor"])
        if not isinstance(position, dict) or "k" not in position:
            raise invalid_value("cursor is invalid")
        direction, key = position.get("d", "a"), position["k"]
    else:
        direction, key = "a", [_start_time() * 1_000_000, 0]
    if direction == "b":
        before = [pair for pair in stream if pair[0] < key]
        page = before[-per_page:]
        more_after = True
    else:
        after = [pair for pair in stream if pair[0] > key or (not args.get("cursor") and pair[0] >= key)]
        page = after[:per_page]
        more_after = len(after) > per_page
    last_key = page[-1][0] if page else key
    first_key = page[0][0] if page else key
    after_cursor = encode_cursor({"d": "a", "k": last_key})
    before_cursor = encode_cursor({"d": "b", "k": first_key})
    keep = {k: v for k, v in args.items() if k in ("per_page", "include")}
    records = [_present(state, kind, r) for _, r in page]
    body = {resource: records,
            "after_url": absolute_url(flask.request.path, {**keep, "cursor": after_cursor}),
            "after_cursor": after_cursor,
            "before_url": absolute_url(flask.request.path, {**keep, "cursor": before_cursor}) if page else None,
            "before_cursor": before_cursor if page else None,
            "end_of_stream": not more_after}
    body.update(sideloads(state, records))
    return body


def time_export(state: ZendeskState, kind: str, resource: str) -> dict:
    start = _start_time()
    per_page = _per_page()
    stream = [pair for pair in _stream(state, kind) if pair[0][0] >= start * 1_000_000]
    page = stream[:per_page]
    end_time = page[-1][0][0] // 1_000_000 if page else start
    records = [_present(state, kind, r) for _, r in page]
    keep = {k: v for k, v in flask.request.args.items() if k in ("per_page", "include")}
    body = {resource: records, "count": len(records), "end_of_stream": len(stream) <= per_page,
            "end_time": end_time,
            "next_page": absolute_url(flask.request.path, {**keep, "start_time": end_time})}
    body.update(sideloads(state, records))
    return body


def register(bp: flask.Blueprint, emu: "ZendeskEmulator") -> None:
    route = emu.route

    @route(bp, "/api/v2/incremental/tickets/cursor.json", methods=["GET"])
    def tickets_cursor():
        emu.check_incremental_limit()
        return cursor_export(emu.state, "ticket", "tickets")

    @route(bp, "/api/v2/incremental/users/cursor.json", methods=["GET"])
    def users_cursor():
        emu.check_incremental_limit()
        return cursor_export(emu.state, "user", "users")

    @route(bp, "/api/v2/incremental/tickets.json", methods=["GET"])
    def tickets_by_time():
        emu.check_incremental_limit()
        return time_export(emu.state, "ticket", "tickets")

    @route(bp, "/api/v2/incremental/users.json", methods=["GET"])
    def users_by_time():
        emu.check_incremental_limit()
        return time_export(emu.state, "user", "users")

    @route(bp, "/api/v2/incremental/organizations.json", methods=["GET"])
    def organizations_by_time():
        emu.check_incremental_limit()
        return time_export(emu.state, "organization", "organizations")
