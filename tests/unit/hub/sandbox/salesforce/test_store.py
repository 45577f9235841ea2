"""Record store: ids, derived fields, transactions with undo, external-id index, recycle bin."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from hub.sandbox.salesforce import ids
from hub.sandbox.salesforce.errors import SalesforceApiError
from hub.sandbox.salesforce.schema import sobject
from hub.sandbox.salesforce.store import MultipleMatches, Store

pytestmark = pytest.mark.unit
CASE, CONTACT = sobject("Case"), sobject("Contact")


@pytest.fixture
def store():
    return Store(lambda: datetime(2024, 5, 1, tzinfo=timezone.utc))


@given(st.integers(min_value=1, max_value=62 ** 8))
def test_ids_are_18_chars_with_a_valid_checksum_and_sort_by_age(sequence):
    first, second = ids.make_id("500", sequence), ids.make_id("500", sequence + 1)
    assert len(first) == 18 and first[:3] == "500" and ids.to18(first[:15]) == first
    assert first < second


def test_checksum_matches_a_known_salesforce_id():
    assert ids.to18("001D000000IqhSL") == "001D000000IqhSLIAZ"


def test_transaction_rolls_back_and_notifies_only_on_commit(store):
    seen = []
    store.listeners.append(seen.append)
    with pytest.raises(SalesforceApiError):
        with store.transaction():
            store.create(CASE, {"Subject": "kept?"})
            store.create(CONTACT, {"FirstName": "no last name"})
    assert list(store.live("Case")) == [] and seen == []
    with store.transaction():
        case_id = store.create(CASE, {"Subject": "kept"})
        store.update(CASE, case_id, {"Status": "Closed"})
    assert seen == [[("created", "Case", case_id), ("updated", "Case", case_id)]]


def test_savepoint_undoes_an_update_but_keeps_earlier_writes(store):
    with store.transaction():
        case_id = store.create(CASE, {"Subject": "a", "Deskbridge_Id__c": "T-1"})
        point = store.savepoint()
        store.update(CASE, case_id, {"Deskbridge_Id__c": "T-2"})
        store.rollback_to(point)
    assert store.by_external_id(CASE, "Deskbridge_Id__c", "t-1") == [case_id]
    assert store.by_external_id(CASE, "Deskbridge_Id__c", "T-2") == []


def test_upsert_and_multiple_matches(store):
    created, was_created = store.upsert(CONTACT, "Bank_Customer_Id__c", "CUST-1", {"LastName": "A"})
    same, again = store.upsert(CONTACT, "Bank_Customer_Id__c", "cust-1", {"FirstName": "B"})
    assert was_created and not again and same == created
    assert store.get(CONTACT, created)["Name"] == "B A"
    store.create(CASE, {"Zendesk_Ticket_Id__c": "9"})
    store.create(CASE, {"Zendesk_Ticket_Id__c": "9"})
    with pytest.raises(MultipleMatches) as caught:
        store.upsert(CASE, "Zendesk_Ticket_Id__c", "9", {})
    assert caught.value.status == 300 and len(caught.value.urls("59.0")) == 2


def test_delete_goes_to_recycle_bin_and_cascades_comments(store):
    case_id = store.create(CASE, {"Subject": "x"})
    comment = store.create(sobject("CaseComment"), {"ParentId": case_id, "CommentBody": "hi"})
    store.delete(CASE, case_id)
    assert store.get(CASE, case_id, include_deleted=True)["IsDeleted"] is True
    assert store.rows["CaseComment"][comment]["IsDeleted"] is True
    with pytest.raises(SalesforceApiError) as caught:
        store.update(CASE, case_id, {"Subject": "y"})
    assert caught.value.code == "ENTITY_IS_DELETED"


def test_case_inherits_account_from_contact(store):
    account = store.create(sobject("Account"), {"Name": "Acme"})
    contact = store.create(CONTACT, {"LastName": "Z", "AccountId": account, "Phone": "+44 20"})
    case = store.get(CASE, store.create(CASE, {"ContactId": contact}))
    assert case["AccountId"] == account and case["ContactPhone"] == "+44 20"


@pytest.mark.parametrize("data, code", [
    ({"Risk_Score__c": "high"}, "JSON_PARSER_ERROR"),
    ({"SLA_First_Response_Due__c": "tomorrow"}, "JSON_PARSER_ERROR"),
    ({"Subject": "x" * 256}, "STRING_TOO_LONG"),
    ({"SuppliedEmail": "not-an-email"}, "INVALID_EMAIL_ADDRESS"),
    ({"ContactId": "nope"}, "MALFORMED_ID"),
    ({"ContactId": "003000000000000AAA"}, "INVALID_CROSS_REFERENCE_KEY"),
    ({"Id": "500000000000000AAA"}, "INVALID_FIELD"),
])
def test_write_validation(store, data, code):
    with pytest.raises(SalesforceApiError) as caught:
        store.create(CASE, data)
    assert caught.value.code == code
