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


# -- associations inside batch create (SimplePublicObjectBatchInputForCreate.associations) ------------------------
def _ticket_inputs(contact: str, company: str, names: list[str]):
    from hubspot.crm.tickets import (AssociationSpec, PublicAssociationsForObject, PublicObjectId,
                                     SimplePublicObjectBatchInputForCreate)

    def to(object_id: str, type_id: int):
        return PublicAssociationsForObject(to=PublicObjectId(id=object_id), types=[AssociationSpec(
            association_category="HUBSPOT_DEFINED", association_type_id=type_id)])
    return [SimplePublicObjectBatchInputForCreate(
        properties={"subject": name, "hs_pipeline": "0", "hs_pipeline_stage": "1", "deskbridge_id": name},
        associations=[to(contact, 16), to(company, 26)]) for name in names]


def test_batch_create_applies_each_inputs_associations(hs):
    from hubspot.crm.tickets import BatchInputSimplePublicObjectBatchInputForCreate
    contact = _create(hs, "contacts", {"email": "linus@example.org"})
    company = _create(hs, "companies", {"name": "Initech"})
    answer = hs.crm.tickets.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=_ticket_inputs(contact, company, ["T-a", "T-b"])))
    assert answer.status == "COMPLETE"
    ids = {r.properties["deskbridge_id"]: r.id for r in answer.results}
    assert set(ids) == {"T-a", "T-b"}
    read = hs.crm.associations.v4.batch_api.get_page("tickets", "contacts",
                                                     {"inputs": [{"id": i} for i in ids.values()]})
    linked = {r._from.id: [str(t.to_object_id) for t in r.to] for r in read.results}
    assert linked == {i: [contact] for i in ids.values()}
    companies = hs.crm.associations.v4.basic_api.get_page("tickets", ids["T-a"], "companies").results
    assert [str(r.to_object_id) for r in companies] == [company]
    # the primary ticket → company association (26) comes with the unlabelled one, as in HubSpot
    assert {t.label for r in companies for t in r.association_types} == {"Primary", None}


def test_batch_create_with_a_taken_unique_value_or_a_gone_target_creates_nothing(hs):
    from hubspot.crm.tickets import BatchInputSimplePublicObjectBatchInputForCreate
    from hubspot.crm.tickets.exceptions import ApiException as TicketsApiException
    contact = _create(hs, "contacts", {"email": "milton@example.org"})
    company = _create(hs, "companies", {"name": "Initrode"})
    hs.crm.tickets.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=_ticket_inputs(contact, company, ["T-c"])))
    with pytest.raises(TicketsApiException) as caught:  # T-c exists already (a retry after a lost answer)
        hs.crm.tickets.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=_ticket_inputs(contact, company, ["T-d", "T-c"])))
    assert caught.value.status == 409
    hs.crm.objects.basic_api.archive("contacts", contact)
    with pytest.raises(TicketsApiException) as caught:
        hs.crm.tickets.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=_ticket_inputs(contact, company, ["T-e"])))
    assert caught.value.status == 400
    names = {t.properties.get("deskbridge_id") for t in hs.crm.tickets.get_all(properties=["deskbridge_id"])}
    assert names == {"T-c"}


def test_batch_read_pages_each_input_on_its_own_with_after(hs):
    """More associations than one page: that input's result carries ``paging.next.after``; sent back with its id,
    the next page follows. An input with few associations has no paging."""
    busy = _create(hs, "tickets", {"subject": "busy", "hs_pipeline": "0", "hs_pipeline_stage": "1"})
    quiet = _create(hs, "tickets", {"subject": "quiet", "hs_pipeline": "0", "hs_pipeline_stage": "1"})

    def note(ticket: str, n: int) -> dict:
        return {"properties": {"hs_note_body": f"note {n}", "hs_timestamp": "2026-11-28T10:00:00.000Z"},
                "associations": [{"to": {"id": ticket}, "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 228}]}]}
    created = []
    for start in range(0, 501, 100):
        inputs = [note(busy, n) for n in range(start, min(start + 100, 501))]
        created += [r.id for r in hs.crm.objects.batch_api.create("notes", {"inputs": inputs}).results]
    hs.crm.objects.batch_api.create("notes", {"inputs": [note(quiet, 0)]})
    first = hs.crm.associations.v4.batch_api.get_page("tickets", "notes", {"inputs": [{"id": busy}, {"id": quiet}]})
    pages = {r._from.id: r for r in first.results}
    assert len(pages[busy].to) == 500 and pages[quiet].paging is None and len(pages[quiet].to) == 1
    after = pages[busy].paging.next.after
    second = hs.crm.associations.v4.batch_api.get_page("tickets", "notes", {"inputs": [{"id": busy, "after": after}]})
    [rest] = second.results
    assert rest.paging is None
    assert sorted(str(t.to_object_id) for t in pages[busy].to + rest.to) == sorted(created)
