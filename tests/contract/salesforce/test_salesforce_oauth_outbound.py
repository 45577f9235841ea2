"""OAuth token grants, outbound messages to a listener, and the seeded demo org."""

from __future__ import annotations

import base64
import hashlib
import hmac
import queue
import threading
import xml.etree.ElementTree as ET

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from hub.sandbox.salesforce import ORG_ID
from hub.sandbox.salesforce.outbound import ACK, NAMESPACE

pytestmark = pytest.mark.contract
SF = "urn:sobject.enterprise.soap.sforce.com"


def test_client_credentials_token(control, sandbox):
    response = control("POST", "/services/oauth2/token", None)
    assert response.status_code == 400  # no grant at all
    form = {"grant_type": "client_credentials", "client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    answer = __import__("requests").post(sandbox.url + "/services/oauth2/token", data=form, timeout=10).json()
    assert answer["access_token"] == "sandbox-session" and answer["token_type"] == "Bearer"
    assert answer["instance_url"] == sandbox.url
    expected = base64.b64encode(hmac.new(b"sandbox-secret", (answer["id"] + answer["issued_at"]).encode(),
                                         hashlib.sha256).digest()).decode()
    assert answer["signature"] == expected


@pytest.mark.parametrize("form, error", [
    ({"grant_type": "client_credentials", "client_id": "sandbox-client", "client_secret": "wrong"}, "invalid_client"),
    ({"grant_type": "password", "client_id": "sandbox-client", "client_secret": "sandbox-secret",
      "username": "agent@sandbox.test", "password": "nope"}, "invalid_grant"),
    ({"grant_type": "refresh_token", "client_id": "sandbox-client", "refresh_token": "stale"}, "invalid_grant"),
    ({"grant_type": "authorization_code", "client_id": "sandbox-client"}, "unsupported_grant_type"),
])
def test_token_errors(sandbox, form, error):
    response = __import__("requests").post(sandbox.url + "/services/oauth2/token", data=form, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == error
    assert response.json()["error_description"]


def test_password_then_refresh_grant(sandbox):
    post = __import__("requests").post
    first = post(sandbox.url + "/services/oauth2/token", timeout=10, data={
        "grant_type": "password", "client_id": "sandbox-client", "client_secret": "sandbox-secret",
        "username": "agent@sandbox.test", "password": "sandbox-password"}).json()
    refreshed = post(sandbox.url + "/services/oauth2/token", timeout=10, data={
        "grant_type": "refresh_token", "client_id": "sandbox-client", "refresh_token": first["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] == "sandbox-session"


@pytest.fixture
def listener():
    """A local SOAP listener that records each outbound message and answers with an Ack."""
    received: queue.Queue = queue.Queue()

    @Request.application
    def app(request: Request) -> Response:
        received.put((request.headers.get("Content-Type"), request.get_data()))
        return Response(ACK, content_type="text/xml; charset=utf-8")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}/webhooks/salesforce", received
    server.shutdown()
    thread.join(timeout=5)


def test_outbound_message_on_case_create_and_update(sf, control, listener):
    url, received = listener
    registered = control("POST", "/_sandbox/salesforce/outbound",
                         {"url": url, "fields": ["CaseNumber", "Subject", "Status", "Category__c"]})
    assert registered.status_code == 201 and registered.json()["id"].startswith("04k")
    case_id = sf.Case.create({"Subject": "Card stolen <urgent>", "Category__c": "cards"})["id"]
    content_type, body = received.get(timeout=10)
    assert content_type.startswith("text/xml")
    root = ET.fromstring(body)
    notifications = root.find(f".//{{{NAMESPACE}}}notifications")
    assert notifications.find(f"{{{NAMESPACE}}}OrganizationId").text == ORG_ID
    assert notifications.find(f"{{{NAMESPACE}}}ActionId").text == registered.json()["id"]
    note = notifications.find(f"{{{NAMESPACE}}}Notification")
    assert note.find(f"{{{NAMESPACE}}}Id").text.startswith("04l")
    sobject = note.find(f"{{{NAMESPACE}}}sObject")
    assert sobject.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "sf:Case"
    assert sobject.find(f"{{{SF}}}Id").text == case_id
    assert sobject.find(f"{{{SF}}}Subject").text == "Card stolen <urgent>"
    sf.Case.update(case_id, {"Status": "Closed"})
    _, second = received.get(timeout=10)
    assert ET.fromstring(second).find(f".//{{{SF}}}Status").text == "Closed"
    deliveries = control("GET", "/_sandbox/webhooks").json()["webhooks"]
    assert [d["event_type"] for d in deliveries] == ["salesforce.outbound_message"] * 2


def test_outbound_registration_is_validated(control):
    assert control("POST", "/_sandbox/salesforce/outbound", {"url": "ftp://x"}).status_code == 400
    assert control("POST", "/_sandbox/salesforce/outbound",
                   {"url": "http://x", "fields": ["Nope"]}).status_code == 400
    assert control("GET", "/_sandbox/salesforce/outbound").json() == {"listeners": []}


def test_seed_creates_accounts_contacts_and_cases(sf, control):
    counts = control("POST", "/_sandbox/seed", {}).json()
    contacts = sf.query_all("SELECT Id, Bank_Customer_Id__c, Account.Name, KYC_Status__c FROM Contact")["records"]
    assert len(contacts) == counts["customers"]
    assert all(c["Bank_Customer_Id__c"].startswith("CUST-") for c in contacts)
    assert any(c["Account"] is not None for c in contacts)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == counts["organisations"]
    cases = sf.query_all("SELECT Id, ContactId, Status, CreatedDate FROM Case")["records"]
    assert 0 < len(cases) < counts["tickets"] and all(c["ContactId"] for c in cases)
