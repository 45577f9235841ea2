"""S15: an unexpected failure anywhere answers a generic JSON 500 with a correlation id — no traceback, no SQL,
no secret or card number — and unknown routes / wrong methods answer JSON 404 / 405."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy.exc
from sqlalchemy.orm import Session

from tests.security.conftest import BANKING_SECRET, PANS, find_pans, known_pans

pytestmark = pytest.mark.unit
SECRET_WORD = "hunter2-very-secret"
LEAK_MARKERS = ("Traceback", 'File "', "SELECT", "api_tokens", "token_hash", "OperationalError", "sqlalchemy",
                SECRET_WORD, BANKING_SECRET[6:], "password=")
ARGUMENTS = {"token": "abc123", "key": "zendesk/1", "filename": "deskbridge.css"}


def poisoned_error() -> Exception:
    """What a database failure really looks like: SQL text, bound parameters and a driver message."""
    return sqlalchemy.exc.OperationalError(
        "SELECT token_hash FROM api_tokens WHERE token_hash = ?",
        {"token": f"dbt_{SECRET_WORD}", "card": PANS[0]},
        Exception(f"database is locked; password={SECRET_WORD} card {PANS[1]}"))


def every_route(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: ARGUMENTS[m.group(1)], rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def call(client, method: str, path: str, headers: dict | None = None):
    kwargs = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
    return client.open(path, method=method, headers=headers or {}, **kwargs)


def leaks(response) -> list[str]:
    text = response.get_data(as_text=True)
    found = [marker for marker in LEAK_MARKERS if marker in text]
    return found + [f"PAN {pan[-4:]}" for pan in known_pans(text)]


def check_generic_500(response) -> list[str]:
    problems = []
    if response.status_code != 500:
        problems.append(f"status {response.status_code}")
    if response.mimetype != "application/json":
        return problems + [f"content type {response.mimetype}"]
    body = response.get_json()
    if body.get("error") != "internal_error" or body.get("status") != 500:
        problems.append(f"body {body}")
    cid = body.get("correlation_id") or ""
    if not re.fullmatch(r"[0-9a-f]{32}", cid) or response.headers.get("X-Request-ID") != cid:
        problems.append(f"correlation id {cid!r} vs header {response.headers.get('X-Request-ID')!r}")
    return problems + leaks(response)


def test_an_exception_in_every_route_is_a_generic_json_500(surface, monkeypatch, log_stream):
    routes = list(every_route(surface.app))
    assert len(routes) >= 40  # webhooks, API, console, customer pages, health: the whole surface

    def explode(*args, **kwargs):
        raise poisoned_error()

    for endpoint in {endpoint for endpoint, _, _ in routes}:
        monkeypatch.setitem(surface.app.view_functions, endpoint, explode)
    client = surface.app.test_client()
    failures = {}
    correlation_ids = []
    for endpoint, method, path in routes:
        response = call(client, method, path, surface.auth)
        problems = check_generic_500(response)
        if problems:
            failures[f"{method} {path}"] = problems
        elif response.status_code == 500:
            correlation_ids.append(response.get_json()["correlation_id"])
    assert failures == {}
    assert len(set(correlation_ids)) == len(routes)  # one id per request
    logged = log_stream.getvalue()
    # operators can find each failure by its id, and the log holds no more than the response does
    lines = [json.loads(line) for line in logged.splitlines()]
    errors = [line for line in lines if line["message"].startswith("unhandled error")]
    assert {cid for cid in correlation_ids if any(cid in e["message"] for e in errors)} == set(correlation_ids)
    assert [m for m in LEAK_MARKERS[:4] + (SECRET_WORD, "password=") if m in logged] == []
    assert find_pans(logged) == []


def test_a_failing_database_behind_authenticated_routes_leaks_nothing(surface, monkeypatch):
    """The dependency fails, not the view: auth still works, then the route's own query raises."""
    real_execute = Session.execute

    def failing_execute(self, statement, *args, **kwargs):
        text = str(statement)
        if "api_tokens" in text or "console_" in text or "audit_log" in text:
            return real_execute(self, statement, *args, **kwargs)
        raise poisoned_error()

    console = surface.console_client()
    api = surface.app.test_client()
    monkeypatch.setattr(Session, "execute", failing_execute)
    failures, failed_routes = {}, []
    for _, method, path in every_route(surface.app):
        if path.startswith("/admin"):
            if path in ("/admin/login", "/admin/logout"):
                continue  # signing in or out is not what this test breaks
            response = call(console, method, path)
        else:
            response = call(api, method, path, surface.auth)
        if response.status_code >= 500:
            problems = leaks(response) if response.status_code == 503 else check_generic_500(response)
            failed_routes.append(path)
        else:
            problems = leaks(response)
        if problems:
            failures[f"{method} {path} -> {response.status_code}"] = problems
    assert failures == {}
    assert len(failed_routes) >= 15  # the failure really reached the routes' own queries


@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/admin/nope/deeper", "/webhooks/nope", "/s/nope"])
def test_unknown_routes_are_json_404(surface, path):
    response = surface.app.test_client().get(path, headers=surface.auth)
    assert response.status_code == 404 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == "not_found" and body["status"] == 404
    assert body["correlation_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("method, path", [("GET", "/webhooks/banking"), ("DELETE", "/api/v1/status"),
                                          ("PUT", "/healthz"), ("POST", "/api/v1/plugins"),
                                          ("GET", "/api/v1/dead-letters/replay")])
def test_wrong_method_is_json_405(surface, method, path):
    response = surface.app.test_client().open(path, method=method, headers=surface.auth)
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert response.get_json()["error"] == "method_not_allowed"
    assert response.headers.get("Allow")


def test_an_incoming_request_id_is_kept_but_a_forged_one_is_replaced(surface, monkeypatch):
    monkeypatch.setitem(surface.app.view_functions, "healthz", lambda: 1 / 0)
    client = surface.app.test_client()
    kept = client.get("/healthz", headers={"X-Request-ID": "abc123DEF"})
    assert kept.status_code == 500 and kept.get_json()["correlation_id"] == "abc123DEF"
    for forged_id in ('x"}, {"level": "error', "\x1b[31mred", "a" * 65):
        forged = client.get("/healthz", headers={"X-Request-ID": forged_id})
        assert re.fullmatch(r"[0-9a-f]{32}", forged.get_json()["correlation_id"])
        assert "ZeroDivisionError" not in forged.get_data(as_text=True)
