"""Custom object schemas: validation, type registration, aliases and association types."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hub.sandbox.hubspot.errors import HubSpotError
from hub.sandbox.hubspot.schemas import create_schema
from hub.sandbox.hubspot.store import PortalStore

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def store():
    return PortalStore(lambda: NOW)


def egg(**over):
    base = {"name": "loan", "labels": {"singular": "Loan", "plural": "Loans"}, "primaryDisplayProperty": "ref",
            "requiredProperties": ["ref"], "associatedObjects": ["CONTACT", "TICKET"],
            "properties": [{"name": "ref", "label": "Ref", "type": "string", "fieldType": "text",
                            "hasUniqueValue": True}]}
    return base | over


def test_schema_registers_a_usable_type(store):
    schema = create_schema(store, egg(), NOW)
    type_id = schema["objectTypeId"]
    assert store.object_type("loan").name == type_id
    assert store.object_type(schema["fullyQualifiedName"]).name == type_id
    record = store.create(type_id, {"ref": "L-1"})
    assert store.find(type_id, "L-1", "ref") is record
    assert [a["toObjectTypeId"] for a in schema["associations"]] == ["0-1", "0-5"]
    assert store.links.default_kind("tickets", type_id).category == "USER_DEFINED"


@pytest.mark.parametrize("change, status", [
    ({"name": "has space"}, 400), ({"labels": {}}, 400), ({"properties": []}, 400),
    ({"requiredProperties": ["nope"]}, 400), ({"associatedObjects": ["WIDGET"]}, 400),
    ({"properties": [{"name": "ref", "type": "color", "fieldType": "text"}]}, 400),
])
def test_invalid_schemas_are_refused(store, change, status):
    with pytest.raises(HubSpotError) as caught:
        create_schema(store, egg(**change), NOW)
    assert caught.value.status == status


def test_names_are_unique(store):
    create_schema(store, egg(), NOW)
    with pytest.raises(HubSpotError) as caught:
        create_schema(store, egg(), NOW)
    assert caught.value.status == 409
