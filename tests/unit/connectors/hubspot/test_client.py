"""Error translation and the no-silent-retry transport of the HubSpot client (no network)."""

from __future__ import annotations

import json

import pytest
import urllib3
from hubspot.crm.objects.exceptions import ApiException, NotFoundException, ServiceException
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

from connectors.hubspot import Config
from connectors.hubspot.client import NO_RETRY, HubSpotClient, error_message
from hub.errors import AuthError, ConfigError, PermanentError, RetryableError

pytestmark = pytest.mark.unit


def client(**overrides) -> HubSpotClient:
    return HubSpotClient(Config(**{"access_token": "t", **overrides}))


def api_error(status: int, body: dict | None = None, headers: dict | None = None, cls=ApiException):
    exc = cls(status=status, reason="r")
    exc.body = json.dumps(body or {"category": "X", "message": "m"})
    exc.headers = headers or {}
    return exc


@pytest.mark.parametrize("status, kind", [(429, RetryableError), (500, RetryableError), (502, RetryableError),
                                          (503, RetryableError), (400, PermanentError), (404, PermanentError),
                                          (409, PermanentError), (401, AuthError), (403, AuthError)])
def test_translation_by_status(status, kind):
    mapped = client().translate(api_error(status))
    assert isinstance(mapped, kind) and mapped.status == status
    if kind is PermanentError:
        assert not isinstance(mapped, AuthError)


def test_retry_after_is_read_from_the_headers():
    hs = client()
    mapped = hs.translate(api_error(429, {"errorType": "RATE_LIMIT", "message": "You have reached your limit."},
                                    {"Retry-After": "7"}))
    assert mapped.retry_after == 7.0 and "limit" in str(mapped)
    assert hs.guard.stats.by_status[429] == 1


def test_daily_limit_waits_long_and_pauses_every_caller():
    hs = client(daily_limit_pause_seconds=1800)
    body = {"status": "error", "errorType": "RATE_LIMIT", "policyName": "DAILY", "message": "daily limit"}
    mapped = hs.translate(api_error(429, body, {"Retry-After": "1"}))
    assert isinstance(mapped, RetryableError) and mapped.retry_after == 1800
    with pytest.raises(RetryableError) as caught:
        hs.guard.call(lambda: (_ for _ in ()).throw(api_error(429, body)), hs.translate)
    assert caught.value.retry_after == 1800
    assert hs.guard.budget.paused_until - hs.guard.budget.clock() > 1700


def test_every_generated_package_exception_is_translated():
    assert isinstance(client().translate(api_error(404, cls=PropertiesApiException)), PermanentError)
    assert isinstance(client().translate(api_error(404, cls=NotFoundException)), PermanentError)
    assert isinstance(client().translate(api_error(503, cls=ServiceException)), RetryableError)


def test_transport_failures_are_retryable_and_status_zero_too():
    hs = client()
    assert isinstance(hs.translate(urllib3.exceptions.ReadTimeoutError(None, "/x", "timed out")), RetryableError)
    assert isinstance(hs.translate(urllib3.exceptions.ProtocolError("reset")), RetryableError)
    assert isinstance(hs.translate(ApiException(status=0, reason="Failed to parse")), RetryableError)
    assert hs.translate(KeyError("x")) is None


def test_sdk_never_retries_on_its_own():
    assert NO_RETRY.total == 0 and NO_RETRY.respect_retry_after_header is False
    hs = client(base_url="http://127.0.0.1:9")
    assert hs.basic.api_client.configuration.retries is NO_RETRY
    assert hs.basic.api_client.configuration.host == "http://127.0.0.1:9"


def test_error_message_and_config_checks():
    assert error_message(b'{"category": "VALIDATION_ERROR", "message": "bad"}') == "VALIDATION_ERROR: bad"
    assert error_message("<html>") == "<html>"
    with pytest.raises(ConfigError):
        client(base_url="api.hubapi.com")
