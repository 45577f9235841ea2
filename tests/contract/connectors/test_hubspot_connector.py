"""The HubSpot connector through hubspot-api-client against the sandbox emulator over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
import urllib3

from connectors.hubspot import Config
from connectors.hubspot.connector import HubSpotConnector, marker
from hub.errors import AuthError, PermanentError, RetryableError
from hub.http import SystemGuard
from hub.pipeline import process_next_action
from tests.contract.connectors.conftest import FakeTime, control, deliver_with_retries, fake_budget

pytestmark = pytest.mark.contract
SANDBOX_SYSTEMS = ("hubspot",)


def make(sandbox, **overrides) -> HubSpotConnector:
    options = {"base_url": sandbox.url, "access_token": "sandbox-token", "read_timeout": 5.0, "per_minute": 60000,
               "burst": 200, **overrides}
    return HubSpotConnector(Config(**options))


@pytest.fixture
def hs(sandbox):
    connector = make(sandbox)
    yield connector
    connector.close()


def routes(sandbox) -> dict:
    return control(sandbox, "GET", "/_sandbox/stats")["hubspot"]["by_route"]


def calls(sandbox, route: str | None = None) -> int:
    """HTTP requests the portal has answered so far (on one route, or all)."""
    answered = routes(sandbox)
    return answered.get(route, 0) if route else sum(answered.values())


BATCH = "POST /crm/v3/objects/<objtype:object_type>/batch/"
NOTE_READ = "POST /crm/v4/associations/<objtype:from_type>/<objtype:to_type>/batch/read"


def store(sandbox):
    return sandbox.sandbox.emulators["hubspot"].store


def live(sandbox, object_type: str, prop: str, value: str) -> list:
    return [r for r in store(sandbox).live(object_type) if r.properties.get(prop) == value]


# -- writes: idempotent -------------------------------------------------------------------------------------
def test_upsert_ticket_twice_is_one_ticket(sandbox, hs):
    first = hs.execute("upsert_ticket", {"external_id": "T-1", "ticket": {"subject": "Card lost",
                                                                           "hs_pipeline_stage": "1"}}, "k")
    again = hs.execute("upsert_ticket", {"external_id": "T-1", "ticket": {"subject": "Card lost!"}}, "k")
    assert first["id"] == again["id"] and first["created"] is True and again["created"] is False
    assert again["updated_at"] >= first["updated_at"]
    assert len(live(sandbox, "tickets", "deskbridge_id", "T-1")) == 1
    found = hs.find("ticket", "T-1")
    assert found["properties"]["subject"] == "Card lost!"
    assert found["properties"]["hs_lastmodifieddate"] == again["updated_at"]
    assert hs.get("ticket", first["id"])["properties"]["deskbridge_id"] == "T-1"


def test_upsert_contact_by_bank_id_or_email_and_company(sandbox, hs):
    by_id = hs.execute("upsert_contact", {"external_id": "CUST-1", "contact": {"email": "a@example.test"}}, "a")
    again = hs.execute("upsert_contact", {"external_id": "CUST-1", "contact": {"firstname": "Ann"}}, "a")
    by_email = hs.execute("upsert_contact", {"contact": {"email": "b@example.test", "lastname": "B"}}, "b")
    twice = hs.execute("upsert_contact", {"email": "B@example.test", "contact": {"firstname": "Bo"}}, "b")
    company = hs.execute("upsert_company", {"external_id": "ORG-1", "company": {"name": "Acme"}}, "c")
    assert by_id["id"] == again["id"] and by_email["id"] == twice["id"]
    assert hs.find("customer", "CUST-1")["properties"]["firstname"] == "Ann"
    assert hs.find("customer", "b@example.test")["properties"]["firstname"] == "Bo"
    assert hs.find("organisation", "ORG-1")["id"] == company["id"]
    assert hs.find("customer", "CUST-404") is None
    with pytest.raises(PermanentError):
        hs.execute("upsert_contact", {"contact": {"firstname": "nobody"}}, "x")


def test_update_ticket_by_id_and_external_id(hs):
    ticket = hs.execute("upsert_ticket", {"external_id": "T-2", "ticket": {"subject": "Fees",
                                                                            "hs_pipeline_stage": "1"}}, "k")
    hs.execute("update_ticket", {"ticket_id": ticket["id"], "properties": {"hs_ticket_priority": "HIGH"}}, "u1")
    result = hs.execute("update_ticket", {"external_id": "T-2", "properties": {"hs_pipeline_stage": "4"}}, "u2")
    properties = hs.get("ticket", ticket["id"])["properties"]
    assert result["id"] == ticket["id"]
    assert properties["hs_ticket_priority"] == "HIGH" and properties["hs_pipeline_stage"] == "4"


def test_update_of_a_missing_ticket_is_permanent_404(hs):
    with pytest.raises(PermanentError) as caught:
        hs.execute("update_ticket", {"ticket_id": "99999", "properties": {"subject": "x"}}, "u")
    assert caught.value.status == 404
    with pytest.raises(PermanentError) as caught:
        hs.execute("update_ticket", {"external_id": "nope", "properties": {"subject": "x"}}, "u")
    assert caught.value.status == 404


def test_note_added_once_with_marker(sandbox, hs):
    ticket = hs.execute("upsert_ticket", {"external_id": "T-3", "ticket": {"subject": "Dispute",
                                                                            "hs_pipeline_stage": "1"}}, "k")
    first = hs.execute("add_note", {"external_id": "T-3", "body": "Customer context"}, "note-1")
    again = hs.execute("add_note", {"external_id": "T-3", "body": "Customer context"}, "note-1")
    other = hs.execute("add_note", {"ticket_id": ticket["id"], "body": "Second"}, "note-2")
    assert first["id"] == again["id"] and again["created"] is False and other["id"] != first["id"]
    notes = hs.read_comments(ticket["id"])
    assert [n["id"] for n in notes] == [first["id"], other["id"]]
    assert notes[0]["properties"]["hs_note_body"].endswith(marker("note-1"))
    with pytest.raises(PermanentError):
        hs.execute("add_note", {"external_id": "missing", "body": "x"}, "note-3")


def test_archive_note_removes_only_that_note_idempotently(sandbox, hs):
    ticket = hs.execute("upsert_ticket", {"external_id": "T-5", "ticket": {"subject": "Card stolen",
                                                                            "hs_pipeline_stage": "1"}}, "k")
    mine, theirs, agent = (hs.execute("add_note", {"ticket_id": ticket["id"], "body": body}, f"n-{n}")
                           for n, body in enumerate(("Call me", "Block it", "Blocked")))
    start = next(iter(hs.read_changes("comment", None, backfill=False)))[1]
    assert hs.execute("archive_note", {"note_id": mine["id"]}, "a-1") == {"id": mine["id"], "archived": True}
    assert [n["id"] for n in hs.read_comments(ticket["id"])] == [theirs["id"], agent["id"]]
    assert hs.get("ticket", ticket["id"]) is not None
    assert hs.execute("archive_note", {"note_id": mine["id"]}, "a-1") == {"id": mine["id"], "archived": True}
    # The note stream reports it deleted, once.
    changed = [r for page, _ in hs.read_changes("comment", start, backfill=True) for r in page]
    assert [(r["id"], r.get("deleted")) for r in changed] == [(mine["id"], True)]
    # An answer lost after HubSpot archived the note: the retry is answered 204 again and changes nothing else.
    pool = hs.client.basic.api_client.rest_client.pool_manager
    original, lost = pool.request, []

    def request_then_lose(method, url, *args, **kwargs):
        response = original(method, url, *args, **kwargs)
        if not lost and method == "DELETE" and url.endswith(f"/crm/v3/objects/notes/{theirs['id']}"):
            lost.append(response.status)  # HubSpot archived the note; the answer never arrives
            raise urllib3.exceptions.ReadTimeoutError(pool, url, "read timed out")
        return response
    pool.request = request_then_lose
    with pytest.raises(RetryableError):
        hs.execute("archive_note", {"note_id": theirs["id"]}, "a-2")
    assert hs.execute("archive_note", {"note_id": theirs["id"]}, "a-2")["archived"] is True
    assert lost == [204] and [n["id"] for n in hs.read_comments(ticket["id"])] == [agent["id"]]
    with pytest.raises(PermanentError, match="note_id must be"):
        hs.execute("archive_note", {"note_id": "../tickets/1"}, "a-3")
    assert hs.get("ticket", ticket["id"]) is not None


def test_archive_ticket_is_idempotent_and_read_as_deleted(hs):
    ticket = hs.execute("upsert_ticket", {"external_id": "T-4", "ticket": {"subject": "Gone",
                                                                            "hs_pipeline_stage": "1"}}, "k")
    start = next(iter(hs.read_changes("ticket", None, backfill=False)))[1]
    hs.execute("archive_ticket", {"external_id": "T-4"}, "a")
    assert hs.execute("archive_ticket", {"external_id": "T-4"}, "a")["archived"] is True
    assert hs.execute("archive_ticket", {"ticket_id": ticket["id"]}, "a")["archived"] is True
    changed = [r for page, _ in hs.read_changes("ticket", start, backfill=True) for r in page]
    assert [(r["id"], r["deleted"]) for r in changed] == [(ticket["id"], True)]
    assert hs.get("ticket", ticket["id"]) is None


def test_gdpr_delete_contact_is_idempotent(sandbox, hs):
    contact = hs.execute("upsert_contact", {"external_id": "CUST-2", "contact": {"email": "g@example.test"}}, "c")
    hs.execute("gdpr_delete_contact", {"external_id": "CUST-2"}, "g")
    assert hs.execute("gdpr_delete_contact", {"contact_id": contact["id"]}, "g")["deleted"] is True
    assert hs.get("customer", contact["id"]) is None
    assert contact["id"] not in store(sandbox).records["contacts"]


def test_ensure_properties_creates_only_missing(hs):
    wanted = {"object": "tickets", "properties": [{"name": "deskbridge_id"},
                                                  {"name": "refund_status", "label": "Refund status"}]}
    assert hs.execute("ensure_properties", wanted, "p")["created"] == ["refund_status"]
    assert hs.execute("ensure_properties", wanted, "p")["created"] == []
    hs.execute("upsert_ticket", {"external_id": "T-5", "ticket": {"subject": "x", "hs_pipeline_stage": "1",
                                                                   "refund_status": "requested"}}, "k")
    assert hs.find("ticket", "T-5")["properties"]["refund_status"] == "requested"


def test_250_tickets_are_three_batch_calls_with_per_item_outcomes(sandbox, hs):
    items = [({"external_id": f"B-{n}", "ticket": {"subject": f"Batch {n}", "hs_pipeline_stage": "1"}}, f"k{n}")
             for n in range(250)]
    items.append(({"ticket": {"subject": "no id"}}, "k-none"))
    before = routes(sandbox).get("POST /crm/v3/objects/<objtype:object_type>/batch/upsert", 0)
    outcomes = hs.execute_batch("upsert_ticket", items)
    assert routes(sandbox)["POST /crm/v3/objects/<objtype:object_type>/batch/upsert"] - before == 3
    assert isinstance(outcomes[-1], PermanentError)
    assert all(o["created"] for o in outcomes[:-1]) and len({o["id"] for o in outcomes[:-1]}) == 250
    assert len([r for r in store(sandbox).live("tickets") if (r.properties.get("deskbridge_id") or "")
                .startswith("B-")]) == 250
    repeated = hs.execute_batch("upsert_ticket", [items[0], items[0], items[1]])
    assert [o["id"] for o in repeated] == [outcomes[0]["id"], outcomes[0]["id"], outcomes[1]["id"]]


def ticket_notes(sandbox, ticket_id: str) -> list:
    notes = store(sandbox).records["notes"]
    return [notes[n] for n, _ in store(sandbox).links.targets("tickets", str(ticket_id), "notes")]


def test_250_notes_are_few_batch_calls_and_a_missing_ticket_fails_alone(sandbox, hs):
    """Per 100 notes: the tickets named by external id (one batch read), their notes (one v4 association read),
    one ``batch/create`` with each note's association."""
    tickets = hs.execute_batch("upsert_ticket", [({"external_id": f"N-{n}", "ticket": {
        "subject": f"N {n}", "hs_pipeline_stage": "1"}}, f"t{n}") for n in range(250)])
    gone = hs.execute("upsert_ticket", {"external_id": "N-gone", "ticket": {"subject": "Gone",
                                                                            "hs_pipeline_stage": "1"}}, "g")
    hs.execute("archive_ticket", {"ticket_id": gone["id"]}, "a")
    items = [({"ticket_id": ticket["id"], "external_id": f"N-{n}", "body": f"Note {n}"} if n % 2 else
              ({"external_id": f"N-{n}", "body": f"Note {n}"}), f"note-{n}") for n, ticket in enumerate(tickets)]
    items[4] = ({"external_id": "N-missing", "body": "No ticket"}, "note-4")
    items[151] = ({"ticket_id": gone["id"], "body": "Archived ticket"}, "note-151")
    failed = {4, 151}
    before, total = routes(sandbox), calls(sandbox)
    outcomes = hs.execute_batch("add_note", items)
    after = routes(sandbox)
    # 3 chunks of (ticket read, association read, create); the chunk with the archived ticket has its create
    # refused, checks its tickets (one read) and sends the others again.
    assert after[NOTE_READ] - before.get(NOTE_READ, 0) == 3
    assert after[BATCH + "create"] - before.get(BATCH + "create", 0) == 4
    assert after[BATCH + "read"] - before.get(BATCH + "read", 0) == 4
    assert calls(sandbox) - total == 11
    for index in failed:
        assert isinstance(outcomes[index], PermanentError) and outcomes[index].status == 404, outcomes[index]
    good = [o for i, o in enumerate(outcomes) if i not in failed]
    assert all(o["created"] is True for o in good) and len({o["id"] for o in good}) == 248
    assert outcomes[7]["ticket_id"] == tickets[7]["id"] and outcomes[8]["ticket_id"] == tickets[8]["id"]
    assert len(store(sandbox).live("notes")) == 248
    [note] = ticket_notes(sandbox, tickets[8]["id"])
    assert note.id == outcomes[8]["id"] and note.properties["hs_note_body"] == f"Note 8\n\n{marker('note-8')}"

    # The same keys again (a retry after lost answers): each found by its marker, nothing created twice.
    before = routes(sandbox)
    again = hs.execute_batch("add_note", items)
    assert routes(sandbox)[BATCH + "create"] - before[BATCH + "create"] == 1  # only the archived ticket's, refused
    assert [o["id"] for i, o in enumerate(again) if i not in failed] == [o["id"] for o in good]
    assert all(o["created"] is False for i, o in enumerate(again) if i not in failed)
    assert all(isinstance(again[i], PermanentError) and again[i].status == 404 for i in failed)
    assert len(store(sandbox).live("notes")) == 248


def test_notes_of_one_chunk_on_one_ticket_repeated_keys_and_paged_associations(sandbox, hs):
    ticket = hs.execute("upsert_ticket", {"external_id": "N-1", "ticket": {"subject": "One",
                                                                            "hs_pipeline_stage": "1"}}, "t")
    first = ({"external_id": "N-1", "body": "First"}, "k1")
    outcomes = hs.execute_batch("add_note", [first, first, ({"ticket_id": ticket["id"], "body": "Second"}, "k2")])
    assert outcomes[0] == outcomes[1] and outcomes[0]["created"] is True and outcomes[2]["id"] != outcomes[0]["id"]
    assert [n.id for n in ticket_notes(sandbox, ticket["id"])] == [outcomes[0]["id"], outcomes[2]["id"]]
    # More notes than one association page: the marked note on the second page is still found.
    filler = [({"ticket_id": ticket["id"], "body": f"Filler {n}"}, f"f{n}") for n in range(500)]
    assert all(o["created"] for o in hs.execute_batch("add_note", filler))
    last = hs.execute("add_note", {"ticket_id": ticket["id"], "body": "Last"}, "k-last")
    before = calls(sandbox, NOTE_READ)
    again = hs.execute("add_note", {"external_id": "N-1", "body": "Last"}, "k-last")
    assert again == {**last, "created": False} and calls(sandbox, NOTE_READ) - before == 2
    assert len(ticket_notes(sandbox, ticket["id"])) == 503


# -- failures ------------------------------------------------------------------------------------------------
def test_timeout_after_commit_then_retry_finds_the_ticket(sandbox, hs):
    pool = hs.client.batch.api_client.rest_client.pool_manager
    original, lost = pool.request, []

    def request_then_lose(method, url, *args, **kwargs):
        response = original(method, url, *args, **kwargs)
        if not lost:
            lost.append(url)  # HubSpot committed; the answer never arrives
            raise urllib3.exceptions.ReadTimeoutError(pool, url, "read timed out")
        return response
    pool.request = request_then_lose
    payload = {"external_id": "T-6", "ticket": {"subject": "Timeout", "hs_pipeline_stage": "1"}}
    with pytest.raises(RetryableError):
        hs.execute("upsert_ticket", payload, "k")
    result = hs.execute("upsert_ticket", payload, "k")
    assert lost and result["created"] is False
    assert len(live(sandbox, "tickets", "deskbridge_id", "T-6")) == 1


def test_note_batch_create_answer_lost_then_retry_finds_the_notes(sandbox, hs):
    tickets = hs.execute_batch("upsert_ticket", [({"external_id": f"L-{n}", "ticket": {
        "subject": f"L {n}", "hs_pipeline_stage": "1"}}, f"t{n}") for n in range(3)])
    pool = hs.client.batch.api_client.rest_client.pool_manager
    original, lost = pool.request, []

    def request_then_lose(method, url, *args, **kwargs):
        response = original(method, url, *args, **kwargs)
        if not lost and url.endswith("/notes/batch/create"):
            lost.append(response.status)  # HubSpot created the notes; the answer never arrives
            raise urllib3.exceptions.ReadTimeoutError(pool, url, "read timed out")
        return response
    pool.request = request_then_lose
    items = [({"external_id": f"L-{n}", "body": f"Lost {n}"}, f"lost-{n}") for n in range(3)]
    items.append(({"ticket_id": tickets[0]["id"], "body": "Another"}, "lost-3"))
    assert all(isinstance(o, RetryableError) for o in hs.execute_batch("add_note", items))
    again = hs.execute_batch("add_note", items)
    assert lost == [201] and all(o["created"] is False for o in again) and len({o["id"] for o in again}) == 4
    assert [o["ticket_id"] for o in again] == [t["id"] for t in tickets] + [tickets[0]["id"]]
    assert len(store(sandbox).live("notes")) == 4


def test_sandbox_timeout_fault_is_retryable(sandbox):
    connector = make(sandbox, read_timeout=0.3)
    control(sandbox, "POST", "/_sandbox/faults", {"system": "hubspot", "rate": 1.0, "kinds": ["timeout"],
                                                   "timeout_seconds": 1.0})
    payload = {"external_id": "T-7", "ticket": {"subject": "x", "hs_pipeline_stage": "1"}}
    with pytest.raises(RetryableError):
        connector.execute("upsert_ticket", payload, "k")
    control(sandbox, "DELETE", "/_sandbox/faults")
    assert connector.execute("upsert_ticket", payload, "k")["id"]
    assert len(live(sandbox, "tickets", "deskbridge_id", "T-7")) == 1


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_are_retryable_and_not_retried_silently(sandbox, hs, kind):
    control(sandbox, "POST", "/_sandbox/faults", {"system": "hubspot", "rate": 1.0, "kinds": [kind]})
    before = control(sandbox, "GET", "/_sandbox/stats")["hubspot"]["total"]
    with pytest.raises(RetryableError) as caught:
        hs.get("ticket", "9001")
    assert caught.value.status == int(kind)
    assert control(sandbox, "GET", "/_sandbox/stats")["hubspot"]["total"] - before == 1


def test_bad_token_is_auth_error(sandbox):
    connector = make(sandbox, access_token="wrong")
    with pytest.raises(AuthError):
        connector.execute("upsert_ticket", {"external_id": "T-8", "ticket": {"subject": "x"}}, "k")
    assert connector.check()["ok"] is False


def test_rate_limit_pauses_the_guard_and_every_call_succeeds(sandbox):
    connector = make(sandbox)
    fake = FakeTime(sandbox)
    fake_budget(connector, fake)
    connector.property_names("tickets")
    control(sandbox, "POST", "/_sandbox/limits", {"system": "hubspot", "per_minute": 5})
    for n in range(12):
        connector.execute("upsert_ticket", {"external_id": f"L-{n}", "ticket": {"subject": "x",
                                                                                 "hs_pipeline_stage": "1"}}, f"k{n}")
    assert len([r for r in store(sandbox).live("tickets") if r.properties.get("deskbridge_id", "").startswith("L-")]) \
        == 12
    refused = connector.guard.stats.by_status.get(429, 0)
    assert 1 <= refused <= 3  # one per exhausted window: the pause holds every caller, nobody hammers
    assert sum(fake.slept) >= 55


# -- reads ---------------------------------------------------------------------------------------------------
def test_read_changes_pages_lose_nothing_when_records_change_between_pages(sandbox):
    connector = make(sandbox, page_size=10)
    created = connector.execute_batch("upsert_ticket", [
        ({"external_id": f"R-{n}", "ticket": {"subject": f"R {n}", "hs_pipeline_stage": "1"}}, f"k{n}")
        for n in range(35)])
    ids = [o["id"] for o in created]
    seen: list[str] = []
    cursors = []
    for number, (page, cursor) in enumerate(connector.read_changes("ticket", None, backfill=True)):
        seen += [r["id"] for r in page]
        cursors.append(cursor)
        if number == 0:
            sandbox.sandbox.advance_clock(1)
            connector.execute("update_ticket", {"ticket_id": ids[3], "properties": {"subject": "moved"}}, "u1")
            connector.execute("update_ticket", {"ticket_id": ids[25], "properties": {"subject": "moved"}}, "u2")
    assert set(ids) <= set(seen)
    assert seen.count(ids[3]) == 2 and seen.count(ids[25]) == 1
    assert [(c["updated_at"], int(c["id"])) for c in cursors] == sorted(
        (c["updated_at"], int(c["id"])) for c in cursors)
    tail = [r for page, _ in connector.read_changes("ticket", cursors[-1], backfill=True) for r in page]
    assert tail == []


def test_backfill_false_starts_from_now(sandbox, hs):
    control(sandbox, "POST", "/_sandbox/seed")
    pages = list(hs.read_changes("ticket", None, backfill=False))
    assert len(pages) == 1 and pages[0][0] == [] and pages[0][1]["id"] != "0"
    sandbox.sandbox.advance_clock(1)
    new = hs.execute("upsert_ticket", {"external_id": "N-1", "ticket": {"subject": "new",
                                                                         "hs_pipeline_stage": "1"}}, "k")
    changed = [r for page, _ in hs.read_changes("ticket", pages[0][1], backfill=True) for r in page]
    assert [r["id"] for r in changed] == [new["id"]]
    everything = [r for page, _ in hs.read_changes("customer", None, backfill=True) for r in page]
    assert len(everything) > 10 and all("bank_customer_id" in r["properties"] for r in everything)


def test_check_is_ok(hs):
    assert hs.check() == {"ok": True, "detail": "reachable"}


def test_record_searchable_late_inside_the_overlap_is_read_once(sandbox, hs):
    hs.execute_batch("upsert_ticket", [({"external_id": f"O-{n}", "ticket": {"subject": "x",
                                                                              "hs_pipeline_stage": "1"}}, f"k{n}")
                                       for n in range(3)])
    cursor = [c for _, c in hs.read_changes("ticket", None, backfill=True)][-1]
    sandbox.sandbox.advance_clock(5)
    late = hs.execute("upsert_ticket", {"external_id": "O-late", "ticket": {"subject": "late",
                                                                             "hs_pipeline_stage": "1"}}, "late")
    record = store(sandbox).records["tickets"][late["id"]]
    stamp = datetime.fromisoformat(cursor["updated_at"].replace("Z", "+00:00")) - timedelta(seconds=10)
    record.properties["hs_lastmodifieddate"] = stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # indexed late
    first = [r["id"] for page, _ in hs.read_changes("ticket", cursor, backfill=True) for r in page]
    assert first == [late["id"]]
    cursor = [c for _, c in hs.read_changes("ticket", cursor, backfill=True)][-1]
    assert [r for page, _ in hs.read_changes("ticket", cursor, backfill=True) for r in page] == []


def test_outbox_actions_reach_hubspot_in_one_batch(sandbox, make_hub):
    hub = make_hub({"connectors": {"hubspot": {"base_url": sandbox.url, "access_token": "sandbox-token"}}})
    for n in range(5):
        hub.emit("hubspot", "upsert_ticket", {"external_id": f"P-{n}", "ticket": {"subject": f"P {n}",
                                                                                 "hs_pipeline_stage": "1"}}, f"p{n}")
    while process_next_action(hub, "test"):
        pass
    assert routes(sandbox)["POST /crm/v3/objects/<objtype:object_type>/batch/upsert"] == 1
    assert len([r for r in store(sandbox).live("tickets") if r.properties.get("deskbridge_id", "").startswith("P-")]) \
        == 5


def test_outbox_notes_reach_hubspot_in_one_batch_create(sandbox, make_hub):
    hub = make_hub({"connectors": {"hubspot": {"base_url": sandbox.url, "access_token": "sandbox-token"}}})
    tickets = hub.connectors["hubspot"].execute_batch("upsert_ticket", [({"external_id": f"PN-{n}", "ticket": {
        "subject": f"PN {n}", "hs_pipeline_stage": "1"}}, f"t{n}") for n in range(5)])
    before = routes(sandbox)
    for n, ticket in enumerate(tickets):
        hub.emit("hubspot", "add_note", {"ticket_id": ticket["id"], "body": f"Outbox {n}"}, f"pn{n}")
    while process_next_action(hub, "test"):
        pass
    after = routes(sandbox)
    assert {route: after[route] - before.get(route, 0) for route in after if after[route] != before.get(route, 0)} \
        == {NOTE_READ: 1, BATCH + "create": 1}
    assert all(len(ticket_notes(sandbox, t["id"])) == 1 for t in tickets)


def test_twenty_percent_faults_converge_without_duplicates(sandbox):
    guard = SystemGuard("hubspot", per_minute=6000, fail_max=1000)  # the breaker is tested in hub.http
    connector = HubSpotConnector(Config(base_url=sandbox.url, access_token="sandbox-token", read_timeout=2.0),
                                 guard=guard)
    fake = FakeTime(sandbox)
    fake_budget(connector, fake)
    control(sandbox, "POST", "/_sandbox/faults", {"system": "hubspot", "rate": 0.2, "seed": 11,
                                                   "kinds": ["429", "500", "503", "timeout", "reset"],
                                                   "timeout_seconds": 0.05})
    pending = [({"external_id": f"F-{n}", "ticket": {"subject": f"F {n}", "hs_pipeline_stage": "1"}}, f"f{n}")
               for n in range(300)]
    pending = deliver_with_retries(connector, "upsert_ticket", pending, fake)
    injected = control(sandbox, "GET", "/_sandbox/faults")["hubspot"]["injected"]
    control(sandbox, "DELETE", "/_sandbox/faults")
    assert pending == [] and sum(injected.values()) >= 5 and len(injected) >= 3
    assert len([r for r in store(sandbox).live("tickets") if r.properties.get("deskbridge_id", "").startswith("F-")]) \
        == 300


def test_one_invalid_input_fails_alone_not_its_whole_batch(sandbox, hs):
    items = [({"external_id": f"V-{n}", "ticket": {"subject": f"V {n}", "hs_pipeline_stage": "1"}}, f"v{n}")
             for n in range(5)]
    items[2] = ({"external_id": "V-2", "ticket": {"subject": "bad", "hs_pipeline_stage": "1",
                                                  "hs_ticket_priority": "WHENEVER"}}, "v2")
    outcomes = hs.execute_batch("upsert_ticket", items)
    assert isinstance(outcomes[2], PermanentError) and outcomes[2].status == 400
    assert all(isinstance(o, dict) and o["created"] for i, o in enumerate(outcomes) if i != 2)
    updates = [({"external_id": f"V-{n}", "properties": {"hs_ticket_priority": "NOPE" if n == 1 else "HIGH"}},
                f"u{n}") for n in (0, 1, 3)]
    outcomes = hs.execute_batch("update_ticket", updates)
    assert [type(o).__name__ for o in outcomes] == ["dict", "PermanentError", "dict"]
    assert hs.find("ticket", "V-3")["properties"]["hs_ticket_priority"] == "HIGH"


# -- associations carried by the creating write ----------------------------------------------------------------
def _people(hs) -> tuple[str, str]:
    contact = hs.execute("upsert_contact", {"external_id": "C-1", "contact": {"email": "ada@example.org"}}, "c")
    company = hs.execute("upsert_company", {"external_id": "ORG-1", "company": {"name": "Acme"}}, "o")
    return contact["id"], company["id"]


def _vendor(sandbox, method: str, path: str) -> dict:
    answer = requests.request(method, f"{sandbox.url}{path}", headers={"Authorization": "Bearer sandbox-token"},
                              timeout=10)
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.content else {}


def _associated(sandbox, ticket_id: str, to_type: str) -> list[str]:
    body = _vendor(sandbox, "GET", f"/crm/v4/objects/tickets/{ticket_id}/associations/{to_type}")
    return [str(r["toObjectId"]) for r in body.get("results") or []]


def test_tickets_with_refs_are_created_with_their_associations_in_one_batch_create(sandbox, hs):
    contact, company = _people(hs)
    before = dict(routes(sandbox))
    items = [({"external_id": f"R-{n}", "refs": {"customer": contact, "organisation": company},
               "ticket": {"subject": f"R {n}", "hs_pipeline_stage": "1"}}, f"r{n}") for n in range(150)]
    items.append(({"external_id": "R-plain", "ticket": {"subject": "no refs", "hs_pipeline_stage": "1"}}, "rp"))
    outcomes = hs.execute_batch("upsert_ticket", items)
    made = {route: n - before.get(route, 0) for route, n in routes(sandbox).items() if n != before.get(route, 0)}
    assert made == {"POST /crm/v3/objects/<objtype:object_type>/batch/create": 2,
                    "POST /crm/v3/objects/<objtype:object_type>/batch/upsert": 1}
    assert all(isinstance(o, dict) and o["created"] and o["updated_at"] for o in outcomes)
    assert _associated(sandbox, outcomes[0]["id"], "contacts") == [contact]
    assert _associated(sandbox, outcomes[149]["id"], "companies") == [company]
    assert _associated(sandbox, outcomes[150]["id"], "contacts") == []
    assert store(sandbox).records["tickets"][outcomes[0]["id"]].properties["deskbridge_id"] == "R-0"


def test_a_retried_create_with_refs_finds_the_ticket_and_associates_it(sandbox, hs):
    """The first create committed but its answer was lost: the retry's create is refused (the unique
    deskbridge_id is taken, 409), so the ticket is upserted and associated through v4 — still one ticket."""
    contact, company = _people(hs)
    pool = hs.client.batch.api_client.rest_client.pool_manager
    original, lost = pool.request, []

    def request_then_lose(method, url, *args, **kwargs):
        response = original(method, url, *args, **kwargs)
        if not lost and url.endswith("/batch/create"):
            lost.append(url)
            raise urllib3.exceptions.ReadTimeoutError(pool, url, "read timed out")
        return response
    pool.request = request_then_lose
    payload = {"external_id": "T-lost", "refs": {"customer": contact, "organisation": company},
               "ticket": {"subject": "Lost answer", "hs_pipeline_stage": "1"}}
    with pytest.raises(RetryableError):
        hs.execute("upsert_ticket", payload, "k")
    result = hs.execute("upsert_ticket", payload, "k")
    assert lost and result["created"] is False
    [ticket] = live(sandbox, "tickets", "deskbridge_id", "T-lost")
    assert ticket.id == result["id"]
    assert _associated(sandbox, ticket.id, "contacts") == [contact]
    assert _associated(sandbox, ticket.id, "companies") == [company]


def test_a_create_naming_a_gone_contact_still_creates_the_others_and_says_why(sandbox, hs):
    contact, company = _people(hs)
    gone = hs.execute("upsert_contact", {"external_id": "C-2", "contact": {"email": "gone@example.org"}}, "g")["id"]
    _vendor(sandbox, "DELETE", f"/crm/v3/objects/contacts/{gone}")
    items = [({"external_id": "G-1", "refs": {"customer": contact}, "ticket": {"subject": "ok",
                                                                               "hs_pipeline_stage": "1"}}, "g1"),
             ({"external_id": "G-2", "refs": {"customer": gone}, "ticket": {"subject": "gone",
                                                                            "hs_pipeline_stage": "1"}}, "g2")]
    first, second = hs.execute_batch("upsert_ticket", items)
    assert isinstance(first, dict) and _associated(sandbox, first["id"], "contacts") == [contact]
    assert isinstance(second, PermanentError) and "associate" in str(second)
    assert len(live(sandbox, "tickets", "deskbridge_id", "G-2")) == 1  # the ticket itself is there
