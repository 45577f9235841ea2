"""Error translation and per-instance addressing of the zenpy client (no network)."""

from __future__ import annotations

import json
import os

import pytest
import requests
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, RecordNotFoundException

from connectors.zendesk import Config
from connectors.zendesk.client import ZendeskClient
from hub.errors import AuthError, PermanentError, RetryableError

pytestmark = pytest.mark.unit


def client(**overrides) -> ZendeskClient:
    return ZendeskClient(Config(**{"subdomain": "acme", "email": "a@acme.test", "token": "t", **overrides}))


def api_error(status: int, body: dict, headers: dict | None = None, cls=APIException) -> APIException:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    return cls(json.dumps(body), response=response)


def test_sandbox_base_url_is_set_per_instance_without_env(monkeypatch):
    monkeypatch.delenv("ZENPY_FORCE_NETLOC", raising=False)
    monkeypatch.delenv("ZENPY_FORCE_SCHEME", raising=False)
    zd = client(base_url="http://127.0.0.1:8900")
    assert zd.zenpy.tickets.base_url == "127.0.0.1:8900" and zd.zenpy.tickets.protocol == "http"
    assert zd.zenpy.users.protocol == "http"
    assert "ZENPY_FORCE_NETLOC" not in os.environ
    real = client()
    assert real.zenpy.tickets.base_url == "acme.zendesk.com" and real.zenpy.tickets.protocol == "https"


def test_session_carries_token_auth_and_timeouts():
    zd = client()
    assert zd.session.auth == ("a@acme.test/token", "t")
    assert zd.session.get_adapter("https://acme.zendesk.com").timeout == (5.0, 30.0)


@pytest.mark.parametrize("status,kind", [(400, PermanentError), (401, AuthError), (403, AuthError),
                                         (404, PermanentError), (422, PermanentError), (429, RetryableError),
                                         (500, RetryableError), (503, RetryableError)])
def test_status_table(status, kind):
    error = client().translate(api_error(status, {"error": "X", "description": "why"}, {"Retry-After": "3"}))
    assert type(error) is kind and error.status == status and "why" in str(error)
    if kind is RetryableError:
        assert error.retry_after == 3


def test_record_invalid_names_the_first_detail():
    body = {"error": "RecordInvalid", "description": "Record validation errors",
            "details": {"status": [{"description": "Status: closed prevents ticket update"}]}}
    error = client().translate(api_error(422, body))
    assert "closed prevents ticket update" in str(error)


def test_not_found_and_rate_budget():
    zd = client()
    missing = zd.translate(api_error(404, {"error": "RecordNotFound"}, cls=RecordNotFoundException))
    assert isinstance(missing, PermanentError) and missing.status == 404
    zd.guard.budget.pause(12)
    limited = zd.translate(RatelimitBudgetExceeded("spent"))
    assert isinstance(limited, RetryableError) and limited.status == 429 and 10 < limited.retry_after <= 12
    assert zd.translate(KeyError("x")) is None


def test_call_retries_a_429_after_the_pause_then_gives_up():
    zd = client()
    fake = {"now": 0.0}
    zd.guard.budget.clock = lambda: fake["now"]
    zd.guard.budget.sleep = lambda seconds: fake.__setitem__("now", fake["now"] + seconds)
    zd.guard.budget.updated = 0.0
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise api_error(429, {"error": "APIRateLimitExceeded"}, {"Retry-After": "1"})
        return "ok"

    assert zd.call(flaky) == "ok" and len(attempts) == 3
    assert fake["now"] >= 2.0  # each 429 paused the shared budget for its Retry-After

    def always():
        raise api_error(429, {"error": "APIRateLimitExceeded"}, {"Retry-After": "1"})

    zd.guard.breaker.close()
    with pytest.raises(RetryableError):
        zd.call(always)


def test_server_error_is_not_retried_inline():
    zd = client()
    calls = []

    def broken():
        calls.append(1)
        raise api_error(500, {"error": "InternalServerError"})

    with pytest.raises(RetryableError):
        zd.call(broken)
    assert len(calls) == 1


def test_links_off_the_account_host_are_never_followed():
    zd = client(base_url="http://127.0.0.1:1")
    with pytest.raises(PermanentError, match="refusing to follow"):
        zd.get_json("http://evil.example/api/v2/tickets.json")
    assert zd.guard.stats.calls == 0


def test_zenpy_never_logs_request_bodies_at_debug():
    import logging
    client()
    assert not logging.getLogger("zenpy.lib.api").isEnabledFor(logging.DEBUG)
