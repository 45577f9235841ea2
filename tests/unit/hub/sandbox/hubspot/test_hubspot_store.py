"""The portal store: validation, unique indexes, archive, purge, paging and change notifications."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hub.sandbox.hubspot.errors import HubSpotError
from hub.sandbox.hubspot.store import PortalStore

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self):
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(clock):
    return PortalStore(clock)


def test_create_sets_system_properties(store, clock):
    record = store.create("contacts", {"email": "a@b.co"})
    assert record.properties["hs_object_id"] == record.id
    assert record.properties["createdate"] == "2026-01-01T00:00:00.000Z"
    assert record.properties["lastmodifieddate"] == "2026-01-01T00:00:00.000Z"


def test_update_moves_modified_date_and_keeps_history(store, clock):
    record = store.create("contacts", {"email": "a@b.co", "firstname": "A"})
    clock.now += timedelta(minutes=5)
    store.update(record, {"firstname": "B"})
    assert record.properties["lastmodifieddate"] == "2026-01-01T00:05:00.000Z"
    assert [h["value"] for h in record.history["firstname"]] == ["B", "A"]
    rendered = store.render(record, ["firstname"], with_history=["firstname"])
    assert rendered["propertiesWithHistory"]["firstname"][0]["value"] == "B"


def test_read_only_and_unknown_properties_are_refused(store):
    with pytest.raises(HubSpotError) as caught:
        store.create("contacts", {"email": "a@b.co", "hs_object_id": "5", "shoe_size": "9"})
    assert caught.value.status == 400
    assert "READ_ONLY_VALUE" in caught.value.message and "PROPERTY_DOESNT_EXIST" in caught.value.message


def test_unique_values_conflict_until_archived(store):
    first = store.create("tickets", {"subject": "a", "hs_pipeline_stage": "1", "deskbridge_id": "X"})
    with pytest.raises(HubSpotError) as caught:
        store.create("tickets", {"subject": "b", "hs_pipeline_stage": "1", "deskbridge_id": "X"})
    assert caught.value.status == 409 and first.id in caught.value.message
    store.archive(first)
    second = store.create("tickets", {"subject": "b", "hs_pipeline_stage": "1", "deskbridge_id": "X"})
    assert store.find("tickets", "X", "deskbridge_id").id == second.id


def test_updating_a_unique_value_releases_the_old_one(store):
    record = store.create("contacts", {"email": "old@b.co"})
    store.update(record, {"email": "new@b.co"})
    assert store.lookup("contacts", "old@b.co", "email") is None
    assert store.find("contacts", "NEW@b.co", "email") is record
    store.create("contacts", {"email": "old@b.co"})


def test_purge_removes_record_links_and_blocks_email(store):
    contact = store.create("contacts", {"email": "gone@b.co"})
    company = store.create("companies", {"name": "Acme"})
    store.links.add("contacts", contact.id, "companies", company.id, [279])
    store.purge(contact)
    assert contact.id not in store.records["contacts"]
    assert store.links.targets("companies", company.id, "contacts") == []
    with pytest.raises(HubSpotError) as caught:
        store.create("contacts", {"email": "gone@b.co"})
    assert caught.value.status == 400


def test_paging_skips_archived_and_returns_cursor(store):
    records = [store.create("companies", {"name": f"c{i}"}) for i in range(5)]
    store.archive(records[1])
    page, after = store.page("companies", None, 2, archived=False)
    assert [r.properties["name"] for r in page] == ["c0", "c2"]
    page, after = store.page("companies", after, 2, archived=False)
    assert [r.properties["name"] for r in page] == ["c3", "c4"] and after is None
    assert [r.properties["name"] for r in store.page("companies", None, 10, archived=True)[0]] == ["c1"]


def test_listener_sees_creation_changes_and_deletion(store):
    seen = []
    store.listener = lambda kind, record, changes: seen.append((kind, dict(changes)))
    record = store.create("tickets", {"subject": "a", "hs_pipeline_stage": "1"})
    store.update(record, {"hs_pipeline_stage": "1"})          # no real change
    store.update(record, {"hs_pipeline_stage": "4"})
    store.archive(record)
    kinds = [k for k, _ in seen]
    assert kinds == ["creation", "propertyChange", "propertyChange", "deletion"]
    assert "hs_pipeline_stage" not in seen[1][1]
    assert seen[2][1]["hs_pipeline_stage"] == "4"


def test_object_type_names(store):
    with pytest.raises(HubSpotError):
        store.object_type("2-999")      # custom types exist only once a schema defines them
    assert store.object_type("0-5").name == "tickets"
    assert store.object_type("contact").name == "contacts"
    with pytest.raises(HubSpotError):
        store.object_type("widgets")


def test_required_ticket_properties(store):
    with pytest.raises(HubSpotError) as caught:
        store.create("tickets", {"subject": "no stage"})
    assert "hs_pipeline_stage" in caught.value.message


def test_closed_date_follows_the_ticket_stage(store, clock):
    ticket = store.create("tickets", {"subject": "a", "hs_pipeline_stage": "1"})
    assert "closed_date" not in ticket.properties
    clock.now += timedelta(hours=1)
    store.update(ticket, {"hs_pipeline_stage": "4"})
    assert ticket.properties["closed_date"] == "2026-01-01T01:00:00.000Z"
    store.update(ticket, {"hs_pipeline_stage": "3"})
    assert "closed_date" not in ticket.properties
    closed = store.create("tickets", {"subject": "b", "hs_pipeline_stage": "4"})
    assert closed.properties["closed_date"] == "2026-01-01T01:00:00.000Z"
