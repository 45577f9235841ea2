"""``POST /services/oauth2/token``: client-credentials, password and refresh-token grants."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from hub.sandbox.salesforce import ids

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
USERNAME = "agent@sandbox.test"
PASSWORD = "sandbox-password"
ACCESS_TOKEN = "sandbox-session"
REFRESH_TOKEN = "sandbox-refresh"
ORG_ID = ids.to18("00Dsandbox00001")
USER_ID = ids.make_id("005", 1)


def token(form: Mapping[str, str], instance_url: str, now: datetime) -> tuple[int, dict]:
    """``(status, body)`` of the token endpoint, errors shaped like Salesforce's OAuth errors."""
    grant = form.get("grant_type")
    if grant not in ("client_credentials", "password", "refresh_token"):
        return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
    if form.get("client_id") != CLIENT_ID or (grant != "refresh_token" and form.get("client_secret") != CLIENT_SECRET):
        return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
    if grant == "password" and (form.get("username") != USERNAME or form.get("password") != PASSWORD):
        return 400, {"error": "invalid_grant", "error_description": "authentication failure"}
    if grant == "refresh_token" and form.get("refresh_token") != REFRESH_TOKEN:
        return 400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    identity = f"https://login.salesforce.com/id/{ORG_ID}/{USER_ID}"
    issued_at = str(int(now.timestamp() * 1000))
    # Salesforce signs id + issued_at with the consumer secret so clients can check the response's origin.
    signature = base64.b64encode(hmac.new(CLIENT_SECRET.encode(), (identity + issued_at).encode(),
                                          hashlib.sha256).digest()).decode()
    body = {"access_token": ACCESS_TOKEN, "instance_url": instance_url.rstrip("/"), "id": identity,
            "token_type": "Bearer", "issued_at": issued_at, "signature": signature, "scope": "api refresh_token"}
    if grant == "password":
        body["refresh_token"] = REFRESH_TOKEN
    return 200, body
