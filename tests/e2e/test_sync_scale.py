"""1,000 Zendesk tickets appear exactly once as Salesforce Cases and HubSpot tickets; a backfill reads comment
history in bulk (the ticket event export), one request per ticket only where the export cannot vouch (slow)."""

from __future__ import annotations

import pytest

from hub.sync import cursors, run_pass
from tests.e2e.sync_support import (
    TICKET_FIELDS, converge, drain, hs_notes, hs_tickets, make_sync_hub, sf_query, start_in_thread, stats,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
N = 1000


def seed(running, count: int) -> None:
    """Tickets filed by 20 people, straight into the emulator's state (the hub's calls are what is tested)."""
    from hub.sandbox.zendesk import people, tickets
    with running.sandbox.lock:
        state = running.sandbox.emulators["zendesk"].state
        users = [people.create_user(state, {"name": f"Person {i}", "email": f"p{i}@example.org",
                                            "role": "end-user"}) for i in range(20)]
        for i in range(count):
            tickets.create_ticket(state, {"subject": f"Ticket {i}", "priority": ("low", "normal", "high")[i % 3],
                                          "tags": ["payments"], "comment": {"body": f"Body {i}"}},
                                  users[i % 20]["id"], channel="email", notify=False)


def test_a_thousand_tickets_arrive_once_each(make_hub):
    running = start_in_thread(port=0)
    try:
        hub = make_sync_hub(make_hub, running.url)
        hub.connectors["zendesk"].execute("ensure_ticket_fields", {"fields": TICKET_FIELDS}, "fields")
        run_pass(hub)
        seed(running, N)
        converge(hub, running.url, rounds=6)
        cases = sf_query(running.url, "SELECT Subject, Priority, SuppliedEmail, Deskbridge_Id__c FROM Case")
        assert len(cases) == N and len({c["Deskbridge_Id__c"] for c in cases}) == N
        assert {c["Subject"] for c in cases} == {f"Ticket {i}" for i in range(N)}
        by_subject = {c["Subject"]: c for c in cases}
        assert (by_subject["Ticket 7"]["Priority"], by_subject["Ticket 7"]["SuppliedEmail"]) == (
            "Medium", "p7@example.org")
        tickets = hs_tickets(running.url)
        assert len(tickets) == N and len({t["properties"]["deskbridge_id"] for t in tickets}) == N
    finally:
        running.stop()


def seed_history(running, count: int, replies: bool = True, who: str = "old") -> list[int]:
    """``count`` tickets filed over the past day, each then answered in public and noted internally."""
    from datetime import timedelta

    from hub.sandbox.zendesk import people, tickets
    with running.sandbox.lock:
        state = running.sandbox.emulators["zendesk"].state
        users = [people.create_user(state, {"name": f"{who} {i}", "email": f"{who}{i}@example.org",
                                            "role": "end-user"}) for i in range(5)]
        start = state.now().replace(microsecond=0) - timedelta(days=1)
        ids = [tickets.create_ticket(state, {"subject": f"{who} {i}", "comment": {"body": f"{who} body {i}"}},
                                     users[i % 5]["id"], channel="email", notify=False,
                                     at=start + timedelta(seconds=20 * i)).ticket["id"] for i in range(count)]
        for i, ticket_id in enumerate(ids if replies else []):
            tickets.update_ticket(state, ticket_id, {"comment": {"body": f"Reply {i}", "public": True}},
                                  state.agent_id)
            tickets.update_ticket(state, ticket_id, {"comment": {"body": f"Note {i}", "public": False}},
                                  state.agent_id)
    return ids


def comment_reads(url: str) -> tuple[int, int]:
    routes = stats(url)["zendesk"]["by_route"]
    return (routes.get("GET /api/v2/tickets/<int:ticket_id>/comments.json", 0),
            routes.get("GET /api/v2/incremental/ticket_events.json", 0))


def fast_crm_hub(make_hub, url: str, **zendesk):
    """A sync hub whose CRM rate budgets are lifted: comment writes are one call each (no timing is asserted)."""
    from tests.e2e.sync_support import connectors_for
    blocks = connectors_for(url)
    blocks["zendesk"].update(zendesk)
    for system in ("salesforce", "hubspot"):
        blocks[system]["per_minute"] = 60_000
    return make_hub({"connectors": blocks, "plugins": {"sync": {}},
                     "workers": {"max_attempts": 30, "backoff_base": 0.01, "backoff_cap": 0.2}})


def test_a_backfill_reads_comment_history_in_bulk_and_keeps_internal_notes_internal(make_hub):
    running = start_in_thread(port=0)
    try:
        hub = fast_crm_hub(make_hub, running.url)
        hub.connectors["zendesk"].execute("ensure_ticket_fields", {"fields": TICKET_FIELDS}, "fields")
        ids = seed_history(running, 40)
        running.sandbox.advance_clock(120)  # Zendesk exports no event of the last minute
        report = run_pass(hub, system="zendesk", backfill=True)
        assert report["systems"]["zendesk"]["ticket"]["created"] == 40
        per_ticket, bulk = comment_reads(running.url)
        assert per_ticket == 0 and bulk == 1  # one export page holds all 120 comments
        drain(hub)
        cases = {c["Subject"]: c["Id"] for c in sf_query(running.url, "SELECT Id, Subject FROM Case")}
        assert len(cases) == 40
        comments = sf_query(running.url, "SELECT CommentBody, IsPublished FROM CaseComment WHERE ParentId = "
                                         f"'{cases['old 17']}'")
        assert sorted((c["CommentBody"].split("\n")[0], c["IsPublished"]) for c in comments) == [
            ("Note 17", False), ("Reply 17", True)]
        hs = {t["properties"]["subject"]: t["id"] for t in hs_tickets(running.url)}
        notes = hs_notes(running.url, hs["old 17"])
        assert sorted(n["properties"]["hs_note_body"].split("\n")[0] for n in notes) == ["Note 17", "Reply 17"]
        assert len(sf_query(running.url, "SELECT Id FROM CaseComment")) == 2 * len(ids)  # descriptions not doubled
    finally:
        running.stop()


def test_tickets_the_export_has_not_reached_yet_are_read_one_by_one(make_hub):
    running = start_in_thread(port=0)
    try:
        hub = make_sync_hub(make_hub, running.url)
        hub.connectors["zendesk"].execute("ensure_ticket_fields", {"fields": TICKET_FIELDS}, "fields")
        seed_history(running, 60, replies=False)
        recent = seed_history(running, 3, replies=False, who="recent")  # created a day ago …
        from hub.sandbox.zendesk import tickets
        with running.sandbox.lock:  # … and answered just now: the export withholds the last minute
            state = running.sandbox.emulators["zendesk"].state
            for ticket_id in recent:
                tickets.update_ticket(state, ticket_id, {"comment": {"body": "Just now", "public": True}},
                                      state.agent_id)
        run_pass(hub, system="zendesk", backfill=True)
        per_ticket, bulk = comment_reads(running.url)
        assert per_ticket == 3 and bulk >= 1
        drain(hub)
        assert len(sf_query(running.url, "SELECT Id FROM Case")) == 63
        just_now = sf_query(running.url, "SELECT ParentId FROM CaseComment WHERE CommentBody LIKE 'Just now%'")
        assert len({c["ParentId"] for c in just_now}) == 3
    finally:
        running.stop()


def test_a_backfill_that_crashes_resumes_with_every_comment_once(make_hub, monkeypatch):
    running = start_in_thread(port=0)
    try:
        hub = fast_crm_hub(make_hub, running.url, page_size=20)
        hub.connectors["zendesk"].execute("ensure_ticket_fields", {"fields": TICKET_FIELDS}, "fields")
        seed_history(running, 60)
        running.sandbox.advance_clock(120)
        from hub.sync.engine import Engine
        engine = Engine(hub)
        original, seen = engine.apply_record, []

        def crash_in_the_third_page(session, system, object, native, comments=None):
            if object == "ticket":
                seen.append(native["id"])
                if len(seen) == 50:
                    raise SystemExit("killed")
            return original(session, system, object, native, comments)
        monkeypatch.setattr(engine, "apply_record", crash_in_the_third_page)
        with pytest.raises(SystemExit):
            run_pass(hub, system="zendesk", backfill=True, engine=engine)
        monkeypatch.setattr(engine, "apply_record", original)
        with hub.db.session() as session:
            assert cursors.load(session, "zendesk", "ticket")["comments_from"] == 0  # a backfill in progress
        reads_before, _ = comment_reads(running.url)
        assert reads_before == 0  # pages of 20: a backfill reads comment history in bulk whatever the page size
        report = run_pass(hub, system="zendesk", backfill=True, engine=engine)
        assert report["systems"]["zendesk"]["ticket"]["created"] == 20  # the page that was not stored
        assert comment_reads(running.url)[0] == reads_before  # the old tickets' comments still came in bulk
        with hub.db.session() as session:
            assert "comments_from" not in cursors.load(session, "zendesk", "ticket")  # history done
        drain(hub)
        assert len(sf_query(running.url, "SELECT Id FROM Case")) == 60
        bodies = [c["CommentBody"].split("\n")[0] for c in sf_query(running.url, "SELECT CommentBody FROM CaseComment")]
        assert sorted(bodies) == sorted([f"Reply {i}" for i in range(60)] + [f"Note {i}" for i in range(60)])
    finally:
        running.stop()
