"""Incremental exports: cursor-based through zenpy (no record lost while paging), and time-based."""

from __future__ import annotations

import pytest
from zenpy.lib.api_objects import Comment, Ticket, User

pytestmark = pytest.mark.contract


def create_many(zc, count: int) -> list[int]:
    job = zc.tickets.create([Ticket(subject=f"T{n}", comment=Comment(body="b")) for n in range(count)])
    return [r.id for r in zc.job_status(id=job.id).results]


def test_cursor_export_across_pages_loses_nothing_when_tickets_change(zc, api, sandbox):
    ids = create_many(zc, 30)
    sandbox.sandbox.advance_clock(1)
    seen: list[int] = []
    touched = False
    for ticket in zc.tickets.incremental(start_time=0, per_page=10):
        seen.append(ticket.id)
        if len(seen) == 5 and not touched:
            touched = True
            # one already exported and one not yet reached change mid-stream
            api("PUT", f"/api/v2/tickets/{ids[0]}.json", json={"ticket": {"status": "open"}})
            api("PUT", f"/api/v2/tickets/{ids[20]}.json", json={"ticket": {"status": "pending"}})
    assert set(seen) == set(ids)
    assert seen.count(ids[0]) == 2  # re-exported after its change
    assert seen[-2:] == [ids[0], ids[20]]


def test_cursor_export_shape_and_resume(zc, api):
    create_many(zc, 3)
    first = api("GET", "/api/v2/incremental/tickets/cursor.json", params={"start_time": 0, "per_page": 2}).json()
    assert len(first["tickets"]) == 2 and first["end_of_stream"] is False
    assert first["after_url"].startswith("http://127.0.0.1:") and first["after_cursor"]
    assert "end_time" not in first  # zenpy stops early on a recent end_time; Zendesk omits it here
    last = api("GET", first["after_url"]).json()
    assert len(last["tickets"]) == 1 and last["end_of_stream"] is True
    # resuming from the final cursor later returns only what changed since
    assert api("GET", last["after_url"]).json()["tickets"] == []
    ticket = zc.tickets.create(Ticket(subject="Later", comment=Comment(body="b"))).ticket
    later = api("GET", last["after_url"]).json()
    assert [t["id"] for t in later["tickets"]] == [ticket.id]


def test_deleted_tickets_stay_in_the_export(zc, api):
    ids = create_many(zc, 2)
    zc.tickets.delete(Ticket(id=ids[0]))
    exported = {t.id: t.status for t in zc.tickets.incremental(start_time=0)}
    assert exported == {ids[0]: "deleted", ids[1]: "new"}


def test_start_time_filters_older_changes(zc, api, sandbox):
    create_many(zc, 2)
    sandbox.sandbox.advance_clock(3600)
    cut = int(sandbox.sandbox.now().timestamp())
    newer = zc.tickets.create(Ticket(subject="New", comment=Comment(body="b"))).ticket
    assert [t.id for t in zc.tickets.incremental(start_time=cut)] == [newer.id]


def test_sideload_users(zc, api):
    zc.tickets.create(Ticket(subject="S", comment=Comment(body="b"), requester=User(name="Ann", email="a@x.io")))
    body = api("GET", "/api/v2/incremental/tickets/cursor.json", params={"start_time": 0, "include": "users"}).json()
    assert "a@x.io" in [u["email"] for u in body["users"]]


def test_users_cursor_export(zc):
    zc.users.create(User(name="Ann Lee", email="ann@example.com"))
    exported = [u.email for u in zc.users.incremental(start_time=0)]
    assert "ann@example.com" in exported and "agent@sandbox.test" in exported


def test_time_based_export(zc, api, sandbox):
    ids = []
    for n in range(3):  # one second apart: time-based pages can only advance between distinct seconds
        ids.append(zc.tickets.create(Ticket(subject=f"T{n}", comment=Comment(body="b"))).ticket.id)
        sandbox.sandbox.advance_clock(1)
    body = api("GET", "/api/v2/incremental/tickets.json", params={"start_time": 0, "per_page": 2}).json()
    assert [t["id"] for t in body["tickets"]] == ids[:2]
    assert body["count"] == 2 and body["end_of_stream"] is False
    assert isinstance(body["end_time"], int) and f"start_time={body['end_time']}" in body["next_page"]
    rest = api("GET", body["next_page"]).json()
    assert ids[2] in [t["id"] for t in rest["tickets"]] and rest["end_of_stream"] is True


def test_start_time_is_required(api):
    response = api("GET", "/api/v2/incremental/tickets/cursor.json")
    assert response.status_code == 400
