"""1,000 Zendesk tickets appear exactly once as Salesforce Cases and HubSpot tickets (slow)."""

from __future__ import annotations

import pytest

from hub.sync import run_pass
from tests.e2e.sync_support import TICKET_FIELDS, converge, hs_tickets, make_sync_hub, sf_query, start_in_thread

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
