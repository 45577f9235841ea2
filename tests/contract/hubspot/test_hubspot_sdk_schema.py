"""Associations (v4 and v3-on-create), properties and pipelines through the SDK."""

from __future__ import annotations

import pytest
from hubspot.crm.associations.v4 import (AssociationSpec, BatchInputPublicAssociationMultiArchive,
                                         BatchInputPublicAssociationMultiPost,
                                         BatchInputPublicFetchAssociationsBatchRequest, PublicAssociationMultiArchive,
                                         PublicAssociationMultiPost, PublicFetchAssociationsBatchRequest,
                                         PublicObjectId)
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyInput
from hubspot.crm.contacts import SimplePublicObjectInputForCreate as ContactInput
from hubspot.crm.objects.notes import SimplePublicObjectInputForCreate as NoteInput
from hubspot.crm.properties import PropertyCreate
from hubspot.crm.properties.exceptions import NotFoundException as PropertyNotFound
from hubspot.crm.tickets import SimplePublicObjectInputForCreate as TicketInput

pytestmark = pytest.mark.contract


@pytest.fixture
def records(hs):
    contact = hs.crm.contacts.basic_api.create(ContactInput(properties={"email": "link@example.com"}))
    company = hs.crm.companies.basic_api.create(CompanyInput(properties={"name": "Acme", "domain": "acme.test"}))
    ticket = hs.crm.tickets.basic_api.create(TicketInput(properties={"subject": "Help", "hs_pipeline_stage": "1"}))
    return contact, company, ticket


def test_default_association_both_directions(hs, records):
    contact, company, _ = records
    answer = hs.crm.associations.v4.basic_api.create_default("contacts", contact.id, "companies", company.id)
    assert answer.status == "COMPLETE"
    assert [r.association_spec.association_type_id for r in answer.results] == [279, 280]
    back = hs.crm.associations.v4.basic_api.get_page("companies", company.id, "contacts")
    assert [str(r.to_object_id) for r in back.results] == [contact.id]
    assert back.results[0].association_types[0].type_id == 280


def test_labelled_association_and_removal(hs, records):
    contact, company, _ = records
    pair = hs.crm.associations.v4.basic_api.create(
        "contacts", contact.id, "companies", company.id,
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)])
    assert pair.labels == ["Primary"]
    types = hs.crm.associations.v4.basic_api.get_page("contacts", contact.id, "companies").results[0].association_types
    assert sorted(t.type_id for t in types) == [1, 279]
    got = hs.crm.contacts.basic_api.get_by_id(contact.id, properties=["associatedcompanyid"])
    assert got.properties["associatedcompanyid"] == company.id
    hs.crm.associations.v4.basic_api.archive("contacts", contact.id, "companies", company.id)
    assert hs.crm.associations.v4.basic_api.get_page("contacts", contact.id, "companies").results == []
    assert hs.crm.associations.v4.basic_api.get_page("companies", company.id, "contacts").results == []


def test_wrong_association_type_is_refused(hs, records):
    from hubspot.crm.associations.v4.exceptions import ApiException
    contact, company, _ = records
    with pytest.raises(ApiException) as caught:
        hs.crm.associations.v4.basic_api.create(
            "contacts", contact.id, "companies", company.id,
            [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=16)])
    assert caught.value.status == 400


def test_batch_create_read_archive(hs, records):
    contact, _, ticket = records
    other = hs.crm.tickets.basic_api.create(TicketInput(properties={"subject": "Two", "hs_pipeline_stage": "2"}))
    spec = [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=15)]
    created = hs.crm.associations.v4.batch_api.create("contacts", "tickets", BatchInputPublicAssociationMultiPost(
        inputs=[PublicAssociationMultiPost(_from=PublicObjectId(id=contact.id), to=PublicObjectId(id=t.id), types=spec)
                for t in (ticket, other)]))
    assert created.status == "COMPLETE" and len(created.results) == 2
    read = hs.crm.associations.v4.batch_api.get_page("contacts", "tickets", BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id=contact.id)]))
    assert sorted(str(t.to_object_id) for t in read.results[0].to) == sorted([ticket.id, other.id])
    hs.crm.associations.v4.batch_api.archive("contacts", "tickets", BatchInputPublicAssociationMultiArchive(
        inputs=[PublicAssociationMultiArchive(_from=PublicObjectId(id=contact.id), to=[PublicObjectId(id=ticket.id)])]))
    left = hs.crm.associations.v4.basic_api.get_page("contacts", contact.id, "tickets").results
    assert [str(r.to_object_id) for r in left] == [other.id]


def test_associations_on_create_and_on_get(hs, records):
    contact, company, ticket = records
    note = hs.crm.objects.notes.basic_api.create(NoteInput(
        properties={"hs_note_body": "Customer context", "hs_timestamp": "2026-01-01T00:00:00Z"},
        associations=[{"to": {"id": ticket.id},
                       "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 228}]}]))
    got = hs.crm.tickets.basic_api.get_by_id(ticket.id, associations=["notes", "contacts"])
    assert [a.id for a in got.associations["notes"].results] == [note.id]
    assert "contacts" not in got.associations
    linked = hs.crm.tickets.basic_api.create(TicketInput(
        properties={"subject": "Linked", "hs_pipeline_stage": "1"},
        associations=[{"to": {"id": contact.id}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                            "associationTypeId": 16}]},
                      {"to": {"id": company.id}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                            "associationTypeId": 26}]}]))
    got = hs.crm.tickets.basic_api.get_by_id(linked.id, associations=["contacts", "companies"])
    assert got.associations["contacts"].results[0].type == "ticket_to_contact"
    assert {a.type for a in got.associations["companies"].results} == {"ticket_to_company",
                                                                        "ticket_to_company_unlabeled"}


def test_properties_list_create_and_use(hs):
    everything = {p.name: p for p in hs.crm.properties.core_api.get_all("tickets").results}
    assert everything["deskbridge_id"].has_unique_value is True
    assert everything["category"].type == "enumeration"
    assert {o.value for o in everything["category"].options} >= {"cards", "compliance_fraud"}
    created = hs.crm.properties.core_api.create("tickets", PropertyCreate(
        name="chargeback_ref", label="Chargeback ref", type="string", field_type="text", group_name="deskbridge"))
    assert created.name == "chargeback_ref" and created.hubspot_defined is False
    assert hs.crm.properties.core_api.get_by_name("tickets", "chargeback_ref").label == "Chargeback ref"
    ticket = hs.crm.tickets.basic_api.create(TicketInput(properties={
        "subject": "cb", "hs_pipeline_stage": "1", "chargeback_ref": "CB-1"}))
    assert ticket.properties["chargeback_ref"] == "CB-1"
    with pytest.raises(PropertyNotFound):
        hs.crm.properties.core_api.get_by_name("tickets", "no_such_property")
    groups = {g.name for g in hs.crm.properties.groups_api.get_all("tickets").results}
    assert {"ticketinformation", "deskbridge"} <= groups


def test_ticket_pipeline_and_stages(hs):
    pipelines = hs.crm.pipelines.pipelines_api.get_all("tickets").results
    assert [p.id for p in pipelines] == ["0"]
    stages = [(s.id, s.label, s.metadata["ticketState"]) for s in pipelines[0].stages]
    assert stages == [("1", "New", "OPEN"), ("2", "Waiting on contact", "OPEN"), ("3", "Waiting on us", "OPEN"),
                      ("4", "Closed", "CLOSED")]
    assert hs.crm.pipelines.pipelines_api.get_by_id("tickets", "0").label == "Support Pipeline"
    assert hs.crm.pipelines.pipeline_stages_api.get_by_id("tickets", "0", "4").label == "Closed"


def test_owners_and_owner_assignment(hs):
    from hubspot.crm.tickets.exceptions import ApiException
    owners = hs.crm.owners.owners_api.get_page(limit=2)
    assert len(owners.results) == 2 and owners.paging.next.after
    everyone = hs.crm.owners.get_all()
    assert len(everyone) == 4 and all(o.teams for o in everyone)
    fraud = hs.crm.owners.owners_api.get_page(email="lena.fischer@sandbox.test").results[0]
    assert hs.crm.owners.owners_api.get_by_id(str(fraud.user_id), id_property="userId").id == fraud.id
    ticket = hs.crm.tickets.basic_api.create(TicketInput(properties={
        "subject": "Fraud", "hs_pipeline_stage": "1", "hubspot_owner_id": fraud.id}))
    assert ticket.properties["hubspot_owner_id"] == fraud.id
    with pytest.raises(ApiException) as caught:
        hs.crm.tickets.basic_api.create(TicketInput(properties={
            "subject": "Fraud", "hs_pipeline_stage": "1", "hubspot_owner_id": "123"}))
    assert "INVALID_OPTION" in caught.value.body


def test_created_enumeration_property_validates_its_options(hs):
    from hubspot.crm.properties import OptionInput
    from hubspot.crm.tickets.exceptions import ApiException
    created = hs.crm.properties.core_api.create("tickets", PropertyCreate(
        name="dispute_stage", label="Dispute stage", type="enumeration", field_type="select", group_name="deskbridge",
        options=[OptionInput(label="Evidence due", value="evidence_due", display_order=0, hidden=False),
                 OptionInput(label="Won", value="won", display_order=1, hidden=False)]))
    assert [(o.value, o.label) for o in created.options] == [("evidence_due", "Evidence due"), ("won", "Won")]
    ticket = hs.crm.tickets.basic_api.create(TicketInput(properties={
        "subject": "d", "hs_pipeline_stage": "1", "dispute_stage": "won"}))
    assert ticket.properties["dispute_stage"] == "won"
    with pytest.raises(ApiException):
        hs.crm.tickets.basic_api.create(TicketInput(properties={
            "subject": "d", "hs_pipeline_stage": "1", "dispute_stage": "lost"}))


def test_properties_batch_create_read_archive(hs):
    from hubspot.crm.properties import (BatchInputPropertyCreate, BatchInputPropertyName, BatchReadInputPropertyName,
                                        PropertyName)
    made = hs.crm.properties.batch_api.create("contacts", BatchInputPropertyCreate(inputs=[
        PropertyCreate(name="preferred_channel", label="Preferred channel", type="string", field_type="text",
                       group_name="deskbridge"),
        PropertyCreate(name="segment", label="Segment again", type="string", field_type="text",
                       group_name="deskbridge")]))
    assert [p.name for p in made.results] == ["preferred_channel"]
    assert made.num_errors == 1 and made.errors[0].category == "OBJECT_ALREADY_EXISTS"
    read = hs.crm.properties.batch_api.read("contacts", BatchReadInputPropertyName(
        archived=False, inputs=[PropertyName(name="preferred_channel"), PropertyName(name="email")]))
    assert sorted(p.name for p in read.results) == ["email", "preferred_channel"]
    hs.crm.properties.batch_api.archive("contacts", BatchInputPropertyName(inputs=[PropertyName(name="preferred_channel")]))
    with pytest.raises(PropertyNotFound):
        hs.crm.properties.core_api.get_by_name("contacts", "preferred_channel")
