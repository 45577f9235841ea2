"""Credentials, rate limits, injected faults, signed webhook deliveries and seed data."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded

pytestmark = pytest.mark.contract


def test_wrong_token_is_401_with_zendesk_body(sandbox):
    bad = Zenpy(subdomain="sandbox", email="agent@sandbox.test", token="wrong-token", disable_cache=True)
    with pytest.raises(APIException) as caught:
        bad.tickets(id=1)
    assert caught.value.response.status_code == 401
    assert json.loads(str(caught.value)) == {"error": "Couldn't authenticate you"}
    anonymous = requests.get(f"{sandbox.url}/api/v2/tickets.json", timeout=10)
    assert anonymous.status_code == 401


def test_oauth_bearer_token_is_accepted(sandbox):
    oauth = Zenpy(subdomain="sandbox", oauth_token="sandbox-token", disable_cache=True)
    assert oauth.users.me().email == "agent@sandbox.test"


def test_rate_limit_429_headers_and_zenpy_budget(sandbox, zc, api):
    limit = requests.post(f"{sandbox.url}/_sandbox/limits", json={"system": "zendesk", "per_minute": 3}, timeout=10)
    assert limit.ok
    first = api("GET", "/api/v2/users/me.json")
    assert first.headers["X-Rate-Limit"] == "3" and first.headers["X-Rate-Limit-Remaining"] == "2"
    api("GET", "/api/v2/users/me.json")
    api("GET", "/api/v2/users/me.json")
    refused = api("GET", "/api/v2/users/me.json")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1 and refused.headers["X-Rate-Limit-Remaining"] == "0"
    assert refused.json()["error"] == "APIRateLimitExceeded"
    # zenpy honours Retry-After; with no waiting budget it gives up at once instead of sleeping
    budgeted = Zenpy(subdomain="sandbox", email="agent@sandbox.test", token="sandbox-token",
                     disable_cache=True, ratelimit_budget=1)
    with pytest.raises(RatelimitBudgetExceeded):
        budgeted.users.me()


def test_incremental_exports_have_their_own_10_per_minute_limit(sandbox, api):
    requests.post(f"{sandbox.url}/_sandbox/limits", json={"system": "zendesk", "per_minute": 700}, timeout=10)
    answers = [api("GET", "/api/v2/incremental/tickets/cursor.json", params={"start_time": 0}).status_code
               for _ in range(11)]
    assert answers == [200] * 10 + [429]
    assert api("GET", "/api/v2/users/me.json").status_code == 200  # the account limit is not spent


def test_incremental_limit_is_off_without_limits(api):
    answers = {api("GET", "/api/v2/incremental/tickets/cursor.json", params={"start_time": 0}).status_code
               for _ in range(12)}
    assert answers == {200}


def test_injected_503_fault_reaches_zenpy_as_api_exception(sandbox, zc):
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"system": "zendesk", "rate": 1.0, "kinds": ["503"]},
                  timeout=10)
    with pytest.raises(APIException) as caught:
        zc.users.me()
    assert caught.value.response.status_code == 503
    assert json.loads(str(caught.value))["error"] == "ServiceUnavailable"


def register_webhook(api, url: str, *types: str) -> tuple[str, str]:
    created = api("POST", "/api/v2/webhooks", json={"webhook": {
        "name": "Deskbridge", "endpoint": url, "http_method": "POST", "request_format": "json",
        "status": "active", "subscriptions": [f"zen:event-type:{t}" for t in types]}})
    assert created.status_code == 201
    hook_id = created.json()["webhook"]["id"]
    secret = api("GET", f"/api/v2/webhooks/{hook_id}/signing_secret").json()["signing_secret"]["secret"]
    return hook_id, secret


def verify(headers: dict, body: bytes, secret: str) -> bool:
    stamp = headers["X-Zendesk-Webhook-Signature-Timestamp"]
    expected = base64.b64encode(hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, headers["X-Zendesk-Webhook-Signature"])


def test_webhook_delivery_is_signed_like_zendesk(zc, api, receiver):
    hook_id, secret = register_webhook(api, receiver.url, "ticket.created", "ticket.comment_added",
                                       "ticket.status_changed")
    ticket = zc.tickets.create(Ticket(subject="Lost card", comment=Comment(body="Please block it"),
                                      priority="urgent", tags=["cards"])).ticket
    headers, body = receiver.next()
    assert verify(headers, body, secret)
    assert not verify(headers, body, "some-other-secret")
    assert headers["X-Zendesk-Webhook-Id"] == hook_id and headers["X-Zendesk-Account-Id"]
    event = json.loads(body)
    assert event["type"] == "zen:event-type:ticket.created"
    assert event["subject"] == f"zen:ticket:{ticket.id}" and event["zendesk_event_version"]
    assert event["detail"]["id"] == str(ticket.id) and event["detail"]["status"] == "NEW"
    assert event["detail"]["priority"] == "URGENT" and event["detail"]["tags"] == ["cards"]
    assert event["time"].endswith("Z") and event["id"]
    # a write carrying the hub's origin header is still delivered (echo suppression is the hub's job)
    api("PUT", f"/api/v2/tickets/{ticket.id}.json", headers={"X-Deskbridge-Origin": "hub"},
        json={"ticket": {"status": "open", "comment": {"body": "Blocked.", "public": True}}})
    kinds = set()
    for _ in range(2):
        headers, body = receiver.next()
        assert verify(headers, body, secret)
        kinds.add(json.loads(body)["type"])
    assert kinds == {"zen:event-type:ticket.status_changed", "zen:event-type:ticket.comment_added"}


def test_webhook_registry_crud(api, receiver):
    hook_id, _ = register_webhook(api, receiver.url, "ticket.created")
    assert [h["id"] for h in api("GET", "/api/v2/webhooks").json()["webhooks"]] == [hook_id]
    assert api("GET", f"/api/v2/webhooks/{hook_id}").json()["webhook"]["status"] == "active"
    invalid = api("POST", "/api/v2/webhooks", json={"webhook": {"name": "x"}})
    assert invalid.status_code == 400 and invalid.json()["errors"][0]["code"] == "InvalidInput"
    assert api("DELETE", f"/api/v2/webhooks/{hook_id}").status_code == 204
    assert api("GET", f"/api/v2/webhooks/{hook_id}").status_code == 404


def test_seed_loads_groups_agents_customers_and_tickets(sandbox, zc):
    counts = requests.post(f"{sandbox.url}/_sandbox/seed", json={"seed": 7}, timeout=30).json()
    groups = {g.name for g in zc.groups()}
    assert {"Tier 1", "Tier 2", "Fraud", "Payments", "KYC"} <= groups
    dataset = sandbox.sandbox.dataset
    customer = dataset.customers[0]
    found = list(zc.users.search(query=f"email:{customer.email}"))
    assert len(found) == 1 and found[0].external_id == customer.id and found[0].role == "end-user"
    tickets = list(zc.tickets())
    assert len(tickets) == counts["tickets"] == len(dataset.tickets)
    by_ref = {t.customer_id: [] for t in dataset.tickets}
    for seed_ticket in dataset.tickets:
        by_ref[seed_ticket.customer_id].append(seed_ticket)
    owner = next(c for c in dataset.customers if c.id in by_ref)
    requester = list(zc.users.search(query=f"email:{owner.email}"))[0]
    theirs = [t for t in tickets if t.requester_id == requester.id]
    assert sorted(t.subject for t in theirs) == sorted(t.subject for t in by_ref[owner.id])
    assert all(any(s.category in t.tags for s in by_ref[owner.id]) for t in theirs)
    assert {t.status for t in tickets} <= {"new", "open", "pending", "solved"}
    assert all(t.assignee_id for t in tickets if t.status != "new")


def test_user_events_are_delivered(zc, api, receiver):
    _, secret = register_webhook(api, receiver.url, "user.created", "user.external_id_changed",
                                 "user.identity_changed")
    user = zc.users.create(User(name="Ann Lee", email="ann@example.com"))
    headers, body = receiver.next()
    event = json.loads(body)
    assert verify(headers, body, secret) and event["type"] == "zen:event-type:user.created"
    assert event["subject"] == f"zen:user:{user.id}" and event["detail"]["email"] == "ann@example.com"
    zc.users.create_or_update(User(email="ann@example.com", name="Ann Lee", external_id="CUST-0009"))
    event = json.loads(receiver.next()[1])
    assert event["type"] == "zen:event-type:user.external_id_changed"
    assert event["event"] == {"current": "CUST-0009", "previous": None}


def test_webhooks_through_zenpy(zc, receiver):
    from zenpy.lib.api_objects import Webhook

    hook = zc.webhooks.create(Webhook(name="hub", endpoint=receiver.url, http_method="POST",
                                      request_format="json", status="active",
                                      subscriptions=["zen:event-type:ticket.created"]))
    assert [h.id for h in zc.webhooks.list()] == [hook.id]
    secret = zc.webhooks.show_secret(hook)
    assert secret.algorithm == "sha256" and secret.secret
    zc.tickets.create(Ticket(subject="Via zenpy hook", comment=Comment(body="b")))
    headers, body = receiver.next()
    assert verify(headers, body, secret.secret)
    zc.webhooks.delete(hook)
    assert list(zc.webhooks.list()) == []
