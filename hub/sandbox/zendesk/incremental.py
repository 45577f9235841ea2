"""Incremental exports: cursor-based (tickets, users) and time-based (tickets, users, organizations).

Records are ordered by their change stamp and id. The cursor is that ``(stamp, id)`` pair, and stamps grow
strictly with every write, so a record changed while a client is paging reappears after the cursor instead of
being skipped. Deleted tickets stay in the stream with ``status: "deleted"``.
"""

from __future__ import annotations

import bisect
import functools
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


def _records(state: ZendeskState, kind: str) -> list[dict]:
    if kind == "ticket":
        return list(state.tickets.values())
    if kind == "user":
        return list(state.users.values()) + list(state.deleted_users.values())
    return list(state.organizations.values())


def _count(state: ZendeskState, kind: str) -> int:
    if kind == "ticket":
        return len(state.tickets)
    if kind == "user":
        return len(state.users) + len(state.deleted_users)
    return len(state.organizations)


def _index(state: ZendeskState, kind: str) -> tuple[list[tuple[tuple, dict]], list[tuple]]:
    """The export order ``[((stamp, id), record)]`` and its keys, rebuilt only after a change (a page of a large
    account is then a bisect, not a sort of every record)."""
    cache = state.__dict__.setdefault("_export_index", {})
    version = (state.changes, _count(state, kind))
    found = cache.get(kind)
    if found is None or found[0] != version:
        keyed = sorted(((state.stamp(kind, r["id"]), r["id"]), r) for r in _records(state, kind))
        found = cache[kind] = (version, keyed, [k for k, _ in keyed])
    return found[1], found[2]


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
    stream, keys = _index(state, kind)
    if args.get("cursor"):
        position = decode_cursor(args["cursor"])
        if not isinstance(position, dict) or "k" not in position:
            raise invalid_value("cursor is invalid")
        direction, key = position.get("d", "a"), tuple(position["k"])
    else:
        direction, key = "a", (_start_time() * 1_000_000, 0)
    if direction == "b":
        end = bisect.bisect_left(keys, key)
        page = stream[max(0, end - per_page):end]
        more_after = True
    else:
        begin = bisect.bisect_right(keys, key) if args.get("cursor") else bisect.bisect_left(keys, key)
        page = stream[begin:begin + per_page]
        more_after = len(stream) - begin > per_page
    last_key = list(page[-1][0]) if page else list(key)
    first_key = list(page[0][0]) if page else list(key)
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
    stream, keys = _index(state, kind)
    begin = bisect.bisect_left(keys, (start * 1_000_000,))
    page = stream[begin:begin + per_page]
    end_time = page[-1][0][0] // 1_000_000 if page else start
    records = [_present(state, kind, r) for _, r in page]
    keep = {k: v for k, v in flask.request.args.items() if k in ("per_page", "include")}
    body = {resource: records, "count": len(records), "end_of_stream": len(stream) - begin <= per_page,
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

    register_events(bp, emu)


# -- Incremental Ticket Event Export ------------------------------------------------------------------------------
# ``GET /api/v2/incremental/ticket_events.json?start_time=…[&include=comment_events]``: one event per ticket
# audit, oldest first, time-based pagination. Field changes are child events named by the field; a comment is
# only ``comment_present``/``comment_public`` unless the ``comment_events`` sideload asks for the comment itself.
# Like Zendesk, the most recent minute is never exported (its audits may still be written).

EVENT_LAG_SECONDS = 60
VIA_NAMES = {"api": "Web service", "email": "Mail", "web": "Web form", "mobile": "Mobile", "chat": "Chat",
             "voice": "Voice", "rule": "Rule", "sample_ticket": "Sample ticket"}


def _via_name(via: dict | None) -> str:
    channel = (via or {}).get("channel") or "api"
    return VIA_NAMES.get(channel, channel.replace("_", " ").capitalize())


@functools.lru_cache(maxsize=65536)
def _epoch_of(stamp: str) -> int:
    from hub.clock import parse_time
    return int(parse_time(stamp).timestamp())


def _child_event(audit: dict, event: dict, comments: bool) -> dict:
    via = _via_name(audit.get("via"))
    base = {"id": event["id"], "via": via, "via_reference_id": None}
    kind = event["type"]
    if kind == "Comment":
        if not comments:
            return {**base, "comment_present": True, "comment_public": bool(event.get("public")),
                    "event_type": "Comment"}
        from hub.sandbox.zendesk.comments import present_attachment
        return {**base, "via": audit.get("via"), "type": "Comment", "author_id": event["author_id"],
                "body": event["body"], "html_body": event["html_body"], "plain_body": event["plain_body"],
                "public": bool(event["public"]),
                "attachments": [present_attachment(a) for a in event.get("attachments") or []],
                "audit_id": audit["id"], "created_at": audit["created_at"], "event_type": "Comment"}
    out = {**base, event["field_name"]: event.get("value"), "event_type": kind}
    if kind == "Change":
        out["previous_value"] = event.get("previous_value")
    return out


def present_ticket_event(audit: dict, comments: bool) -> dict:
    return {"id": audit["id"], "ticket_id": audit["ticket_id"], "timestamp": _epoch_of(audit["created_at"]),
            "created_at": audit["created_at"], "updater_id": audit["author_id"], "via": _via_name(audit.get("via")),
            "system": dict((audit.get("metadata") or {}).get("system") or {}),
            "metadata": dict(audit.get("metadata") or {}), "event_type": "Audit",
            "merged_ticket_ids": [],
            "child_events": [_child_event(audit, e, comments) for e in audit["events"]]}


def _event_index(state: ZendeskState) -> tuple[list[tuple[int, int, dict]], list[tuple[int, int]]]:
    """Every audit as ``(second, audit id, audit)`` in export order, rebuilt only after a change."""
    cache = state.__dict__.setdefault("_export_index", {})
    version = (state.changes, len(state.audits))
    found = cache.get("ticket_event")
    if found is None or found[0] != version:
        items = sorted((_epoch_of(a["created_at"]), a["id"], a) for audits in state.audits.values() for a in audits)
        found = cache["ticket_event"] = (version, items, [(second, audit_id) for second, audit_id, _ in items])
    return found[1], found[2]


def ticket_event_export(state: ZendeskState) -> dict:
    start = _start_time()
    per_page = _per_page()
    include = {part.strip() for part in flask.request.args.get("include", "").split(",") if part.strip()}
    horizon = int(state.now().timestamp()) - EVENT_LAG_SECONDS  # exported: audits stamped before this second
    items, keys = _event_index(state)
    begin, end = bisect.bisect_left(keys, (start,)), bisect.bisect_left(keys, (horizon,))
    page = items[begin:min(end, begin + per_page)]
    more = end - begin > len(page)
    if page and more and page[-1][0] == start:
        # Every item of the page shares start_time's second: the export could never move past it, so Zendesk
        # returns that whole second (a page may then exceed per_page) and the next page starts after it.
        second_end = min(end, bisect.bisect_left(keys, (start + 1,)))
        page = items[begin:second_end]
        more = end > second_end
        end_time = start + 1
    else:
        end_time = page[-1][0] if page else start
    events = [present_ticket_event(a, "comment_events" in include) for _, _, a in page]
    keep = {k: v for k, v in flask.request.args.items() if k in ("per_page", "include")}
    return {"ticket_events": events, "count": len(events), "end_of_stream": not more, "end_time": end_time,
            "next_page": absolute_url(flask.request.path, {**keep, "start_time": end_time})}


def register_events(bp: flask.Blueprint, emu: "ZendeskEmulator") -> None:
    @emu.route(bp, "/api/v2/incremental/ticket_events.json", methods=["GET"])
    def ticket_events():
        emu.check_incremental_limit()
        return ticket_event_export(emu.state)
