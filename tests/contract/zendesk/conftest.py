"""A real HTTP sandbox with only the Zendesk emulator, shared by the module; state reset before each test."""

from __future__ import annotations

import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from zenpy import Zenpy

from hub.sandbox.server import start_in_thread

EMAIL = "agent@sandbox.test"
TOKEN = "sandbox-token"


@pytest.fixture(scope="module")
def running():
    sandbox = start_in_thread(port=0, systems=("zendesk",), retry_delays=(0.05, 0.05, 0.05, 0.05))
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(running, monkeypatch):
    running.sandbox.reset()
    # zenpy reads these on every call: the SDK itself is unchanged, only pointed at the emulator.
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", running.url.split("://", 1)[1])
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    return running


@pytest.fixture
def zc(sandbox):
    return Zenpy(subdomain="sandbox", email=EMAIL, token=TOKEN, disable_cache=True)


@pytest.fixture
def api(sandbox):
    """Plain HTTP with the sandbox credentials, for calls zenpy has no method for."""
    session = requests.Session()
    session.trust_env = False
    session.auth = (f"{EMAIL}/token", TOKEN)

    def call(method: str, path: str, **kwargs):
        url = path if path.startswith("http") else sandbox.url + path
        return session.request(method, url, timeout=10, **kwargs)

    return call


class Receiver:
    """A tiny HTTP endpoint that records every POST (raw body and headers)."""

    def __init__(self):
        self.received: queue.Queue = queue.Queue()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.received.put((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def next(self, timeout: float = 10.0):
        return self.received.get(timeout=timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.close()

