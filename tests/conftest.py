"""Shared fixtures: a hub on a temporary data dir with the test config overlay, and a sandbox on a free port."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from hub.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
TEST_CONFIG = REPO / "config" / "test"
BANKING_SECRET = "whsec_" + base64.b64encode(b"deskbridge-test-banking-secret-32b").decode()


@pytest.fixture
def make_settings(tmp_path):
    """Build settings from config/test plus overrides, isolated from the caller's environment."""
    def factory(overrides: dict | None = None, env: dict | None = None, config_dir: Path = TEST_CONFIG):
        base_env = {"DESKBRIDGE_DATA_DIR": str(tmp_path / "data"), "DESKBRIDGE_BANKING_WEBHOOK_SECRET": BANKING_SECRET}
        base_env.update(env or {})
        return load_settings(config_dir, env=base_env, overrides=overrides)
    return factory


@pytest.fixture
def make_hub(make_settings):
    """Build a Hub (migrated) with optional extra plugins; stopped at teardown."""
    from hub.runtime import Hub
    hubs = []

    def factory(overrides: dict | None = None, plugins: list | tuple = (), env: dict | None = None):
        hub = Hub(make_settings(overrides, env), extra_plugins=plugins)
        hubs.append(hub)
        return hub
    yield factory
    for hub in hubs:
        hub.stop()


@pytest.fixture
def hub(make_hub):
    return make_hub()


@pytest.fixture
def app(hub):
    from hub.app import create_app
    application = create_app(hub=hub)
    application.testing = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()
