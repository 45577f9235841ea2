"""A real HTTP sandbox with only the HubSpot emulator, shared by the module; state reset before each test."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from urllib3.util.retry import Retry

from hub.sandbox.server import start_in_thread


@pytest.fixture(scope="module")
def running():
    sandbox = start_in_thread(port=0, systems=("hubspot",), retry_delays=(0.05, 0.05, 0.05, 0.05))
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(running):
    running.sandbox.reset()
    running.sandbox.emulators["hubspot"].webhooks.targets.clear()
    return running


@pytest.fixture
def hs(sandbox):
    """The real SDK, with urllib3's silent retries off so every HTTP answer reaches the test."""
    return HubSpot(access_token="sandbox-token", host=sandbox.url, retry=Retry(0, read=False, raise_on_status=False))


@pytest.fixture
def emulator(sandbox):
    return sandbox.sandbox.emulators["hubspot"]
