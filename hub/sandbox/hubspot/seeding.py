"""Loads the shared demo dataset into the portal: companies, contacts, a share of the tickets, associated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.sandbox.hubspot.values import iso_ms

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.hubspot.store import PortalStore
    from hub.sandbox.seed import Dataset

PRIORITY = {"low": "LOW", "normal": "MEDIUM", "high": "HIGH", "urgent": "URGENT"}
STAGE = {"new": "1", "pending": "2", "open": "3", "solved": "4"}
TICKET_SHARE = 3            # every third seed ticket also lives in HubSpot (the CRM side of the help desk)
CONTACT_TO_PRIMARY_COMPANY = 1
TICKET_TO_CONTACT = 16
TICKET_TO_PRIMARY_COMPANY = 26


def load_dataset(store: "PortalStore", dataset: "Dataset") -> dict[str, int]:
    """Create the records; returns how many of each were made."""
    company_ids: dict[str, str] = {}
    for org in dataset.organisations:
        record = store.create("companies", {"name": org.name, "domain": org.domain, "segment": org.segment,
                                            "deskbridge_id": org.id, "lifecyclestage": "customer"})
        company_ids[org.id] = record.id
    contact_ids: dict[str, str] = {}
    for person in dataset.customers:
        props = {"email": person.email, "firstname": person.first_name, "lastname": person.last_name,
                 "phone": person.phone, "bank_customer_id": person.id, "segment": person.segment,
                 "kyc_status": person.kyc_status, "lifecyclestage": "customer"}
        if getattr(person, "city", ""):
            props["city"] = person.city
        if getattr(person, "country", ""):
            props["country"] = person.country
        if person.organisation:
            props["company"] = person.organisation
        if getattr(person, "created_at", None) is not None:
            props["createdate"] = iso_ms(person.created_at)
        record = store.create("contacts", props)
        contact_ids[person.id] = record.id
        org_id = getattr(person, "organisation_id", None)
        if org_id in company_ids:
            store.links.add("contacts", record.id, "companies", company_ids[org_id], [CONTACT_TO_PRIMARY_COMPANY])
    tickets = 0
    for index, ticket in enumerate(dataset.tickets):
        if index % TICKET_SHARE:
            continue
        record = store.create("tickets", {
            "subject": ticket.subject, "content": ticket.description, "hs_pipeline": "0",
            "hs_pipeline_stage": STAGE.get(ticket.status, "1"), "hs_ticket_priority": PRIORITY.get(ticket.priority),
            "category": ticket.category, "source_type": "EMAIL", "createdate": iso_ms(ticket.created_at)})
        tickets += 1
        contact_id = contact_ids.get(ticket.customer_id)
        if contact_id:
            store.links.add("tickets", record.id, "contacts", contact_id, [TICKET_TO_CONTACT])
            person = dataset.customer(ticket.customer_id)
            org_id = getattr(person, "organisation_id", None)
            if org_id in company_ids:
                store.links.add("tickets", record.id, "companies", company_ids[org_id], [TICKET_TO_PRIMARY_COMPANY])
    return {"companies": len(company_ids), "contacts": len(contact_ids), "tickets": tickets}
