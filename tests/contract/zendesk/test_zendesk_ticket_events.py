"""Incremental Ticket Event Export (``incremental/ticket_events.json``): one event per ticket audit, time-based
pages, comments only as flags unless the ``comment_events`` sideload asks for them, the last minute withheld."""

from __future__ import annotations

from datetime import timedelta

import pytest
from zenpy.lib.api_objects import Comment, Ticket

pytestmark = pytest.mark.contract


def history(sandbox, count: int, seconds_apart: int = 10, comments: int = 1) -> list[int]:
    """``count`` tickets filed an hour ago (history, as a backfill finds it), each with extra comments."""
    from hub.sandbox.zendesk import tickets
    emulator = sandbox.sandbox.emulators["zendesk"]
    ids = []
    with sandbox.sandbox.lock:
        state = emulator.state
        start = state.now().replace(microsecond=0) - timedelta(hours=1)
        for n in range(count):
            at = start + timedelta(seconds=n * seconds_apart)
            ticket = tickets.create_ticket(state, {"subject": f"T{n}", "comment": {"body": f"first {n}"}},
                                           state.agent_id, at=at, notify=False).ticket
            ids.append(ticket["id"])
    for n, ticket_id in enumerate(ids):
        for k in range(comments):
            with sandbox.sandbox.lock:
                tickets.update_ticket(emulator.state, ticket_id, {"comment": {"body": f"note {n}.{k}",
                                                                              "public": k % 2 == 1}},
                                      emulator.state.agent_id)
    return ids


def test_zenpy_reads_ticket_events_with_comments(zc, sandbox):
    ids = history(sandbox, 3, comments=0)
    events = list(zc.tickets.events(start_time=0, include="comment_events"))
    assert [e.ticket_id for e in events] == ids
    first = events[0]
    assert first.event_type == "Audit" and isinstance(first.timestamp, int) and first.updater_id
    comments = [c for c in first.child_events if c["event_type"] == "Comment"]
    assert comments[0]["body"] == "first 0" and comments[0]["public"] is True
    assert comments[0]["audit_id"] == first.id and comments[0]["created_at"] == first.created_at
    creates = {k: c[k] for c in first.child_events if c["event_type"] == "Create" for k in c
               if k not in ("id", "via", "via_reference_id", "event_type")}
    assert creates["subject"] == "T0" and creates["status"] == "new"


def test_without_the_sideload_a_comment_is_only_flagged(api, sandbox):
    history(sandbox, 1, comments=0)
    body = api("GET", "/api/v2/incremental/ticket_events.json", params={"start_time": 0}).json()
    [comment] = [c for c in body["ticket_events"][0]["child_events"] if c["event_type"] == "Comment"]
    assert comment["comment_present"] is True and comment["comment_public"] is True
    assert "body" not in comment


def test_changes_carry_the_previous_value_and_internal_notes_stay_internal(zc, api, sandbox):
    [ticket_id] = history(sandbox, 1, comments=0)
    zc.tickets.update(Ticket(id=ticket_id, status="pending", comment=Comment(body="internal", public=False)))
    sandbox.sandbox.advance_clock(120)
    body = api("GET", "/api/v2/incremental/ticket_events.json",
               params={"start_time": 0, "include": "comment_events"}).json()
    last = body["ticket_events"][-1]
    change = next(c for c in last["child_events"] if c["event_type"] == "Change")
    assert change["status"] == "pending" and change["previous_value"] == "new"
    note = next(c for c in last["child_events"] if c["event_type"] == "Comment")
    assert note["body"] == "internal" and note["public"] is False


def test_the_last_minute_is_not_exported(zc, api, sandbox):
    ids = history(sandbox, 2, comments=0)
    fresh = zc.tickets.create(Ticket(subject="Now", comment=Comment(body="b"))).ticket
    body = api("GET", "/api/v2/incremental/ticket_events.json", params={"start_time": 0}).json()
    assert [e["ticket_id"] for e in body["ticket_events"]] == ids and body["end_of_stream"] is True
    sandbox.sandbox.advance_clock(61)
    body = api("GET", "/api/v2/incremental/ticket_events.json", params={"start_time": 0}).json()
    assert [e["ticket_id"] for e in body["ticket_events"]] == ids + [fresh.id]


def test_time_based_pages_cover_every_audit_once_deduped(api, sandbox):
    ids = history(sandbox, 25, seconds_apart=1, comments=2)
    sandbox.sandbox.advance_clock(120)
    url, params, seen, pages = "/api/v2/incremental/ticket_events.json", {"start_time": 0, "per_page": 10,
                                                                          "include": "comment_events"}, {}, 0
    while True:
        body = api("GET", url, params=params).json()
        pages += 1
        assert body["count"] == len(body["ticket_events"])
        for event in body["ticket_events"]:
            seen[event["id"]] = event
        if body["end_of_stream"]:
            break
        url, params = body["next_page"], None
        assert pages < 50
    bodies = {}
    for event in sorted(seen.values(), key=lambda e: (e["timestamp"], e["id"])):
        for child in event["child_events"]:
            if child["event_type"] == "Comment":
                bodies.setdefault(event["ticket_id"], []).append(child["body"])
    assert sorted(bodies) == sorted(ids)
    assert bodies[ids[7]] == ["first 7", "note 7.0", "note 7.1"]


def test_a_second_with_more_audits_than_a_page_is_returned_whole(api, sandbox):
    ids = history(sandbox, 6, seconds_apart=0, comments=0)  # six tickets stamped in the same second
    first = api("GET", "/api/v2/incremental/ticket_events.json", params={"start_time": 0, "per_page": 4}).json()
    second = first["ticket_events"][0]["timestamp"]
    assert len(first["ticket_events"]) == 4 and first["end_time"] == second and not first["end_of_stream"]
    # Starting at that second, a page of 4 could never get past it: the whole second comes back, and the
    # next page starts after it.
    whole = api("GET", first["next_page"]).json()
    assert [e["ticket_id"] for e in whole["ticket_events"]] == ids
    assert whole["end_time"] == second + 1 and whole["end_of_stream"] is True


def test_start_time_is_required(api):
    assert api("GET", "/api/v2/incremental/ticket_events.json").status_code == 400
