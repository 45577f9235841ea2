"""Basic object operations through hubspot-api-client 12 against the emulator."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import (ApiException, SimplePublicObjectBatchInputForCreate, BatchInputSimplePublicObjectBatchInputForCreate, PublicGdprDeleteInput,
                                  SimplePublicObjectInput, SimplePublicObjectInputForCreate)
from hubspot.crm.contacts.exceptions import NotFoundException, UnauthorizedException
from hubspot.crm.objects import SimplePublicObjectInputForCreate as ObjectInput
from hubspot.crm.tickets import SimplePublicObjectInputForCreate as TicketInput
from hubspot.crm.tickets.exceptions import ApiException as TicketApiException
from urllib3.util.retry import Retry

pytestmark = pytest.mark.contract


def new_contact(hs, email="jane@example.com", **props):
    return hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": email, "firstname": "Jane", **props}))


def body_of(exc: ApiException) -> dict:
    return json.loads(exc.body)


def test_create_get_update_archive_contact(hs):
    created = new_contact(hs, lastname="Doe", bank_customer_id="CUST-0001")
    assert created.id.isdigit()
    assert created.properties["email"] == "jane@example.com"
    assert created.properties["hs_object_id"] == created.id
    assert created.properties["createdate"].endswith("Z") and "." in created.properties["createdate"]
    assert isinstance(created.created_at, datetime)

    got = hs.crm.contacts.basic_api.get_by_id(created.id, properties=["email", "bank_customer_id", "phone"])
    assert got.properties["bank_customer_id"] == "CUST-0001"
    assert got.properties["phone"] is None          # requested but empty: present as null
    assert "firstname" not in got.properties        # not requested
    assert got.archived is False

    updated = hs.crm.contacts.basic_api.update(created.id, SimplePublicObjectInput(properties={"lastname": "Roe"}))
    assert updated.properties["lastname"] == "Roe"
    assert updated.updated_at >= created.updated_at

    hs.crm.contacts.basic_api.archive(created.id)
    with pytest.raises(NotFoundException) as caught:
        hs.crm.contacts.basic_api.get_by_id(created.id)
    assert body_of(caught.value)["category"] == "OBJECT_NOT_FOUND"
    archived = hs.crm.contacts.basic_api.get_by_id(created.id, archived=True)
    assert archived.archived is True and archived.archived_at is not None


def test_default_properties_per_type(hs):
    contact = new_contact(hs)
    got = hs.crm.contacts.basic_api.get_by_id(contact.id)
    assert set(got.properties) == {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}
    ticket = hs.crm.tickets.basic_api.create(TicketInput(properties={"subject": "Card lost", "hs_pipeline_stage": "1"}))
    got = hs.crm.tickets.basic_api.get_by_id(ticket.id)
    assert got.properties["hs_pipeline"] == "0"
    assert {"subject", "content", "hs_pipeline_stage", "hs_ticket_priority"} <= set(got.properties)


def test_lookup_by_unique_id_property(hs):
    contact = new_contact(hs, email="Mixed@Example.com", bank_customer_id="CUST-0042")
    by_email = hs.crm.contacts.basic_api.get_by_id("mixed@example.com", id_property="email")
    by_bank_id = hs.crm.contacts.basic_api.get_by_id("CUST-0042", id_property="bank_customer_id")
    assert by_email.id == by_bank_id.id == contact.id
    ticket = hs.crm.tickets.basic_api.create(TicketInput(properties={
        "subject": "Dispute", "hs_pipeline_stage": "1", "deskbridge_id": "DB-7"}))
    assert hs.crm.tickets.basic_api.get_by_id("DB-7", id_property="deskbridge_id").id == ticket.id
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.get_by_id("Jane", id_property="firstname")
    assert caught.value.status == 400


def test_get_all_pages_across_250_contacts(hs, sandbox):
    for start in range(0, 250, 100):
        inputs = [SimplePublicObjectBatchInputForCreate(properties={"email": f"p{i}@example.com"})
                  for i in range(start, min(start + 100, 250))]
        hs.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))
    everyone = hs.crm.contacts.get_all(properties=["email"])
    assert [c.properties["email"] for c in everyone] == [f"p{i}@example.com" for i in range(250)]
    pages = sandbox.sandbox.stats()["hubspot"]["by_route"]["GET /crm/v3/objects/<objtype:object_type>"]
    assert pages == 3
    first = hs.crm.contacts.basic_api.get_page(limit=100)
    assert first.paging.next.after and first.paging.next.link.startswith(sandbox.url)
    assert len(first.results) == 100


def test_list_limit_over_100_is_refused(hs):
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.get_page(limit=101)
    assert caught.value.status == 400


def test_unknown_property_is_refused(hs):
    with pytest.raises(ApiException) as caught:
        new_contact(hs, favourite_colour="blue")
    assert caught.value.status == 400
    body = body_of(caught.value)
    assert body["category"] == "VALIDATION_ERROR"
    assert "PROPERTY_DOESNT_EXIST" in body["message"]


def test_invalid_values_are_refused(hs):
    with pytest.raises(TicketApiException) as caught:
        hs.crm.tickets.basic_api.create(TicketInput(properties={
            "subject": "x", "hs_pipeline_stage": "1", "risk_score": "high", "category": "cards"}))
    assert "INVALID_INTEGER" in body_of(caught.value)["message"]
    with pytest.raises(TicketApiException) as caught:
        hs.crm.tickets.basic_api.create(TicketInput(properties={"subject": "x", "hs_pipeline_stage": "9"}))
    assert "INVALID_OPTION" in body_of(caught.value)["message"]
    with pytest.raises(TicketApiException) as caught:
        hs.crm.tickets.basic_api.create(TicketInput(properties={"subject": "no stage"}))
    assert caught.value.status == 400


def test_values_are_normalised_to_strings(hs):
    ticket = hs.crm.tickets.basic_api.create(TicketInput(properties={
        "subject": "x", "hs_pipeline_stage": "1", "risk_score": 0.85, "identity_verified": True,
        "sla_first_response_due": "2026-01-02T03:04:05+01:00"}))
    assert ticket.properties["risk_score"] == "0.85"
    assert ticket.properties["identity_verified"] == "true"
    assert ticket.properties["sla_first_response_due"] == "2026-01-02T02:04:05.000Z"


def test_duplicate_unique_value_conflicts(hs):
    first = new_contact(hs, email="dup@example.com")
    with pytest.raises(ApiException) as caught:
        new_contact(hs, email="DUP@example.com")
    assert caught.value.status == 409
    body = body_of(caught.value)
    assert body["category"] == "CONFLICT" and first.id in body["message"]


def test_gdpr_delete_is_permanent(hs):
    contact = new_contact(hs, email="forget@example.com")
    hs.crm.contacts.basic_api.purge(PublicGdprDeleteInput(object_id="forget@example.com", id_property="email"))
    for archived in (False, True):
        with pytest.raises(NotFoundException):
            hs.crm.contacts.basic_api.get_by_id(contact.id, archived=archived)
    with pytest.raises(ApiException) as caught:
        new_contact(hs, email="forget@example.com")
    assert caught.value.status == 400
    with pytest.raises(NotFoundException):
        hs.crm.contacts.basic_api.purge(PublicGdprDeleteInput(object_id="999999"))


def test_wrong_token_is_unauthorized(sandbox):
    wrong = HubSpot(access_token="pat-na1-wrong", host=sandbox.url, retry=Retry(0))
    with pytest.raises(UnauthorizedException) as caught:
        wrong.crm.contacts.basic_api.get_page()
    body = body_of(caught.value)
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found")
    assert body["correlationId"]


def test_custom_object_types_from_a_schema(hs):
    from hubspot.crm.objects.exceptions import ApiException as ObjectApiException
    from hubspot.crm.schemas import ObjectSchemaEgg, ObjectTypeDefinitionLabels, ObjectTypePropertyCreate
    schema = hs.crm.schemas.core_api.create(ObjectSchemaEgg(
        name="loan", labels=ObjectTypeDefinitionLabels(singular="Loan", plural="Loans"),
        primary_display_property="loan_ref", required_properties=["loan_ref"], searchable_properties=["loan_ref"],
        associated_objects=["CONTACT"],
        properties=[ObjectTypePropertyCreate(name="loan_ref", label="Loan ref", type="string", field_type="text",
                                             has_unique_value=True),
                    ObjectTypePropertyCreate(name="principal", label="Principal", type="number", field_type="number")]))
    type_id = schema.object_type_id
    assert type_id.startswith("2-") and schema.fully_qualified_name.endswith("_loan")
    assert hs.crm.schemas.core_api.get_by_id(type_id).name == "loan"
    created = hs.crm.objects.basic_api.create(type_id, ObjectInput(properties={"loan_ref": "L-1", "principal": 5000}))
    assert hs.crm.objects.basic_api.get_by_id(type_id, "L-1", id_property="loan_ref").id == created.id
    assert hs.crm.objects.basic_api.get_by_id(schema.fully_qualified_name, created.id,
                                              properties=["principal"]).properties["principal"] == "5000"
    with pytest.raises(ObjectApiException) as caught:
        hs.crm.objects.basic_api.create(type_id, ObjectInput(properties={"principal": 1}))
    assert caught.value.status == 400
    contact = new_contact(hs)
    hs.crm.associations.v4.basic_api.create_default(type_id, created.id, "contacts", contact.id)
    linked = hs.crm.associations.v4.basic_api.get_page("contacts", contact.id, type_id).results
    assert [str(r.to_object_id) for r in linked] == [created.id]
    with pytest.raises(ObjectApiException):
        hs.crm.objects.basic_api.get_page("2-999")
    assert hs.crm.objects.basic_api.get_by_id("0-1", contact.id).properties["email"] == "jane@example.com"


def test_unknown_object_type_is_a_400(sandbox):
    answer = requests.get(f"{sandbox.url}/crm/v3/objects/widgets", headers={"Authorization": "Bearer sandbox-token"},
                          timeout=5)
    assert answer.status_code == 400
    assert answer.json()["message"] == "Unable to infer object type from: widgets"


def test_seed_loads_companies_contacts_and_tickets(hs, sandbox):
    sandbox.sandbox.seed()
    contacts = hs.crm.contacts.get_all(properties=["bank_customer_id", "email"], associations=["companies"])
    assert len(contacts) == len(sandbox.sandbox.dataset.customers)
    assert all(c.properties["bank_customer_id"].startswith("CUST-") for c in contacts)
    with_company = [c for c in contacts if c.associations]
    assert with_company
    assert len(hs.crm.companies.get_all()) == len(sandbox.sandbox.dataset.organisations)
    tickets = hs.crm.tickets.get_all(properties=["category", "hs_pipeline_stage"], associations=["contacts"])
    assert 0 < len(tickets) < len(sandbox.sandbox.dataset.tickets)
    assert all(t.associations["contacts"].results for t in tickets)


def test_merge_moves_blanks_and_associations_and_redirects(hs):
    from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyInput
    from hubspot.crm.contacts import PublicMergeInput
    keep = new_contact(hs, email="keep@example.com")
    dupe = new_contact(hs, email="dupe@example.com", phone="+44 20 7946 0000")
    company = hs.crm.companies.basic_api.create(CompanyInput(properties={"name": "Acme"}))
    hs.crm.associations.v4.basic_api.create_default("contacts", dupe.id, "companies", company.id)
    merged = hs.crm.contacts.basic_api.merge(PublicMergeInput(primary_object_id=keep.id, object_id_to_merge=dupe.id))
    assert merged.id == keep.id
    assert merged.properties["email"] == "keep@example.com"
    assert merged.properties["phone"] == "+44 20 7946 0000"
    assert hs.crm.contacts.basic_api.get_by_id(dupe.id).id == keep.id
    linked = hs.crm.associations.v4.basic_api.get_page("companies", company.id, "contacts").results
    assert [str(r.to_object_id) for r in linked] == [keep.id]
    assert [c.id for c in hs.crm.contacts.get_all()] == [keep.id]
