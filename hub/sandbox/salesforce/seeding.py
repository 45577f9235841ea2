"""Demo data: Accounts for organisations, Contacts for customers, Cases for a share of the seed tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.sandbox.salesforce.schema import CATEGORIES, KYC_STATUSES, SEGMENTS, SOBJECTS
from hub.sandbox.salesforce.store import Store

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.seed import Dataset

CASE_SHARE = 3  # every third seed ticket also exists as a Salesforce Case
STATUS = {"new": "New", "open": "Working", "pending": "On Hold", "solved": "Closed"}
PRIORITY = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "High"}
ORIGINS = ("Email", "Web", "Phone", "Chat")


def seed_store(store: Store, dataset: "Dataset") -> dict[str, int]:
    """Load ``dataset`` into ``store``; returns how many records of each type were created."""
    account_ids: dict[str, str] = {}
    for org in dataset.organisations:
        account_ids[org.id] = store.create(SOBJECTS["account"], {
            "Name": org.name, "Website": f"https://{org.domain}", "Domain__c": org.domain,
            "Segment__c": org.segment if org.segment in SEGMENTS else None, "Deskbridge_Id__c": org.id,
            "Type": "Customer - Direct", "Industry": "Finance"})
    by_name = {org.name: org.id for org in dataset.organisations}
    contact_ids: dict[str, str] = {}
    for person in dataset.customers:
        org_id = getattr(person, "organisation_id", None) or by_name.get(person.organisation or "")
        contact_ids[person.id] = store.create(SOBJECTS["contact"], {
            "FirstName": person.first_name, "LastName": person.last_name, "Email": person.email,
            "Phone": person.phone, "Bank_Customer_Id__c": person.id, "AccountId": account_ids.get(org_id),
            "Segment__c": person.segment if person.segment in SEGMENTS else None,
            "KYC_Status__c": person.kyc_status if person.kyc_status in KYC_STATUSES else None,
            "Identity_Verified__c": person.kyc_status == "verified",
            "MailingCity": getattr(person, "city", "") or None, "MailingCountry": getattr(person, "country", None)})
    cases = 0
    for index, ticket in enumerate(dataset.tickets):
        if index % CASE_SHARE:
            continue
        case_id = store.create(SOBJECTS["case"], {
            "Subject": ticket.subject, "Description": ticket.description,
            "Status": STATUS.get(ticket.status, "New"), "Priority": PRIORITY.get(ticket.priority, "Medium"),
            "IsEscalated": ticket.priority == "urgent", "Origin": ORIGINS[index % len(ORIGINS)],
            "Category__c": ticket.category if ticket.category in CATEGORIES else None,
            "ContactId": contact_ids.get(ticket.customer_id)})
        row = store.rows["Case"][case_id]
        # Seed cases were opened when their tickets were, not at seeding time.
        row.update({"CreatedDate": ticket.created_at, "LastModifiedDate": ticket.created_at,
                    "SystemModstamp": ticket.created_at,
                    "ClosedDate": ticket.created_at if row["IsClosed"] else None})
        cases += 1
    return {"Account": len(account_ids), "Contact": len(contact_ids), "Case": cases}
