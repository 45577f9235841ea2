"""Error translation, configuration checks and usage accounting of the Salesforce client (no network)."""

from __future__ import annotations

import json

import pytest
from simple_salesforce.exceptions import (SalesforceExpiredSession, SalesforceGeneralError,
                                          SalesforceMalformedRequest, SalesforceMoreThanOneRecord,
                                          SalesforceRefusedRequest, SalesforceResourceNotFound)

from connectors.salesforce import Config
from connectors.salesforce.client import SalesforceClient, error_message
from hub.errors import AuthError, ConfigError, PermanentError, RetryableError

pytestmark = pytest.mark.unit


def client(**overrides) -> SalesforceClient:
    return SalesforceClient(Config(**{"instance_url": "https://acme.my.salesforce.com", "session_id": "s",
                                      **overrides}))


def body(code: str, message: str = "m") -> bytes:
    return json.dumps([{"errorCode": code, "message": message}]).encode()


@pytest.mark.parametrize("exc, kind, status", [
    (SalesforceGeneralError("u", 429, "Case", body("REQUEST_LIMIT")), RetryableError, 429),
    (SalesforceGeneralError("u", 500, "Case", body("UNKNOWN_EXCEPTION")), RetryableError, 500),
    (SalesforceGeneralError("u", 503, "Case", body("SERVER_UNAVAILABLE")), RetryableError, 503),
    (SalesforceMalformedRequest("u", 400, "Case", body("INVALID_FIELD")), PermanentError, 400),
    (SalesforceResourceNotFound("u", 404, "Case", body("NOT_FOUND")), PermanentError, 404),
    (SalesforceMoreThanOneRecord("u", 300, "Case", b"[]"), PermanentError, 300),
    (SalesforceRefusedRequest("u", 403, "Case", body("INSUFFICIENT_ACCESS")), AuthError, 403),
    (SalesforceExpiredSession("u", 401, "Case", body("INVALID_SESSION_ID")), AuthError, 401),
])
def test_translation_table(exc, kind, status):
    mapped = client().translate(exc)
    assert type(mapped) is kind or (kind is AuthError and isinstance(mapped, AuthError))
    assert mapped.status == status
    assert not (isinstance(mapped, RetryableError) and kind is not RetryableError)


def test_spent_allocation_is_retryable_and_pauses_every_caller():
    sf = client(limit_pause_seconds=120)
    mapped = sf.translate(SalesforceRefusedRequest("u", 403, "Case", body("REQUEST_LIMIT_EXCEEDED",
                                                                         "TotalRequests Limit exceeded.")))
    assert isinstance(mapped, RetryableError) and mapped.retry_after == 120
    assert sf.guard.budget.paused_until - sf.guard.budget.clock() > 100


def test_concurrency_limit_pauses_briefly():
    sf = client(limit_pause_seconds=120)
    mapped = sf.translate(SalesforceRefusedRequest("u", 403, "Case", body(
        "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")))
    assert isinstance(mapped, RetryableError) and mapped.retry_after == 5.0
    assert sf.guard.budget.paused_until - sf.guard.budget.clock() <= 5.0


def test_unknown_exceptions_are_left_alone():
    assert client().translate(KeyError("x")) is None
    assert isinstance(client().translate(ValueError("not json")), RetryableError)


def test_error_message_reads_salesforce_arrays_and_oauth_bodies():
    assert error_message(body("DUPLICATE_VALUE", "dup")) == ("DUPLICATE_VALUE", "dup")
    assert error_message([{"statusCode": "X", "message": "y"}]) == ("X", "y")
    assert error_message(b'{"error": "invalid_grant", "error_description": "bad"}') == ("invalid_grant", "bad")
    assert error_message(b"<html>") == ("", "<html>")


def test_configuration_is_checked():
    with pytest.raises(ConfigError):
        client(instance_url="acme.my.salesforce.com")
    with pytest.raises(ConfigError):
        client(session_id=None)
    assert client(session_id=None, client_id="c", client_secret="s").can_refresh
    assert not client().can_refresh


def test_plain_http_instance_is_downgraded_only_for_its_own_host():
    sf = client(instance_url="http://127.0.0.1:8900")
    assert type(sf.session.get_adapter("https://127.0.0.1:8900/services/data")).__name__ == "_DowngradeAdapter"
    assert type(sf.session.get_adapter("https://example.com/")).__name__ == "TimeoutAdapter"
    real = client()
    assert type(real.session.get_adapter("https://acme.my.salesforce.com/x")).__name__ == "TimeoutAdapter"


def test_usage_at_the_allocation_pauses_the_guard():
    sf = client(limit_pause_seconds=60)

    class Usage:
        used, total = 15000, 15000

    class FakeSdk:
        api_usage = {"api-usage": Usage()}
    sf._note_usage(FakeSdk())
    assert sf.api_usage == (15000, 15000)
    assert sf.guard.budget.paused_until > sf.guard.budget.clock() + 30
    Usage.used = 10
    fresh = client()
    fresh._note_usage(FakeSdk())
    assert fresh.guard.budget.paused_until == 0.0
