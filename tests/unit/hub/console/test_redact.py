"""Config shown in the console masks every secret."""

import pytest

from hub.console.redact import redact_config
from hub.logs import MASK

pytestmark = pytest.mark.unit


def test_secrets_are_masked_by_key_by_url_and_by_shape():
    shown = redact_config({
        "base_url": "http://127.0.0.1:8900",
        "api_token": "sandbox-token",
        "credentials": {"email": "agent@sandbox.test", "password": "pw"},
        "dsn": "postgresql://hub:s3cret@db:5432/hub",
        "broker": "redis://:hunter22@redis:6379/0",
        "webhook_secrets": ["whsec_abc", "whsec_def"],
        "note": "sk_live_51HxYzAbCdEfGhIjKlMnOp",
        "per_minute": 700,
        "card": "4111 1111 1111 1111",
        "subdomain": "sandbox",
    })
    assert shown["base_url"] == "http://127.0.0.1:8900" and shown["per_minute"] == 700
    assert shown["subdomain"] == "sandbox"
    assert shown["api_token"] == MASK and shown["credentials"] == {"email": MASK, "password": MASK}
    assert shown["dsn"] == MASK
    assert shown["broker"] == f"redis://{MASK}@redis:6379/0"
    assert shown["webhook_secrets"] == [MASK, MASK]
    assert shown["note"] == MASK and "4111" not in shown["card"]
