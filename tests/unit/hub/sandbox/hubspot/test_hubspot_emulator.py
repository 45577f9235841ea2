"""The emulator's framework hooks: authentication, error bodies, rate headers, reset and seed."""

from __future__ import annotations

import json

import pytest

from hub.sandbox import create_sandbox_app

pytestmark = pytest.mark.unit


@pytest.fixture
def app():
    return create_sandbox_app(systems=("hubspot",))


@pytest.fixture
def emulator(app):
    return app.extensions["sandbox"].emulators["hubspot"]


def test_bearer_token_is_checked(app, emulator):
    with app.test_request_context(headers={"Authorization": "Bearer sandbox-token"}):
        from flask import request
        assert emulator.authenticate(request)
    for header in ("Bearer other", "Basic sandbox-token", ""):
        with app.test_request_context(headers={"Authorization": header}):
            from flask import request
            assert not emulator.authenticate(request)


def test_error_bodies(app, emulator):
    with app.app_context():
        body = json.loads(emulator.unauthorized().get_data())
        assert body["category"] == "INVALID_AUTHENTICATION" and body["status"] == "error"
        limited = emulator.rate_limited(7)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
        assert json.loads(limited.get_data())["errorType"] == "RATE_LIMIT"
        for status in (500, 502, 503, 504):
            answer = emulator.server_error(status)
            assert answer.status_code == status and json.loads(answer.get_data())["status"] == "error"


def test_rate_headers_count_the_day(emulator):
    first = emulator.rate_headers(100, 99)
    second = emulator.rate_headers(100, 98)
    assert first["X-HubSpot-RateLimit-Max"] == "100" and second["X-HubSpot-RateLimit-Remaining"] == "98"
    assert int(first["X-HubSpot-RateLimit-Daily-Remaining"]) - int(second["X-HubSpot-RateLimit-Daily-Remaining"]) == 1


def test_seed_then_reset(app, emulator):
    counts = app.extensions["sandbox"].seed()
    assert len(emulator.store.live("contacts")) == counts["customers"]
    assert len(emulator.store.live("companies")) == counts["organisations"]
    emulator.subscribe("http://127.0.0.1:9/x", "s")
    app.extensions["sandbox"].reset()
    assert emulator.store.live("contacts") == []
    assert emulator.webhooks.targets, "subscriptions are configuration and survive a reset"


def test_requests_are_counted_under_their_route_template(app):
    client = app.test_client()
    client.get("/crm/v3/objects/2-77/123", headers={"Authorization": "Bearer sandbox-token"})
    stats = app.extensions["sandbox"].stats()["hubspot"]["by_route"]
    assert stats == {"GET /crm/v3/objects/<objtype:object_type>/<object_id>": 1}
