"""People and organisations across the bank, Zendesk, Salesforce and HubSpot: matched by the bank's customer id
(then email), never duplicated; the bank's KYC status reaches every system and stays the source of truth."""

from __future__ import annotations

import time

import pytest
import requests

from hub.sync import run_pass, status
from tests.e2e.sync_support import (  # noqa: F401  (running: fixture)
    running, drain, make_sync_hub, sf_query, sf_update, writes,
)

pytestmark = pytest.mark.e2e
PEOPLE = ("organisation", "customer")
ALL = ("zendesk", "salesforce", "hubspot", "core_banking")


@pytest.fixture
def seeded(running, make_hub):
    running.sandbox.reset()
    requests.post(f"{running.url}/_sandbox/seed", json={}, timeout=60).raise_for_status()
    hub = make_sync_hub(make_hub, running.url, systems=ALL)
    return running.url, hub


def people_pass(hub):
    report = run_pass(hub, backfill=True, objects=PEOPLE)
    drain(hub)
    return report


def hs_contacts(url) -> list[dict]:
    body = requests.get(f"{url}/crm/v3/objects/contacts", params={"limit": 100, "properties":
                        "email,bank_customer_id,kyc_status,segment"},
                        headers={"Authorization": "Bearer sandbox-token"}, timeout=10).json()
    return body["results"]


def test_seeded_people_are_matched_across_all_four_systems_without_duplicates(seeded):
    url, hub = seeded
    people_pass(hub)
    people_pass(hub)
    current = status(hub)
    assert current["records"] == {"customer": 50, "organisation": 10}
    assert current["linked"]["customer"] == {system: 50 for system in ALL}
    assert current["linked"]["organisation"] == {"zendesk": 10, "salesforce": 10, "hubspot": 10}
    assert len(sf_query(url, "SELECT Id FROM Contact")) == 50 and len(hs_contacts(url)) == 50
    assert len(sf_query(url, "SELECT Id FROM Account")) == 10
    before = {s: writes(url, s) for s in ("zendesk", "salesforce", "hubspot")}
    people_pass(hub)
    assert {s: writes(url, s) for s in ("zendesk", "salesforce", "hubspot")} == before


def test_the_bank_owns_kyc_status(seeded):
    url, hub = seeded
    people_pass(hub)
    people_pass(hub)
    contact = sf_query(url, "SELECT Id, Bank_Customer_Id__c, KYC_Status__c FROM Contact "
                            "WHERE Bank_Customer_Id__c = 'CUST-0001'")[0]
    new = "rejected" if contact["KYC_Status__c"] != "rejected" else "verified"
    time.sleep(1.1)
    requests.post(f"{url}/_sandbox/bank/customers/CUST-0001/kyc", json={"status": new},
                  timeout=10).raise_for_status()
    people_pass(hub)
    people_pass(hub)
    assert sf_query(url, "SELECT KYC_Status__c FROM Contact WHERE Id = '%s'" % contact["Id"])[0]["KYC_Status__c"] == new
    assert {c["properties"]["bank_customer_id"]: c["properties"]["kyc_status"] for c in hs_contacts(url)}[
        "CUST-0001"] == new
    # An agent's edit of the field in Salesforce is put back: the bank is its source of truth.
    time.sleep(1.1)
    other = "expired" if new != "expired" else "pending"
    sf_update(url, "Contact", contact["Id"], {"KYC_Status__c": other})
    people_pass(hub)
    people_pass(hub)
    assert sf_query(url, "SELECT KYC_Status__c FROM Contact WHERE Id = '%s'" % contact["Id"])[0]["KYC_Status__c"] == new
