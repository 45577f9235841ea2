"""Emulator HTTP surface through Flask's test client: any JSON body gets a Salesforce error array, never a 5xx."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hub.sandbox import create_sandbox_app

pytestmark = pytest.mark.unit
AUTH = {"Authorization": "Bearer sandbox-session", "Content-Type": "application/json"}
KEYS = ["Subject", "Status", "records", "attributes", "type", "id", "allOrNone", "compositeRequest", "url",
        "method", "referenceId", "body", "ContactId", "Risk_Score__c", "LastName", "batchRequests"]
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner,
                                                                               max_size=4), max_leaves=10)
PATHS = ["/services/data/v59.0/sobjects/Case/", "/services/data/v59.0/sobjects/Contact/Bank_Customer_Id__c/X",
         "/services/data/v59.0/composite/sobjects", "/services/data/v59.0/composite",
         "/services/data/v59.0/composite/batch", "/services/data/v59.0/composite/sobjects/Contact/Bank_Customer_Id__c"]


@pytest.fixture(scope="module")
def client():
    app = create_sandbox_app(systems=("salesforce",))
    yield app.test_client()
    app.extensions["sandbox"].close()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(PATHS), method=st.sampled_from(["POST", "PATCH", "DELETE"]), body=JSON)
def test_any_json_body_is_answered_without_a_server_error(client, path, method, body):
    response = client.open(path, method=method, data=json.dumps(body), headers=AUTH)
    assert response.status_code < 500
    if response.status_code >= 400:
        errors = response.get_json()
        assert isinstance(errors, list) and {"message", "errorCode"} <= set(errors[0])


def test_malformed_json_is_json_parser_error(client):
    response = client.post("/services/data/v59.0/sobjects/Case/", data="{not json", headers=AUTH)
    assert response.status_code == 400 and response.get_json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_versions_need_no_session(client):
    versions = client.get("/services/data/").get_json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    assert client.get("/services/data/v59.0/").status_code == 401
