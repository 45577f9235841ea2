"""SOQL evaluation against the store: filtering, ordering, relationships, types, paging limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hub.sandbox.salesforce.errors import SalesforceApiError
from hub.sandbox.salesforce.schema import sobject
from hub.sandbox.salesforce.soql_eval import execute
from hub.sandbox.salesforce.store import Store

pytestmark = pytest.mark.unit
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def store():
    clock = {"now": NOW}
    s = Store(lambda: clock["now"])
    account = s.create(sobject("Account"), {"Name": "Acme"})
    s.create(sobject("Contact"), {"LastName": "Zed", "AccountId": account, "Email": "z@acme.io"})
    s.create(sobject("Contact"), {"LastName": "adams", "KYC_Status__c": "verified"})
    clock["now"] = NOW + timedelta(days=1)
    s.create(sobject("Contact"), {"LastName": "Brown", "Identity_Verified__c": True})
    return s


def run(store, text, deleted=False):
    return execute(store, text, "59.0", deleted, NOW + timedelta(days=1))


def test_order_is_case_insensitive_and_nulls_first(store):
    names = [r["LastName"] for r in run(store, "SELECT LastName FROM Contact ORDER BY LastName").records]
    assert names == ["adams", "Brown", "Zed"]
    emails = [r["Email"] for r in run(store, "SELECT Email FROM Contact ORDER BY Email").records]
    assert emails[0] is None and emails[-1] == "z@acme.io"
    emails = [r["Email"] for r in run(store, "SELECT Email FROM Contact ORDER BY Email DESC").records]
    assert emails[0] == "z@acme.io" and emails[-1] is None


def test_string_equality_is_case_insensitive(store):
    assert run(store, "SELECT Id FROM Contact WHERE LastName = 'ADAMS'").total == 1


def test_datetime_and_date_literals(store):
    assert run(store, "SELECT Id FROM Contact WHERE CreatedDate > 2024-05-01T12:00:00Z").total == 1
    assert run(store, "SELECT Id FROM Contact WHERE CreatedDate >= 2024-05-01T12:00:00.000+0000").total == 3
    assert run(store, "SELECT Id FROM Contact WHERE CreatedDate = TODAY").total == 1
    assert run(store, "SELECT Id FROM Contact WHERE CreatedDate = YESTERDAY").total == 2
    assert run(store, "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:3").total == 3


def test_parent_relationship_render_and_filter(store):
    rows = run(store, "SELECT LastName, Account.Name FROM Contact WHERE Account.Name = 'Acme'").records
    assert rows == [{"attributes": rows[0]["attributes"], "LastName": "Zed",
                     "Account": {"attributes": rows[0]["Account"]["attributes"], "Name": "Acme"}}]
    orphan = run(store, "SELECT Account.Name FROM Contact WHERE LastName = 'Brown'").records[0]
    assert orphan["Account"] is None


def test_type_errors(store):
    for text, phrase in [("SELECT Id FROM Contact WHERE Identity_Verified__c = 'true'", "type boolean"),
                         ("SELECT Id FROM Contact WHERE LastName = 5", "should be enclosed in quotes"),
                         ("SELECT Id FROM Contact WHERE Account.Nope = 'x'", "No such column 'Nope' on entity "
                                                                             "'Account'"),
                         ("SELECT Owner.Name FROM Contact", "Didn't understand relationship 'Owner'")]:
        with pytest.raises(SalesforceApiError) as caught:
            run(store, text)
        assert caught.value.code == "INVALID_FIELD" and phrase in caught.value.message


def test_offset_cap_and_fields_all(store):
    with pytest.raises(SalesforceApiError) as caught:
        run(store, "SELECT Id FROM Contact OFFSET 2001")
    assert caught.value.code == "NUMBER_OUTSIDE_VALID_RANGE"
    with pytest.raises(SalesforceApiError):
        run(store, "SELECT FIELDS(ALL) FROM Contact")
    record = run(store, "SELECT FIELDS(CUSTOM) FROM Contact LIMIT 1").records[0]
    assert "Bank_Customer_Id__c" in record and "LastName" not in record


def test_deleted_rows_only_in_query_all(store):
    brown = run(store, "SELECT Id FROM Contact WHERE LastName = 'Brown'").records[0]["Id"]
    store.delete(sobject("Contact"), brown)
    assert run(store, "SELECT Id FROM Contact WHERE IsDeleted = true").total == 0
    assert run(store, "SELECT Id FROM Contact WHERE IsDeleted = true", deleted=True).total == 1


def test_count_mixed_with_fields_is_refused(store):
    with pytest.raises(SalesforceApiError) as caught:
        run(store, "SELECT COUNT(Id), LastName FROM Contact")
    assert "Field must be grouped or aggregated: LastName" in caught.value.message


def test_aggregates(store):
    first = run(store, "SELECT MAX(CreatedDate) newest, MIN(LastName), COUNT_DISTINCT(KYC_Status__c), COUNT(Email) "
                       "FROM Contact").records[0]
    assert first == {"attributes": {"type": "AggregateResult"}, "newest": "2024-05-02T12:00:00.000+0000",
                     "expr0": "adams", "expr1": 1, "expr2": 1}
    assert run(store, "SELECT COUNT() FROM Contact LIMIT 2").total == 2
    with pytest.raises(SalesforceApiError) as caught:
        run(store, "SELECT SUM(LastName) FROM Contact")
    assert "does not support aggregate operator SUM" in caught.value.message
