"""Composite resources through ``sf.restful``: collections, caps, allOrNone, references."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

pytestmark = pytest.mark.contract


def _cases(n: int) -> list[dict]:
    return [{"attributes": {"type": "Case"}, "Subject": f"s{i}"} for i in range(n)]


def test_collection_of_201_is_refused(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="POST", json={"records": _cases(201)})
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert sf.query("SELECT COUNT() FROM Case")["totalSize"] == 0


def test_composite_of_26_is_refused(sf):
    subrequests = [{"method": "GET", "url": "/services/data/v59.0/limits/", "referenceId": f"r{i}"} for i in range(26)]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": subrequests})


def test_collection_results_in_order_with_per_record_errors(sf):
    records = [{"attributes": {"type": "Contact"}, "LastName": "One"},
               {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
               {"attributes": {"type": "Account"}, "Name": "Three"}]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["errors"] == [{"statusCode": "REQUIRED_FIELD_MISSING",
                                     "message": "Required fields are missing: [LastName]", "fields": ["LastName"]}]
    assert results[0]["id"].startswith("003") and results[2]["id"].startswith("001")
    updates = [{"attributes": {"type": "Contact"}, "id": results[0]["id"], "Title": "CFO"},
               {"attributes": {"type": "Contact"}, "id": "003000000000000AAA", "Title": "x"}]
    changed = sf.restful("composite/sobjects", method="PATCH", json={"records": updates})
    assert [r["success"] for r in changed] == [True, False]
    assert sf.Contact.get(results[0]["id"])["Title"] == "CFO"
    removed = sf.restful(f"composite/sobjects?ids={results[0]['id']},{results[2]['id']}", method="DELETE")
    assert [r["success"] for r in removed] == [True, True]


def test_all_or_none_rolls_everything_back(sf):
    records = _cases(3) + [{"attributes": {"type": "Case"}, "Category__c": "nonsense"}]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
    assert [r["success"] for r in results] == [False] * 4
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[3]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert sf.query("SELECT COUNT() FROM Case")["totalSize"] == 0


def test_upsert_collection_by_external_id(sf):
    sf.Contact.create({"LastName": "Existing", "Bank_Customer_Id__c": "CUST-1"})
    records = [{"attributes": {"type": "Contact"}, "Bank_Customer_Id__c": "CUST-1", "Title": "Owner"},
               {"attributes": {"type": "Contact"}, "Bank_Customer_Id__c": "CUST-2", "LastName": "New"}]
    results = sf.restful("composite/sobjects/Contact/Bank_Customer_Id__c", method="PATCH",
                         json={"allOrNone": False, "records": records})
    assert [(r["success"], r["created"]) for r in results] == [(True, False), (True, True)]
    assert sf.Contact.get_by_custom_id("Bank_Customer_Id__c", "CUST-1")["Title"] == "Owner"


def test_composite_references_and_rollback(sf):
    body = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "acct",
         "body": {"Name": "Northwind Payments"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "person",
         "body": {"LastName": "Ngata", "AccountId": "@{acct.id}"}},
        {"method": "GET", "url": "/services/data/v59.0/sobjects/Contact/@{person.id}?fields=AccountId",
         "referenceId": "check"}]}
    answer = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in answer] == [201, 201, 200]
    assert answer[2]["body"]["AccountId"] == answer[0]["body"]["id"]
    assert answer[0]["httpHeaders"]["Location"].startswith("/services/data/v59.0/sobjects/Account/")
    failing = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "a",
         "body": {"Name": "Rolled back"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "b",
         "body": {"FirstName": "missing last name"}}]}
    answer = sf.restful("composite", method="POST", json=failing)["compositeResponse"]
    assert answer[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert answer[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Rolled back'")["totalSize"] == 0


def test_composite_allows_at_most_five_queries(sf):
    queries = [{"method": "GET", "url": "/services/data/v59.0/query/?q=SELECT+Id+FROM+Case", "referenceId": f"q{i}"}
               for i in range(6)]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite", method="POST", json={"compositeRequest": queries})
    assert caught.value.content[0]["errorCode"] == "LIMIT_EXCEEDED"
    answer = sf.restful("composite", method="POST", json={"compositeRequest": queries[:5]})["compositeResponse"]
    assert [r["body"]["totalSize"] for r in answer] == [0] * 5


def test_composite_batch_runs_independent_subrequests(sf):
    case_id = sf.Case.create({"Subject": "batch"})["id"]
    answer = sf.restful("composite/batch", method="POST", json={"batchRequests": [
        {"method": "PATCH", "url": f"v59.0/sobjects/Case/{case_id}", "richInput": {"Status": "Working"}},
        {"method": "GET", "url": "v59.0/sobjects/Case/500000000000000AAA"},
        {"method": "GET", "url": f"v59.0/sobjects/Case/{case_id}?fields=Status"}]})
    assert answer["hasErrors"] is True
    assert [r["statusCode"] for r in answer["results"]] == [204, 404, 200]
    assert answer["results"][2]["result"]["Status"] == "Working"
    halted = sf.restful("composite/batch", method="POST", json={"haltOnError": True, "batchRequests": [
        {"method": "GET", "url": "v59.0/sobjects/Case/500000000000000AAA"},
        {"method": "GET", "url": "v59.0/limits"}]})
    assert [r["statusCode"] for r in halted["results"]] == [404, 412]
