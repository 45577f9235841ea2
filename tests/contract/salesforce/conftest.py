"""A real HTTP sandbox with only the Salesforce emulator, shared by the module; state reset before each test."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce

from hub.sandbox.salesforce.testing import http_session_for
from hub.sandbox.server import start_in_thread


@pytest.fixture(scope="module")
def running():
    sandbox = start_in_thread(port=0, systems=("salesforce",), retry_delays=(0.05, 0.05, 0.05, 0.05))
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(running):
    running.sandbox.reset()
    return running


@pytest.fixture
def sf(sandbox):
    """The real SDK, unchanged, talking to the sandbox through the https->http session."""
    return Salesforce(instance_url=sandbox.url, session_id="sandbox-session", session=http_session_for(sandbox.url),
                      version="59.0")


@pytest.fixture
def control(sandbox):
    """POST/GET/DELETE on the sandbox's own control endpoints."""
    session = requests.Session()
    session.trust_env = False

    def call(method: str, path: str, json=None):
        response = session.request(method, sandbox.url + path, json=json, timeout=10)
        return response
    return call


@pytest.fixture
def insert_cases(sf):
    """``insert_cases(count, **fields)``: Cases created through sObject Collections, 200 a call; ids in order."""
    def insert(count: int, **fields) -> list[str]:
        created: list[str] = []
        for start in range(0, count, 200):
            records = [{"attributes": {"type": "Case"}, "Subject": f"Case {n}", **fields}
                       for n in range(start, min(count, start + 200))]
            results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
            assert all(r["success"] for r in results)
            created += [r["id"] for r in results]
        return created
    return insert
