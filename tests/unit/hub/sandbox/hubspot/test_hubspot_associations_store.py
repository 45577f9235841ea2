"""Association edges: paired inverse type ids, primary implies default, labels."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hub.sandbox.hubspot.errors import HubSpotError
from hub.sandbox.hubspot.store import PortalStore

pytestmark = pytest.mark.unit


@pytest.fixture
def store():
    return PortalStore(lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))


def test_inverse_types_are_kept(store):
    ticket = store.create("tickets", {"subject": "a", "hs_pipeline_stage": "1"})
    contact = store.create("contacts", {"email": "a@b.co"})
    store.links.add("tickets", ticket.id, "contacts", contact.id, [16])
    assert store.links.targets("contacts", contact.id, "tickets") == [(ticket.id, [15])]


def test_primary_brings_default_and_sets_associated_company(store):
    contact = store.create("contacts", {"email": "a@b.co"})
    company = store.create("companies", {"name": "Acme"})
    store.links.add("companies", company.id, "contacts", contact.id, [2])
    assert store.links.targets("contacts", contact.id, "companies") == [(company.id, [1, 279])]
    assert contact.properties["associatedcompanyid"] == company.id
    store.links.remove("contacts", contact.id, "companies", company.id, [1])
    assert store.links.targets("companies", company.id, "contacts") == [(contact.id, [280])]


def test_archived_targets_are_hidden(store):
    contact = store.create("contacts", {"email": "a@b.co"})
    company = store.create("companies", {"name": "Acme"})
    store.links.add("contacts", contact.id, "companies", company.id, [279])
    store.archive(company)
    assert store.links.targets("contacts", contact.id, "companies") == []


def test_type_direction_is_checked(store):
    with pytest.raises(HubSpotError):
        store.links.kind(16, from_type="contacts")
    with pytest.raises(HubSpotError):
        store.links.kind(424242)


def test_user_defined_labels(store):
    [label] = store.links.create_label("contacts", "companies", "Billing contact")
    assert label["category"] == "USER_DEFINED"
    labels = store.links.labels("contacts", "companies")
    assert {l["typeId"] for l in labels} >= {1, 279, label["typeId"]}
    assert any(l["label"] == "Billing contact" for l in store.links.labels("companies", "contacts"))


def test_v3_inputs_need_existing_targets(store):
    with pytest.raises(HubSpotError) as caught:
        store.create("notes", {"hs_timestamp": "2026-01-01T00:00:00Z"},
                     [{"to": {"id": "9999"}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                        "associationTypeId": 228}]}])
    assert caught.value.status == 400
    assert store.live("notes") == []
