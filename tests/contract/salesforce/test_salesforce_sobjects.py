"""simple-salesforce against the emulator: sObject CRUD, upsert, describe, windows, errors, limits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (SalesforceExpiredSession, SalesforceGeneralError,
                                          SalesforceMalformedRequest, SalesforceMoreThanOneRecord,
                                          SalesforceRefusedRequest, SalesforceResourceNotFound)

from hub.sandbox.salesforce.testing import http_session_for

pytestmark = pytest.mark.contract
ID18 = re.compile(r"^[A-Za-z0-9]{18}$")


def test_case_create_get_update_delete(sf):
    contact = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"})
    created = sf.Case.create({"Subject": "Card declined", "Description": "Declined at a shop", "Origin": "Web",
                              "ContactId": contact["id"], "Category__c": "cards", "Risk_Score__c": 0.42})
    assert created["success"] is True and created["errors"] == []
    assert ID18.match(created["id"]) and created["id"].startswith("500")
    case = sf.Case.get(created["id"])
    assert case["attributes"] == {"type": "Case", "url": f"/services/data/v59.0/sobjects/Case/{created['id']}"}
    assert case["Status"] == "New" and case["Priority"] == "Medium" and case["IsDeleted"] is False
    assert re.match(r"^\d{8}$", case["CaseNumber"])
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$", case["CreatedDate"])
    assert case["ContactEmail"] == "ada@example.com" and case["Risk_Score__c"] == 0.42
    assert sf.Case.update(created["id"], {"Status": "Closed", "Priority": "High"}) == 204
    updated = sf.Case.get(created["id"])
    assert updated["IsClosed"] is True and updated["ClosedDate"] is not None and updated["Priority"] == "High"
    assert updated["SystemModstamp"] >= case["SystemModstamp"]
    assert sf.Case.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Case.get(created["id"])


def test_get_with_fields_subset_and_case_numbers_increase(sf):
    first = sf.Case.create({"Subject": "one"})["id"]
    second = sf.Case.create({"Subject": "two"})["id"]
    body = sf.Case.get(second, params={"fields": "Subject,CaseNumber"})
    assert list(body) == ["attributes", "Subject", "CaseNumber"]
    assert int(body["CaseNumber"]) == int(sf.Case.get(first)["CaseNumber"]) + 1


def test_upsert_by_external_id_creates_then_updates(sf):
    assert sf.Contact.upsert("Bank_Customer_Id__c/CUST-9", {"LastName": "Okafor", "KYC_Status__c": "pending"}) == 201
    # Since API v46.0 an upsert that updates answers 200 with a body (204 before).
    assert sf.Contact.upsert("Bank_Customer_Id__c/CUST-9", {"KYC_Status__c": "verified"}) == 200
    contact = sf.Contact.get_by_custom_id("Bank_Customer_Id__c", "CUST-9")
    assert contact["LastName"] == "Okafor" and contact["KYC_Status__c"] == "verified"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_upsert_with_several_matches_is_300(sf):
    sf.Case.create({"Subject": "a", "Zendesk_Ticket_Id__c": "77"})
    sf.Case.create({"Subject": "b", "Zendesk_Ticket_Id__c": "77"})
    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Case.upsert("Zendesk_Ticket_Id__c/77", {"Subject": "c"})
    assert len(caught.value.content) == 2 and caught.value.content[0].startswith("/services/data/v59.0/sobjects/Case/")


def test_unique_external_id_refuses_duplicates(sf):
    sf.Contact.create({"LastName": "A", "Bank_Customer_Id__c": "CUST-1"})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "B", "Bank_Customer_Id__c": "cust-1"})
    assert caught.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_validation_errors_have_real_codes(sf):
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.Contact.create({"FirstName": "No last name"})
    assert missing.value.content == [{"message": "Required fields are missing: [LastName]",
                                      "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["LastName"]}]
    with pytest.raises(SalesforceMalformedRequest) as unknown:
        sf.Case.create({"Subjekt": "typo"})
    assert unknown.value.content[0] == {"message": "No such column 'Subjekt' on sobject of type Case",
                                        "errorCode": "INVALID_FIELD"}
    with pytest.raises(SalesforceMalformedRequest) as picklist:
        sf.Case.create({"Category__c": "lottery"})
    assert picklist.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    with pytest.raises(SalesforceMalformedRequest) as readonly:
        sf.Case.create({"CaseNumber": "1"})
    assert readonly.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_describe_lists_custom_and_external_id_fields(sf):
    fields = {f["name"]: f for f in sf.Case.describe()["fields"]}
    for name in ("Deskbridge_Id__c", "Zendesk_Ticket_Id__c", "Category__c", "Risk_Score__c",
                 "SLA_First_Response_Due__c", "Identity_Verified__c", "CaseNumber", "Status", "SystemModstamp"):
        assert name in fields
    assert fields["Deskbridge_Id__c"]["externalId"] is True and fields["Deskbridge_Id__c"]["custom"] is True
    assert fields["CaseNumber"]["updateable"] is False and fields["CaseNumber"]["autoNumber"] is True
    assert fields["SLA_First_Response_Due__c"]["type"] == "datetime"
    contact = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert contact["Bank_Customer_Id__c"]["externalId"] is True
    assert {"Segment__c", "KYC_Status__c"} <= set(contact)
    names = {s["name"]: s["keyPrefix"] for s in sf.describe()["sobjects"]}
    assert names["Case"] == "500" and names["CaseComment"] == "00a" and names["Contact"] == "003"
    assert names["Account"] == "001"


def test_updated_and_deleted_windows(sf):
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    keep = sf.Account.create({"Name": "Keep"})["id"]
    gone = sf.Account.create({"Name": "Gone"})["id"]
    sf.Account.delete(gone)
    end = datetime.now(timezone.utc) + timedelta(minutes=1)
    changed = sf.Account.updated(start, end)
    assert keep in changed["ids"] and gone not in changed["ids"]
    removed = sf.Account.deleted(start, end)
    assert [r["id"] for r in removed["deletedRecords"]] == [gone]
    assert removed["latestDateCovered"].endswith(":00.000+0000")


def test_case_comment_and_relationship_query(sf):
    case_id = sf.Case.create({"Subject": "Need help"})["id"]
    sf.CaseComment.create({"ParentId": case_id, "CommentBody": "internal", "IsPublished": False})
    rows = sf.query(f"SELECT Id, CommentBody, Parent.Subject FROM CaseComment WHERE ParentId = '{case_id}'")
    assert rows["records"][0]["Parent"]["Subject"] == "Need help"
    with pytest.raises(SalesforceMalformedRequest) as wrong_parent:
        sf.CaseComment.create({"ParentId": sf.Account.create({"Name": "x"})["id"], "CommentBody": "x"})
    assert wrong_parent.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_content_version_upload_links_to_case(sf, tmp_path):
    case_id = sf.Case.create({"Subject": "Statement"})["id"]
    path = tmp_path / "statement.pdf"
    path.write_bytes(b"%PDF-1.4 sandbox")
    version = sf.ContentVersion.create({"Title": "Statement", "PathOnClient": "statement.pdf",
                                        "VersionData": __import__("base64").b64encode(path.read_bytes()).decode(),
                                        "FirstPublishLocationId": case_id})
    row = sf.ContentVersion.get(version["id"])
    assert row["ContentDocumentId"].startswith("069") and row["ContentSize"] == 16 and row["FileType"] == "PDF"
    links = sf.query(f"SELECT LinkedEntityId FROM ContentDocumentLink WHERE ContentDocumentId = "
                     f"'{row['ContentDocumentId']}'")
    assert links["records"][0]["LinkedEntityId"] == case_id
    blob = sf.session.get(f"https://{sf.sf_instance}{row['VersionData']}", headers=sf.headers, timeout=10)
    assert blob.content == b"%PDF-1.4 sandbox"


def test_wrong_session_is_expired_session(sandbox):
    bad = Salesforce(instance_url=sandbox.url, session_id="00Dwrong!session", session=http_session_for(sandbox.url),
                     version="59.0")
    with pytest.raises(SalesforceExpiredSession) as caught:
        bad.query("SELECT Id FROM Case")
    assert caught.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_missing_record_is_resource_not_found(sf):
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Case.get("500000000000000AAA")
    assert caught.value.content[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound) as by_field:
        sf.Contact.get_by_custom_id("Not_A_Field__c", "1")
    assert "Provided external ID field does not exist" in by_field.value.content[0]["message"]


def test_rate_limit_is_403_request_limit_exceeded(sf, control):
    assert control("POST", "/_sandbox/limits", {"system": "salesforce", "per_minute": 2}).status_code == 200
    sf.query("SELECT Id FROM Case")
    sf.query("SELECT Id FROM Case")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Case")
    assert caught.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def test_api_usage_header_and_limits(sf):
    sf.query("SELECT Id FROM Case")
    sf.query("SELECT Id FROM Case")
    assert sf.api_usage["api-usage"].total == 15000
    used = sf.api_usage["api-usage"].used
    assert used >= 2
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000
    assert limits["DailyApiRequests"]["Remaining"] == 15000 - used - 1  # the limits call counts too


def test_injected_server_error_is_general_error(sf, control):
    control("POST", "/_sandbox/faults", {"system": "salesforce", "rate": 1.0, "kinds": ["500"]})
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.Case.create({"Subject": "x"})
    assert caught.value.status == 500 and caught.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"


def test_unknown_resource_and_wrong_method(sf, sandbox):
    session = sf.session
    base = f"https://{sf.sf_instance}/services/data/v59.0"
    missing = session.get(f"{base}/sobjects/Lead/describe", headers=sf.headers, timeout=10)
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"
    wrong = session.put(f"{base}/sobjects/Case/500000000000000AAA", headers=sf.headers, json={}, timeout=10)
    assert wrong.status_code == 405 and wrong.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    assert "GET" in wrong.headers["Allow"] and "PATCH" in wrong.headers["Allow"]
    old_version = session.get(f"https://{sf.sf_instance}/services/data/v12.0/limits/", headers=sf.headers, timeout=10)
    assert old_version.status_code == 404


def test_sobject_metadata_lists_recent_items(sf):
    case_id = sf.Case.create({"Subject": "recent"})["id"]
    metadata = sf.Case.metadata()
    assert metadata["objectDescribe"]["keyPrefix"] == "500"
    assert [item["Id"] for item in metadata["recentItems"]] == [case_id]


def test_record_times_follow_the_sandbox_clock(sf, control):
    case_id = sf.Case.create({"Subject": "clock"})["id"]
    created = sf.Case.get(case_id)["CreatedDate"]
    assert control("POST", "/_sandbox/clock", {"advance_seconds": 3 * 86400}).status_code == 200
    sf.Case.update(case_id, {"Status": "Working"})
    later = sf.Case.get(case_id)
    assert later["CreatedDate"] == created
    shift = datetime.strptime(later["LastModifiedDate"], "%Y-%m-%dT%H:%M:%S.%f%z") - \
        datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert shift >= timedelta(days=3)
    recent = sf.query("SELECT Id FROM Case WHERE LastModifiedDate = TODAY AND CreatedDate < TODAY")
    assert [r["Id"] for r in recent["records"]] == [case_id]


def test_exhausted_daily_allocation_refuses_calls(sf, control):
    assert control("POST", "/_sandbox/salesforce/allocation", {"max": 100, "used": 98}).json()["enforced"] is True
    sf.query("SELECT Id FROM Case")
    assert sf.api_usage["api-usage"].used == 99 and sf.api_usage["api-usage"].total == 100
    sf.query("SELECT Id FROM Case")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Case")
    assert caught.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert control("POST", "/_sandbox/salesforce/allocation", {"max": "lots"}).status_code == 400
