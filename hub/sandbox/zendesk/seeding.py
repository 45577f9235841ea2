"""Load the shared demo dataset into the Zendesk emulator: groups, agents, organizations, users, tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.sandbox.zendesk import people, tickets
from hub.sandbox.zendesk.state import ZendeskState

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.seed import Dataset

GROUPS = (("Tier 1", "First-line support for everyday questions"),
          ("Tier 2", "Escalations and account access problems"),
          ("Fraud", "Fraud alerts, compromised accounts and compliance cases"),
          ("Payments", "Payments, cards, fees and disputes"),
          ("KYC", "Identity verification and onboarding documents"))
AGENTS = (("Maya Okafor", "maya.okafor@sandbox.test", "Tier 1"),
          ("Lucas Brandt", "lucas.brandt@sandbox.test", "Tier 2"),
          ("Priya Raman", "priya.raman@sandbox.test", "Fraud"),
          ("Tom Ellery", "tom.ellery@sandbox.test", "Payments"),
          ("Sofia Marquez", "sofia.marquez@sandbox.test", "KYC"))
CATEGORY_GROUP = {"compliance_fraud": "Fraud", "payments": "Payments", "cards": "Payments", "disputes": "Payments",
                  "fees": "Payments", "kyc_verification": "KYC", "account_access": "Tier 2",
                  "account_management": "Tier 1"}


def seed(state: ZendeskState, dataset: "Dataset") -> dict:
    """Create everything the dataset describes; returns counts of what was created."""
    groups = {name: people.create_group(state, {"name": name, "description": text}) for name, text in GROUPS}
    agents = {}
    for name, email, group in AGENTS:
        agents[group] = people.create_user(state, {"name": name, "email": email, "role": "agent", "verified": True,
                                                   "default_group_id": groups[group]["id"]})
    orgs = {}
    for org in dataset.organisations:
        orgs[org.id] = people.create_org(state, {
            "name": org.name, "external_id": org.id, "domain_names": [org.domain], "tags": [org.segment],
            "organization_fields": {"segment": org.segment}})
    users = {}
    for person in dataset.customers:
        org_id = person.organisation_id
        if org_id is None and person.organisation:
            match = next((o for o in dataset.organisations if o.name == person.organisation), None)
            org_id = match.id if match else None
        users[person.id] = people.create_user(state, {
            "name": person.name, "email": person.email, "phone": person.phone, "external_id": person.id,
            "organization_id": orgs[org_id]["id"] if org_id in orgs else None, "verified": True,
            "tags": [person.segment, f"kyc_{person.kyc_status}"],
            "user_fields": {"segment": person.segment, "kyc_status": person.kyc_status}},
            at=person.created_at)
    created = 0
    for item in sorted(dataset.tickets, key=lambda t: t.created_at):
        requester = users[item.customer_id]
        group = CATEGORY_GROUP.get(item.category, "Tier 1")
        data = {"subject": item.subject, "priority": item.priority, "status": item.status,
                "requester_id": requester["id"], "group_id": groups[group]["id"],
                "tags": [item.category, dataset.customer(item.customer_id).segment],
                "comment": {"body": item.description, "author_id": requester["id"], "public": True}}
        if item.status != "new":
            data["assignee_id"] = agents[group]["id"]
        tickets.create_ticket(state, data, requester["id"], channel="email", at=item.created_at, notify=False)
        created += 1
    return {"groups": len(groups), "agents": len(agents), "organizations": len(orgs), "users": len(users),
            "tickets": created}
