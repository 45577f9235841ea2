"""A console app with the analytics plugin, a known admin user and a controlled clock."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from hub import clock

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery"


@pytest.fixture
def now():
    moment = [T0]
    clock.set_clock(lambda: moment[0])
    yield moment
    clock.set_clock(None)


@pytest.fixture
def console_hub(make_hub, now):
    from hub.console.users import ensure_user
    hub = make_hub({"plugins": {"analytics": {}}})
    ensure_user(hub, "admin", PASSWORD)
    return hub


@pytest.fixture
def console_app(console_hub):
    from hub.app import create_app
    app = create_app(hub=console_hub)
    app.testing = True
    return app


@pytest.fixture
def web(console_app):
    return console_app.test_client()


def form_token(response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert found, "page has no CSRF token"
    return found.group(1)


def sign_in(client, username="admin", password=PASSWORD):
    token = form_token(client.get("/admin/login"))
    return client.post("/admin/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def signed_in(web):
    response = sign_in(web)
    assert response.status_code == 302
    return web
