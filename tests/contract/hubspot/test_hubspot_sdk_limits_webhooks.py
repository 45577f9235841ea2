"""Rate limits, injected faults and v3-signed outgoing webhooks, seen through the SDK and a real receiver."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest
from hubspot.crm.contacts.exceptions import ApiException, ServiceException
from hubspot.crm.tickets import SimplePublicObjectInput, SimplePublicObjectInputForCreate as TicketInput
from hubspot.utils.signature import Signature
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

pytestmark = pytest.mark.contract
SECRET = "hub-client-secret"


def control(sandbox, method, path, body=None):
    answer = requests.request(method, f"{sandbox.url}/_sandbox/{path}", json=body, timeout=5)
    answer.raise_for_status()
    return answer


def test_rate_limit_answers_hubspot_429(hs, sandbox):
    control(sandbox, "POST", "limits", {"system": "hubspot", "per_minute": 2})
    first = hs.crm.contacts.basic_api.get_page_with_http_info()
    assert first[2]["X-HubSpot-RateLimit-Max"] == "2"
    assert first[2]["X-HubSpot-RateLimit-Remaining"] == "1"
    hs.crm.contacts.basic_api.get_page()
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.get_page()
    assert caught.value.status == 429
    body = json.loads(caught.value.body)
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert int(caught.value.headers["Retry-After"]) >= 1
    assert caught.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"


def test_search_has_its_own_four_per_second_limit(hs, sandbox):
    control(sandbox, "POST", "limits", {"system": "hubspot", "per_minute": 1000})
    frozen = sandbox.sandbox.now()
    sandbox.sandbox.now = lambda: frozen     # a frozen clock: all searches fall in one second
    try:
        request = PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=[
            Filter(property_name="email", operator="HAS_PROPERTY")])])
        for _ in range(4):
            hs.crm.contacts.search_api.do_search(public_object_search_request=request)
        with pytest.raises(ApiException) as caught:
            hs.crm.contacts.search_api.do_search(public_object_search_request=request)
        assert caught.value.status == 429
        assert json.loads(caught.value.body)["policyName"] == "SECONDLY"
        hs.crm.contacts.basic_api.get_page()     # other endpoints are not held back by search's limit
    finally:
        del sandbox.sandbox.now


def test_injected_503_is_a_service_exception(hs, sandbox):
    control(sandbox, "POST", "faults", {"system": "hubspot", "rate": 1, "kinds": ["503"]})
    with pytest.raises(ServiceException) as caught:
        hs.crm.contacts.basic_api.get_page()
    assert caught.value.status == 503
    assert json.loads(caught.value.body)["status"] == "error"
    control(sandbox, "DELETE", "faults")
    assert hs.crm.contacts.basic_api.get_page().results == []


class Receiver:
    """A real HTTP endpoint that records what it is sent."""

    def __init__(self):
        self.received: list[Request] = []
        self.bodies: list[bytes] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}/webhooks/hubspot"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @Request.application
    def app(self, request: Request) -> Response:
        self.bodies.append(request.get_data())
        self.received.append(request)
        return Response(status=204)

    def wait_for(self, count: int, deadline_seconds: float = 10.0) -> list[dict]:
        # Delivery runs on the sandbox's background thread; wait for it (this bounds a wait, it asserts no timing).
        end = time.monotonic() + deadline_seconds
        while len(self.bodies) < count and time.monotonic() < end:
            time.sleep(0.02)
        return [json.loads(body) for body in self.bodies]

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def test_webhooks_are_batched_and_v3_signed(hs, sandbox, receiver):
    control(sandbox, "POST", "hubspot/subscriptions", {"targetUrl": receiver.url, "clientSecret": SECRET,
                                                       "subscriptions": [{"eventType": "ticket.creation"},
                                                                         {"eventType": "ticket.propertyChange",
                                                                          "propertyName": "hs_pipeline_stage"}]})
    ticket = hs.crm.tickets.basic_api.create(TicketInput(properties={"subject": "Card lost", "hs_pipeline_stage": "1"}))
    hs.crm.tickets.basic_api.update(ticket.id, SimplePublicObjectInput(properties={"hs_pipeline_stage": "3"}))
    batches = receiver.wait_for(2)
    assert len(batches) == 2
    created, changed = batches
    assert {e["subscriptionType"] for e in created} == {"ticket.creation", "ticket.propertyChange"}
    assert [e["propertyValue"] for e in changed] == ["3"]
    event = changed[0]
    assert event["objectId"] == int(ticket.id) and event["propertyName"] == "hs_pipeline_stage"
    assert event["attemptNumber"] == 0 and event["changeSource"] and event["portalId"]
    for request, body in zip(receiver.received, receiver.bodies):
        assert Signature.is_valid(signature=request.headers["X-HubSpot-Signature-v3"], client_secret=SECRET,
                                  request_body=body.decode(), http_uri=request.url, http_method="POST",
                                  signature_version="v3", timestamp=request.headers["X-HubSpot-Request-Timestamp"])
        assert not Signature.is_valid(signature=request.headers["X-HubSpot-Signature-v3"], client_secret="wrong",
                                      request_body=body.decode(), http_uri=request.url, http_method="POST",
                                      signature_version="v3",
                                      timestamp=request.headers["X-HubSpot-Request-Timestamp"])
        assert Signature.is_valid(signature=request.headers["X-HubSpot-Signature"], client_secret=SECRET,
                                  request_body=body.decode(), signature_version="v1")


def test_deletion_and_privacy_deletion_events(hs, sandbox, receiver):
    from hubspot.crm.contacts import PublicGdprDeleteInput, SimplePublicObjectInputForCreate
    control(sandbox, "POST", "hubspot/subscriptions", {"targetUrl": receiver.url, "clientSecret": SECRET,
                                                       "subscriptions": [{"eventType": "contact.deletion"},
                                                                         {"eventType": "contact.privacyDeletion"}]})
    keep = hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={"email": "k@example.com"}))
    gone = hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={"email": "g@example.com"}))
    hs.crm.contacts.basic_api.archive(keep.id)
    hs.crm.contacts.basic_api.purge(PublicGdprDeleteInput(object_id=gone.id))
    batches = receiver.wait_for(2)
    kinds = [(e["subscriptionType"], str(e["objectId"])) for batch in batches for e in batch]
    assert ("contact.deletion", keep.id) in kinds
    assert ("contact.privacyDeletion", gone.id) in kinds


def test_subscriptions_endpoint_validates(sandbox):
    answer = requests.post(f"{sandbox.url}/_sandbox/hubspot/subscriptions",
                           json={"targetUrl": "ftp://x", "clientSecret": "s"}, timeout=5)
    assert answer.status_code == 400
    answer = requests.post(f"{sandbox.url}/_sandbox/hubspot/subscriptions",
                           json={"targetUrl": "http://127.0.0.1:9/x", "clientSecret": "s",
                                 "subscriptions": [{"eventType": "ticket.exploded"}]}, timeout=5)
    assert answer.status_code == 400
