"""The customer code page (/s/verify/<token>) and the admin identity API, through Flask's test client."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hub import clock
from hub.api import create_token
from hub.app import create_app
from hub.db import AuditEntry, OutboxAction

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def now():
    moment = {"t": T0}
    clock.set_clock(lambda: moment["t"])
    yield moment
    clock.set_clock(None)


@pytest.fixture
def hub(make_hub, now):
    return make_hub({"plugins": {"identity": {"max_failures": 2}}})


@pytest.fixture
def client(hub):
    app = create_app(hub=hub)
    app.testing = True
    return app.test_client()


@pytest.fixture
def auth(hub):
    return {"Authorization": "Bearer " + create_token(hub, "agent", ["admin"])}


def sent(hub) -> tuple[str, str]:
    with hub.db.session() as session:
        row = session.execute(select(OutboxAction).where(OutboxAction.operation == "send_notification")
                              .order_by(OutboxAction.id.desc())).scalars().first()
        message = json.loads(row.payload)["message"]
    code = re.search(r"code is (\d{6})", message).group(1)
    path = re.search(r"http://127\.0\.0\.1:8800(/s/verify/\S+)", message).group(1)
    return code, path


def ask(client, auth, customer="CUST-0001", action="core_banking.create_refund"):
    return client.post("/api/v1/identity/requests", json={"customer_id": customer, "action": action}, headers=auth)


def csrf(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_page_form_is_mobile_first_and_csrf_protected(hub, client, auth):
    assert ask(client, auth).status_code == 201
    code, path = sent(hub)
    page = client.get(path)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="viewport"' in body and 'autocomplete="one-time-code"' in body
    assert page.headers["Cache-Control"] == "no-store" and "frame-ancestors 'none'" in page.headers[
        "Content-Security-Policy"]
    assert client.post(path, data={"code": code, "csrf": "forged"}).status_code == 400
    answer = client.post(path, data={"code": code, "csrf": csrf(page)})
    assert answer.status_code == 200 and "identity is verified" in answer.get_data(as_text=True)
    again = client.post(path, data={"code": code, "csrf": csrf(client.get(path))})
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)


def test_wrong_code_then_lockout_on_the_page(hub, client, auth):
    ask(client, auth)
    code, path = sent(hub)
    bad = f"{(int(code) + 1) % 1_000_000:06d}"
    first = client.post(path, data={"code": bad, "csrf": csrf(client.get(path))})
    assert first.status_code == 422 and "not right" in first.get_data(as_text=True)
    second = client.post(path, data={"code": bad, "csrf": csrf(client.get(path))})
    assert second.status_code == 423
    assert ask(client, auth).status_code == 423


def test_forged_and_expired_links(hub, client, auth, now):
    ask(client, auth)
    _, path = sent(hub)
    assert client.get(path[:-3] + "abc").status_code == 404
    now["t"] = T0 + timedelta(minutes=6)
    with pytest.MonkeyPatch.context() as patch:  # itsdangerous checks age with the real clock
        patch.setattr("itsdangerous.timed.time.time", lambda: (T0 + timedelta(minutes=6)).timestamp())
        assert client.get(path).status_code == 410


def test_agent_api_checks_code_bound_to_customer_and_action(hub, client, auth):
    ask(client, auth, customer="CUST-0001")
    code, _ = sent(hub)
    wrong_customer = client.post("/api/v1/identity/verify", headers=auth, json={
        "customer_id": "CUST-0002", "action": "core_banking.create_refund", "code": code})
    assert wrong_customer.status_code == 404 and wrong_customer.get_json()["verified"] is False
    right = client.post("/api/v1/identity/verify", headers=auth, json={
        "customer_id": "CUST-0001", "action": "core_banking.create_refund", "code": code})
    assert right.status_code == 200 and right.get_json()["verified"] is True
    with hub.db.session() as session:
        actors = [r.actor for r in session.execute(select(AuditEntry).where(
            AuditEntry.action == "identity.verify")).scalars()]
    assert actors == ["token:agent", "token:agent"]


def test_api_needs_admin_token_and_valid_body(hub, client, auth):
    assert ask(client, {}).status_code == 401
    read_only = {"Authorization": "Bearer " + create_token(hub, "viewer", ["read"])}
    assert ask(client, read_only).status_code == 403
    answer = ask(client, auth, action="core_banking.send_notification")
    assert answer.status_code == 422 and "not a gated action" in answer.get_json()["message"]
    assert client.post("/api/v1/identity/verify", headers=auth, json={"customer_id": "C"}).status_code == 422
    assert "/api/v1/identity/requests" in client.get("/api/v1/openapi.json").get_json()["paths"]
