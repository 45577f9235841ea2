"""A hub with every web surface on (demo config plus the plugins that add pages and API routes), an admin API
token, a console user, captured JSON logs, and scanners for card numbers and secrets."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

from stdnum import luhn

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "config" / "demo"
BANKING_SECRET = "whsec_c2VjdXJpdHktc3VpdGUtYmFua2luZy1zZWNyZXQtMzJi"  # security-suite-banking-secret-32b
STRIPE_SECRET = "whsec_security_suite_stripe_secret"
ZENDESK_SECRET = "security-suite-zendesk-secret"
CONSOLE_PASSWORD = "security suite password"
# Plugins that add routes beyond the demo's own set, so every surface is exercised.
EXTRA_PLUGINS = {"documents": {}, "identity": {}, "privacy": {}, "sync": {}}
# Luhn-valid test PANs (network test numbers), as a user might paste them.
PANS = ["4111111111111111", "5555 5555 5555 4444", "3782-822463-10005", "6011.1111.1111.1117"]
# How card numbers are written: 13–19 digits in a row, 4-4-4-(1..7) groups or Amex 4-6-5, one separator kind.
# Bounded by non-alphanumerics, so digit runs inside hex digests and correlation ids are not taken for cards, and
# strict about grouping, so SQLite's back-to-back column bytes (timestamps, counters) don't read as one number.
_CANDIDATE = re.compile(rb"(?<![0-9A-Za-z])(?:\d{13,19}|\d{4}([ .\-])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ .\-])\d{6}\2\d{4,5})"
                        rb"(?![0-9A-Za-z])")


def known_pans(data: bytes | str) -> list[str]:
    """Which of ``PANS`` appear, as typed or as bare digits."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    return [pan for pan in PANS if pan.encode() in raw or re.sub(r"\D", "", pan).encode() in raw]


def find_pans(data: bytes | str) -> list[str]:
    """Luhn-valid card numbers written the ways people and systems write them."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    found = []
    for match in _CANDIDATE.finditer(raw):
        digits = re.sub(rb"\D", b"", match.group(0)).decode()
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            found.append(digits)
    return found


def build_settings(data_dir: Path, overrides: dict | None = None):
    from hub.settings import load_settings
    merged = {"plugins": dict(EXTRA_PLUGINS), "log_json": True,
              "webhooks": {"stripe_secrets": [STRIPE_SECRET], "zendesk_secrets": [ZENDESK_SECRET]},
              "scheduler": {"enabled": False}}
    for key, value in (overrides or {}).items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    env = {"DESKBRIDGE_DATA_DIR": str(data_dir), "DESKBRIDGE_BANKING_WEBHOOK_SECRET": BANKING_SECRET}
    return load_settings(DEMO_CONFIG, env=env, overrides=merged)


class Surface:
    """The running app and what a test needs to drive it."""

    def __init__(self, hub, app, token: str):
        self.hub = hub
        self.app = app
        self.token = token

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def console_client(self):
        client = self.app.test_client()
        page = client.get("/admin/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post("/admin/login", data={"username": "admin", "password": CONSOLE_PASSWORD,
                                                     "csrf_token": csrf})
        assert response.status_code == 302, "console sign-in failed"
        return client


@pytest.fixture(scope="module")
def surface(tmp_path_factory):
    from hub.api import create_token
    from hub.app import create_app
    from hub.console.users import ensure_user
    from hub.runtime import Hub
    hub = Hub(build_settings(tmp_path_factory.mktemp("security") / "data"))
    app = create_app(hub=hub)
    token = create_token(hub, "security-suite", ["admin"])
    ensure_user(hub, "admin", CONSOLE_PASSWORD)
    yield Surface(hub, app, token)
    hub.stop()


@pytest.fixture
def log_stream():
    """JSON log lines of everything the hub logs during the test (the production formatter and filter)."""
    from hub.logs import setup_logging
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    setup_logging("DEBUG", json_lines=True, stream=stream)
    yield stream
    for handler in list(root.handlers):
        if getattr(handler, "_deskbridge", False):
            root.removeHandler(handler)
    root.setLevel(level)
