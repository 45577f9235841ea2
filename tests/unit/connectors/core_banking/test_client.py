"""Bank client pieces without network: idempotency header, error parsing and translation."""

from __future__ import annotations

import json

import pytest
import requests

from connectors.core_banking import Config
from connectors.core_banking.client import BankApiError, BankClient, idempotency_header
from hub.errors import AuthError, ConfigError, PermanentError, RetryableError

pytestmark = pytest.mark.unit


def response(status: int, body, headers=None) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = json.dumps(body).encode() if not isinstance(body, bytes) else body
    answer.headers.update(headers or {})
    answer.reason = "Reason"
    return answer


def test_idempotency_header_keeps_short_keys_and_hashes_long_ones():
    assert idempotency_header("fraud:ALERT-1:freeze") == "fraud:ALERT-1:freeze"
    long = "k" * 300
    assert len(idempotency_header(long)) == 64 and idempotency_header(long) == idempotency_header(long)


@pytest.mark.parametrize("status,kind", [(401, AuthError), (404, PermanentError), (409, PermanentError),
                                         (422, PermanentError), (429, RetryableError), (500, RetryableError),
                                         (503, RetryableError)])
def test_translate_uses_the_shared_table(status, kind):
    exc = BankApiError(response(status, {"error": {"code": "card_not_found", "message": "no card"}},
                                {"Retry-After": "4"}))
    error = BankClient.translate(exc)
    assert type(error) is kind and "card_not_found: no card" in str(error)
    if kind is RetryableError:
        assert error.retry_after == 4


def test_non_json_error_body_still_reads():
    exc = BankApiError(response(502, b"<html>bad gateway</html>"))
    assert "Reason" in str(exc) and isinstance(BankClient.translate(exc), RetryableError)


def test_post_without_a_key_is_refused_before_sending():
    client = BankClient(Config(base_url="http://127.0.0.1:1/bank/v1", api_key="k"))
    with pytest.raises(PermanentError, match="idempotency key"):
        client.request("POST", "refunds", json={})
    assert client.guard.stats.calls == 0


def test_bad_base_url_is_a_config_error_and_the_key_is_sent_as_bearer():
    with pytest.raises(ConfigError):
        BankClient(Config(base_url="ftp://bank", api_key="k"))
    client = BankClient(Config(base_url="https://bank.example/bank/v1", api_key="secret"))
    assert client.session.headers["Authorization"] == "Bearer secret"
    assert "secret" not in repr(Config(base_url="https://bank.example", api_key="secret"))
