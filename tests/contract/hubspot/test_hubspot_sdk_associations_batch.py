"""v4 batch associations through hubspot-api-client 12 (what the sync's ``associate`` and note stream use)."""

from __future__ import annotations

import pytest
from hubspot.crm.associations.v4.exceptions import ApiException

pytestmark = pytest.mark.contract


def _create(hs, object_type: str, properties: dict) -> str:
    return hs.crm.objects.basic_api.create(object_type, {"properties": properties}).id


def test_batch_create_with_the_primary_company_sets_associatedcompanyid(hs):
    company = _create(hs, "companies", {"name": "Acme"})
    contact = _create(hs, "contacts", {"email": "ada@acme.example"})
    answer = hs.crm.associations.v4.batch_api.create("contacts", "companies", {"inputs": [
        {"from": {"id": contact}, "to": {"id": company},
         "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}]})
    assert answer.status == "COMPLETE" and len(answer.results) == 1
    read = hs.crm.contacts.basic_api.get_by_id(contact, properties=["associatedcompanyid"])
    assert read.properties["associatedcompanyid"] == company
    labels = {t.label for r in hs.crm.associations.v4.basic_api.get_page("contacts", contact, "companies").results
              for t in r.association_types}
    assert labels == {"Primary", None}  # a primary association comes with the unlabelled one


def test_batch_create_twice_is_harmless_and_ticket_associations_read_back(hs):
    ticket = _create(hs, "tickets", {"subject": "Card declined", "hs_pipeline": "0", "hs_pipeline_stage": "1"})
    contact = _create(hs, "contacts", {"email": "grace@example.org"})
    body = {"inputs": [{"from": {"id": ticket}, "to": {"id": contact},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 16}]}]}
    hs.crm.associations.v4.batch_api.create("tickets", "contacts", body)
    hs.crm.associations.v4.batch_api.create("tickets", "contacts", body)
    read = hs.crm.associations.v4.batch_api.get_page("tickets", "contacts", {"inputs": [{"id": ticket}]})
    assert [[str(t.to_object_id) for t in r.to] for r in read.results] == [[contact]]


def test_batch_create_with_a_wrong_type_id_is_refused(hs):
    ticket = _create(hs, "tickets", {"subject": "x", "hs_pipeline": "0", "hs_pipeline_stage": "1"})
    company = _create(hs, "companies", {"name": "Globex"})
    with pytest.raises(ApiException) as caught:
        hs.crm.associations.v4.batch_api.create("tickets", "companies", {"inputs": [
            {"from": {"id": ticket}, "to": {"id": company},
             "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 16}]}]})
    assert caught.value.status == 400


def test_notes_read_their_ticket_in_one_batch_call(hs):
    ticket = _create(hs, "tickets", {"subject": "y", "hs_pipeline": "0", "hs_pipeline_stage": "1"})
    note = hs.crm.objects.basic_api.create("notes", {
        "properties": {"hs_note_body": "hello", "hs_timestamp": "2026-11-28T10:00:00.000Z"},
        "associations": [{"to": {"id": ticket}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 228}]}]}).id
    lonely = hs.crm.objects.basic_api.create("notes", {
        "properties": {"hs_note_body": "alone", "hs_timestamp": "2026-11-28T10:00:00.000Z"}}).id
    read = hs.crm.associations.v4.batch_api.get_page("notes", "tickets", {"inputs": [{"id": note}, {"id": lonely}]})
    assert {r._from.id: [str(t.to_object_id) for t in r.to] for r in read.results} == {note: [ticket]}
    assert read.num_errors == 1  # the note on no ticket
