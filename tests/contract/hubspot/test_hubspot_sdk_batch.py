"""Batch create/read/update/upsert/archive through the SDK, including the 100-input cap and 207 answers."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.contacts import (ApiException, BatchInputSimplePublicObjectBatchInput,
                                  BatchInputSimplePublicObjectBatchInputForCreate,
                                  BatchInputSimplePublicObjectBatchInputUpsert, BatchInputSimplePublicObjectId,
                                  BatchReadInputSimplePublicObjectId, SimplePublicObjectBatchInput,
                                  SimplePublicObjectBatchInputForCreate, SimplePublicObjectBatchInputUpsert,
                                  SimplePublicObjectId)
from hubspot.crm.contacts.exceptions import NotFoundException

pytestmark = pytest.mark.contract


def create_many(hs, emails):
    inputs = [SimplePublicObjectBatchInputForCreate(properties={"email": e}) for e in emails]
    return hs.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))


def test_batch_create_returns_complete_with_times(hs):
    answer = create_many(hs, [f"b{i}@example.com" for i in range(100)])
    assert answer.status == "COMPLETE"
    assert len(answer.results) == 100
    assert answer.started_at <= answer.completed_at
    assert {r.properties["email"] for r in answer.results} == {f"b{i}@example.com" for i in range(100)}


def test_batch_over_100_inputs_is_refused(hs):
    with pytest.raises(ApiException) as caught:
        create_many(hs, [f"c{i}@example.com" for i in range(101)])
    assert caught.value.status == 400
    body = json.loads(caught.value.body)
    assert body["category"] == "VALIDATION_ERROR"
    assert "100" in body["message"]
    assert hs.crm.contacts.basic_api.get_page().results == []
    ids = [SimplePublicObjectId(id=str(i)) for i in range(101)]
    with pytest.raises(ApiException):
        hs.crm.contacts.batch_api.read(BatchReadInputSimplePublicObjectId(inputs=ids, properties=["email"]))


def test_batch_create_is_all_or_nothing_on_invalid_input(hs):
    inputs = [SimplePublicObjectBatchInputForCreate(properties={"email": "ok@example.com"}),
              SimplePublicObjectBatchInputForCreate(properties={"nope": "x"})]
    with pytest.raises(ApiException):
        hs.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))
    with pytest.raises(NotFoundException):
        hs.crm.contacts.basic_api.get_by_id("ok@example.com", id_property="email")


def test_batch_read_with_missing_ids_is_207(hs):
    created = create_many(hs, ["r1@example.com", "r2@example.com"]).results
    ids = [SimplePublicObjectId(id=c.id) for c in created] + [SimplePublicObjectId(id="424242")]
    answer = hs.crm.contacts.batch_api.read(BatchReadInputSimplePublicObjectId(inputs=ids, properties=["email"]))
    assert {r.properties["email"] for r in answer.results} == {"r1@example.com", "r2@example.com"}
    assert answer.num_errors == 1
    assert answer.errors[0].category == "OBJECT_NOT_FOUND"
    assert answer.errors[0].context == {"ids": ["424242"]}


def test_batch_read_by_id_property(hs):
    create_many(hs, ["idp@example.com"])
    answer = hs.crm.contacts.batch_api.read(BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id="idp@example.com")], properties=["email"], id_property="email"))
    assert answer.results[0].properties["email"] == "idp@example.com"


def test_batch_update_and_missing_ids(hs):
    created = create_many(hs, ["u1@example.com", "u2@example.com"]).results
    inputs = [SimplePublicObjectBatchInput(id=c.id, properties={"firstname": f"N{i}"}) for i, c in enumerate(created)]
    inputs.append(SimplePublicObjectBatchInput(id="777777", properties={"firstname": "ghost"}))
    answer = hs.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=inputs))
    assert sorted(r.properties["firstname"] for r in answer.results) == ["N0", "N1"]
    assert answer.num_errors == 1 and answer.errors[0].context == {"ids": ["777777"]}
    assert hs.crm.contacts.basic_api.get_by_id(created[0].id, properties=["firstname"]).properties["firstname"] == "N0"


def test_batch_upsert_creates_then_updates(hs):
    def upsert(name):
        return hs.crm.contacts.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
            SimplePublicObjectBatchInputUpsert(id="CUST-0900", id_property="bank_customer_id",
                                               properties={"firstname": name})]))
    first = upsert("Ann")
    assert first.results[0].new is True
    assert first.results[0].properties["bank_customer_id"] == "CUST-0900"
    second = upsert("Anne")
    assert second.results[0].new is False
    assert second.results[0].id == first.results[0].id
    assert second.results[0].properties["firstname"] == "Anne"


def test_batch_upsert_needs_a_unique_id_property(hs):
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
            SimplePublicObjectBatchInputUpsert(id="Ann", id_property="firstname", properties={})]))
    assert caught.value.status == 400


def test_batch_archive(hs):
    created = create_many(hs, ["a1@example.com", "a2@example.com"]).results
    hs.crm.contacts.batch_api.archive(BatchInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id=c.id) for c in created]))
    assert hs.crm.contacts.basic_api.get_page().results == []
    assert len(hs.crm.contacts.basic_api.get_page(archived=True).results) == 2


def test_duplicate_unique_values_inside_one_batch_are_refused(hs):
    with pytest.raises(ApiException) as caught:
        create_many(hs, ["same@example.com", "SAME@example.com"])
    assert caught.value.status == 400
