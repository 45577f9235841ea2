"""The sync engine against in-memory Zendesk and Salesforce: create once, no echo, conflicts, deletes, comments,
resumable passes and visible per-record failures."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from hub.db import InboxEvent, OutboxAction
from hub.sync import failures, status
from hub.sync.models import SyncCursor

pytestmark = pytest.mark.unit


def outbox(world, **where) -> list[OutboxAction]:
    with world.hub.db.session() as session:
        query = select(OutboxAction)
        for name, value in where.items():
            query = query.where(getattr(OutboxAction, name) == value)
        return list(session.execute(query.order_by(OutboxAction.id)).scalars())


def started(world):
    world.cycle()  # first pass: cursors at "now"


def test_first_pass_starts_from_now_and_backfill_imports_history(world):
    world.zendesk.person_creates_ticket("Old ticket", "From last year")
    report = world.cycle()
    assert report["systems"]["zendesk"]["ticket"].get("created", 0) == 0 and world.salesforce.cases() == []
    with world.hub.db.session() as session:
        session.execute(delete(SyncCursor))  # as on a fresh install choosing to import history
    report = world.cycle(backfill=True)
    assert report["systems"]["zendesk"]["ticket"]["created"] == 1
    assert [c["Subject"] for c in world.salesforce.cases()] == ["Old ticket"]


def test_a_new_ticket_is_written_once_and_its_echo_is_ignored(world):
    started(world)
    ticket = world.zendesk.person_creates_ticket("Card declined", "It was declined", priority="urgent",
                                                 tags=["cards", "vip"], fields={"Risk score": "0.7"})
    world.cycle()
    [case] = world.salesforce.cases()
    assert (case["Subject"], case["Priority"], case["Category__c"], case["Risk_Score__c"], case["SuppliedEmail"]) == (
        "Card declined", "High", "cards", 0.7, "ada@example.org")
    assert case["Deskbridge_Id__c"] == f"zendesk-{ticket['id']}"
    calls = (list(world.zendesk.calls), list(world.salesforce.calls))
    for _ in range(3):
        report = world.cycle()
    assert (world.zendesk.calls, world.salesforce.calls) == calls  # nothing echoes, nothing re-sent
    assert report["systems"]["salesforce"]["ticket"].get("updated", 0) == 0


def test_an_edit_in_salesforce_reaches_zendesk_once(world):
    started(world)
    ticket = world.zendesk.person_creates_ticket("Card declined", "It was declined")
    world.cycle()
    world.cycle()
    [case] = world.salesforce.cases()
    world.salesforce.person_edits(case["Id"], Status="Closed", Subject="Resolved: card declined")
    world.cycle()
    world.cycle()
    assert world.zendesk.records["ticket"][str(ticket["id"])]["status"] == "solved"
    assert world.zendesk.records["ticket"][str(ticket["id"])]["subject"] == "Resolved: card declined"
    assert world.zendesk.calls == ["update_ticket"]
    assert world.salesforce.calls.count("update_case") == 0  # never written back where the edit was made


def test_a_default_the_system_fills_in_is_not_synced_as_an_edit(world):
    started(world)
    ticket = world.zendesk.person_creates_ticket("No priority", "Zendesk leaves it empty", priority=None)
    world.cycle()
    world.cycle()
    [case] = world.salesforce.cases()
    assert case["Priority"] == "Medium"  # Salesforce's default for a field the hub did not write
    assert world.zendesk.calls == [] and world.zendesk.records["ticket"][str(ticket["id"])].get("priority") is None
    world.salesforce.person_edits(case["Id"], Priority="High")  # a person's edit afterwards is one
    world.cycle()
    world.cycle()
    assert world.zendesk.records["ticket"][str(ticket["id"])]["priority"] == "high"
    assert world.zendesk.calls == ["update_ticket"]


def test_burst_of_edits_sends_only_the_latest_version(world):
    started(world)
    ticket = world.zendesk.person_creates_ticket("v0", "body")
    world.cycle()
    for version in ("v1", "v2", "v3"):
        world.zendesk.person_edits(ticket["id"], subject=version)
        world.sync()  # no drain in between: older writes still wait in the outbox
    world.drain()
    assert world.salesforce.cases()[0]["Subject"] == "v3"
    superseded = [a for a in outbox(world, system="salesforce") if a.result and "superseded" in a.result]
    assert len(superseded) == 2
    assert world.salesforce.calls.count("update_case") == 1


def test_last_writer_wins_a_simultaneous_edit(world):
    started(world)
    ticket = world.zendesk.person_creates_ticket("Original", "body")
    world.cycle()
    world.cycle()
    [case] = world.salesforce.cases()
    world.zendesk.person_edits(ticket["id"], subject="Zendesk edit")
    world.salesforce.person_edits(case["Id"], Subject="Salesforce edit (later)")
    world.cycle()
    world.cycle()
    assert world.zendesk.records["ticket"][str(ticket["id"])]["subject"] == "Salesforce edit (later)"
    assert world.salesforce.cases()[0]["Subject"] == "Salesforce edit (later)"


def test_a_field_owned_by_one_system_is_put_back_when_edited_elsewhere(world):
    for spec in world.engine.mappings[("zendesk", "ticket")].spec.fields:
        if spec.canonical == "priority":
            spec.truth = "zendesk"
    world.engine.policies["ticket"]["priority"] = "zendesk"
    started(world)
    ticket = world.zendesk.person_creates_ticket("Owned priority", "body", priority="high")
    world.cycle()
    world.cycle()
    [case] = world.salesforce.cases()
    world.salesforce.person_edits(case["Id"], Priority="Low", Subject="Subject may change")
    world.cycle()
    world.cycle()
    assert world.salesforce.cases()[0]["Priority"] == "High"
    zendesk_ticket = world.zendesk.records["ticket"][str(ticket["id"])]
    assert (zendesk_ticket["priority"], zendesk_ticket["subject"]) == ("high", "Subject may change")


def test_a_delete_propagates_once(world):
    started(world)
    ticket = world.zendesk.person_creates_ticket("To delete", "body")
    world.cycle()
    world.zendesk.person_deletes(ticket["id"])
    world.cycle()
    world.cycle()
    assert world.salesforce.cases() == []
    assert world.salesforce.calls.count("delete_case") == 1
    events = _events(world)
    assert events.count("ticket.deleted") == 1


def test_comments_cross_once_and_keep_internal_notes_internal(world):
    started(world)
    ticket = world.zendesk.person_creates_ticket("With notes", "first message")
    world.zendesk.person_comments(ticket["id"], "Internal: fraud checked", public=False)
    world.cycle()
    world.cycle()
    [case] = world.salesforce.cases()
    notes = world.salesforce.comments[case["Id"]]
    assert [(n["CommentBody"].split("\n")[0], n["IsPublished"]) for n in notes] == [("Internal: fraud checked", False)]
    world.salesforce.person_comments(case["Id"], "Customer called back", public=True)
    world.cycle()
    world.cycle()
    bodies = [c["body"].split("\n")[0] for c in world.zendesk.comments[str(ticket["id"])]]
    assert bodies == ["first message", "Internal: fraud checked", "Customer called back"]
    assert len(world.salesforce.comments[case["Id"]]) == 2
    assert _events(world).count("comment.created") == 2


def test_a_pass_interrupted_mid_stream_resumes_after_the_last_stored_page(world, monkeypatch):
    started(world)
    world.zendesk.page_size = 2
    for i in range(5):
        world.zendesk.person_creates_ticket(f"T{i}", "body")
    original = world.engine.apply_record
    seen = []

    def crash_on_the_fifth(session, system, object, native, comments=None):
        seen.append(native.get("subject") or native.get("Subject"))
        if native.get("subject") == "T4":
            raise SystemExit("power cut")
        return original(session, system, object, native, comments)
    monkeypatch.setattr(world.engine, "apply_record", crash_on_the_fifth)
    with pytest.raises(SystemExit):
        world.sync()
    monkeypatch.setattr(world.engine, "apply_record", original)
    report = world.cycle()
    assert report["systems"]["zendesk"]["ticket"]["created"] == 1  # only the page that was not stored
    assert sorted(c["Subject"] for c in world.salesforce.cases()) == ["T0", "T1", "T2", "T3", "T4"]


def test_a_record_that_fails_is_listed_with_its_reason_and_does_not_block_the_rest(world, monkeypatch):
    started(world)
    bad = world.zendesk.person_creates_ticket("Bad", "body")
    world.zendesk.person_creates_ticket("Good", "body")
    original = world.engine.apply_record

    def refuse_bad(session, system, object, native, comments=None):
        if native.get("subject") == "Bad":
            raise ValueError("status 'weird' has no canonical value")
        return original(session, system, object, native, comments)
    monkeypatch.setattr(world.engine, "apply_record", refuse_bad)
    report = world.cycle()
    assert report["systems"]["zendesk"]["ticket"] == {"created": 1, "failed": 1, "pages": 1}
    [failure] = failures(world.hub)
    assert (failure["system"], failure["id"]) == ("zendesk", str(bad["id"]))
    assert "status 'weird' has no canonical value" in failure["reason"]
    monkeypatch.setattr(world.engine, "apply_record", original)
    world.zendesk.person_edits(bad["id"], subject="Bad, fixed")
    world.cycle()
    assert failures(world.hub) == [] and status(world.hub)["failures"] == 0


def test_canonical_ticket_events_carry_what_plugins_read(world):
    import json
    started(world)
    world.zendesk.person_creates_ticket("Card stolen", "body", tags=["cards"], fields={"Risk score": "0.9"})
    world.cycle()
    with world.hub.db.session() as session:
        [row] = session.execute(select(InboxEvent).where(InboxEvent.type == "ticket.created")).scalars()
        data = json.loads(row.payload)["data"]
    assert data["system"] == "zendesk" and data["id"] == data["external_id"].removeprefix("zendesk-")
    assert data["category"] == "cards" and data["fields"] == {"Risk score": 0.9, "Identity verified": False}
    assert data["requester"]["email"] == "ada@example.org" and "zendesk" in data["links"]


def test_the_link_table_learns_the_ids_of_records_the_hub_created(world):
    started(world)
    world.zendesk.person_creates_ticket("Linked", "body")
    world.cycle()
    [case] = world.salesforce.cases()
    linked = status(world.hub)["linked"]["ticket"]
    assert linked == {"zendesk": 1, "salesforce": 1}
    from hub.sync.links import Links
    with world.hub.db.session() as session:
        assert Links(session).by_native("ticket", "salesforce", case["Id"]) is not None


def _events(world) -> list[str]:
    with world.hub.db.session() as session:
        return [t for (t,) in session.execute(select(InboxEvent.type).where(InboxEvent.source == "sync"))]


def test_status_counts(world):
    started(world)
    world.zendesk.person_creates_ticket("One", "body")
    world.cycle()
    current = status(world.hub)
    assert current["records"]["ticket"] == 1
    assert {c["system"] for c in current["cursors"]} == {"zendesk", "salesforce"}
    with world.hub.db.session() as session:
        assert session.execute(select(func.count()).select_from(OutboxAction)).scalar_one() >= 1


def test_history_can_be_imported_without_reading_old_comments(make_hub):
    from tests.unit.hub.sync.conftest import World
    world = World(make_hub({"plugins": {"sync": {"backfill_comments": False}}}))
    old = world.zendesk.person_creates_ticket("Old", "first message")
    world.zendesk.person_comments(old["id"], "An old reply")
    reads = []
    original = world.zendesk.read_comments
    world.zendesk.read_comments = lambda ticket_id: reads.append(ticket_id) or original(ticket_id)
    world.cycle(backfill=True)
    assert [c["Subject"] for c in world.salesforce.cases()] == ["Old"] and reads == []
    world.zendesk.person_comments(old["id"], "A new reply")
    world.cycle()
    world.cycle()
    [case] = world.salesforce.cases()
    assert [c["CommentBody"].split("\n")[0] for c in world.salesforce.comments[case["Id"]]] == [
        "An old reply", "A new reply"]  # once the ticket changes, its comments sync in full


def test_card_numbers_are_masked_before_the_hub_stores_or_sends_them(world):
    started(world)
    ticket = world.zendesk.person_creates_ticket("Card 4111 1111 1111 1111 declined", "My card 4111-1111-1111-1111")
    world.zendesk.person_comments(ticket["id"], "Customer repeated 4111111111111111", public=False)
    world.cycle()
    for _ in range(2):
        report = world.cycle()
    assert report["systems"]["zendesk"]["ticket"].get("updated", 0) == 0  # the masked copy is not a change
    [case] = world.salesforce.cases()
    assert "4111" not in case["Subject"].replace("**** **** **** 1111", "") and case["Description"].endswith("****-****-****-1111")
    with world.hub.db.engine.connect() as connection:
        from sqlalchemy import text
        stored = " ".join(str(v) for table in ("sync_records", "sync_links")
                          for row in connection.execute(text(f"SELECT * FROM {table}")) for v in row)
    assert "4111111111111111" not in stored and "4111 1111 1111 1111" not in stored
    assert "4111-1111-1111-1111" not in stored
