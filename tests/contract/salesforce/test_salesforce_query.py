"""SOQL through simple-salesforce: paging, queryAll, incremental cursors, errors."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

pytestmark = pytest.mark.contract


def _more_pages(sandbox) -> int:
    routes = sandbox.sandbox.stats()["salesforce"]["by_route"]
    return routes.get("GET /services/data/v<version>/query/<locator>", 0)


def test_query_all_follows_three_pages(sf, sandbox, insert_cases):
    created = insert_cases(4200)
    first = sf.query("SELECT Id, Subject FROM Case ORDER BY Id")
    assert first["done"] is False and first["totalSize"] == 4200 and len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    everything = sf.query_all("SELECT Id, Subject FROM Case ORDER BY Id")
    assert [r["Id"] for r in everything["records"]] == created
    assert _more_pages(sandbox) == 2


def test_batch_size_header_shrinks_pages(sf, insert_cases):
    insert_cases(450)
    page = sf.query("SELECT Id FROM Case", headers={"Sforce-Query-Options": "batchSize=200"})
    assert len(page["records"]) == 200 and page["nextRecordsUrl"].endswith("-200")
    rest = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert len(rest["records"]) == 200 and rest["done"] is False


def test_query_all_sees_deleted_records(sf, insert_cases):
    keep, gone = insert_cases(2)
    sf.Case.delete(gone)
    assert [r["Id"] for r in sf.query("SELECT Id FROM Case")["records"]] == [keep]
    deleted = sf.query_all("SELECT Id, IsDeleted FROM Case WHERE IsDeleted = true", include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in deleted["records"]] == [(gone, True)]


def test_incremental_cursor_on_last_modified_and_id(sf, insert_cases):
    ids = insert_cases(30)
    rows = sf.query_all("SELECT Id, LastModifiedDate FROM Case ORDER BY LastModifiedDate, Id LIMIT 10")["records"]
    mark, last_id = rows[-1]["LastModifiedDate"].replace("+0000", "Z"), rows[-1]["Id"]
    soql = (f"SELECT Id FROM Case WHERE (LastModifiedDate > {mark} OR (LastModifiedDate = {mark} AND Id > "
            f"'{last_id}')) ORDER BY LastModifiedDate, Id")
    following = [r["Id"] for r in sf.query_all(soql)["records"]]
    assert [r["Id"] for r in rows] + following == ids


def test_where_operators_and_count(sf, insert_cases):
    insert_cases(5, Priority="High")
    insert_cases(3, Priority="Low", Origin="Email")
    assert sf.query("SELECT COUNT() FROM Case WHERE Priority = 'high'")["totalSize"] == 5
    assert sf.query("SELECT COUNT() FROM Case WHERE Priority IN ('Low') AND Origin != null")["totalSize"] == 3
    assert sf.query("SELECT COUNT() FROM Case WHERE Subject LIKE 'case 1%'")["totalSize"] == 2
    assert sf.query("SELECT COUNT() FROM Case WHERE NOT Priority = 'High'")["totalSize"] == 3
    aggregate = sf.query("SELECT COUNT(Id) FROM Case WHERE Priority = 'Low'")["records"][0]
    assert aggregate["expr0"] == 3 and aggregate["attributes"] == {"type": "AggregateResult"}
    limited = sf.query("SELECT Id, Subject FROM Case ORDER BY Subject DESC LIMIT 2 OFFSET 1")["records"]
    assert [r["Subject"] for r in limited] == ["Case 3", "Case 2"]


def test_malformed_query_and_invalid_field(sf):
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.query("SELECT Id FROMM Case")
    assert malformed.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:11" in malformed.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as invalid:
        sf.query("SELECT Id, Nope__c FROM Case")
    body = invalid.value.content[0]
    assert body["errorCode"] == "INVALID_FIELD"
    assert body["message"].startswith("\nSELECT Id, Nope__c FROM Case\n           ^\nERROR at Row:1:Column:12\n"
                                      "No such column 'Nope__c' on entity 'Case'.")
    with pytest.raises(SalesforceMalformedRequest) as quoted:
        sf.query("SELECT Id FROM Case WHERE CreatedDate > '2024-01-01'")
    assert "must be of type dateTime and should not be enclosed in quotes" in quoted.value.content[0]["message"]


def test_a_page_can_be_fetched_again_and_unknown_locators_fail(sf, insert_cases):
    insert_cases(400)
    first = sf.query("SELECT Id FROM Case", headers={"Sforce-Query-Options": "batchSize=200"})
    last = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    again = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert last["done"] is True and again["records"] == last["records"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more("01g5g0000000zzzAAA-200")
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_sosl_search_and_quick_search(sf):
    account = sf.Account.create({"Name": "Northwind Payments"})["id"]
    jane = sf.Contact.create({"FirstName": "Jane", "LastName": "Roe", "Email": "jane.roe@example.com",
                              "AccountId": account})["id"]
    sf.Contact.create({"FirstName": "John", "LastName": "Doe", "Email": "john@example.com"})
    found = sf.search("FIND {jane.roe@example.com} IN EMAIL FIELDS RETURNING Contact(Id, Email WHERE "
                      "LastName != null ORDER BY LastName LIMIT 5)")
    assert [(r["Id"], r["Email"]) for r in found["searchRecords"]] == [(jane, "jane.roe@example.com")]
    everywhere = sf.quick_search("Northwind")
    assert [r["attributes"]["type"] for r in everywhere["searchRecords"]] == ["Account"]
    assert len(sf.search("FIND {example*} RETURNING Contact, Account")["searchRecords"]) == 2
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.search("FIND jane")
    assert caught.value.content == [{"message": "No search term found. The search term must be enclosed in braces.",
                                     "errorCode": "MALFORMED_SEARCH"}]
