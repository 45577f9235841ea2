"""Serve the sandbox over HTTP: ``serve`` for the CLI, ``start_in_thread`` for tests and the demo."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

import flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from hub.sandbox import create_sandbox_app
from hub.sandbox.core import Sandbox

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without one log line per request (benchmarks make thousands)."""

    def log_request(self, code="-", size="-") -> None:
        if log.isEnabledFor(logging.DEBUG):
            super().log_request(code, size)


@dataclass
class RunningSandbox:
    url: str
    app: flask.Flask
    sandbox: Sandbox
    stop: Callable[[], None]


def _server(host: str, port: int, app: flask.Flask) -> BaseWSGIServer:
    # Threaded werkzeug server: one thread per connection, HTTP/1.1 keep-alive, and it exposes the client
    # socket so the "reset" fault can drop a connection.
    return make_server(host, port, app, threaded=True, request_handler=_QuietHandler)


def start_in_thread(port: int = 0, host: str = "127.0.0.1", webhook_target: str | None = None,
                    **app_options) -> RunningSandbox:
    """Start a real HTTP sandbox on ``host:port`` (0 = a free port) in a daemon thread."""
    app = create_sandbox_app(webhook_target=webhook_target, **app_options)
    server = _server(host, port, app)
    # A short poll interval makes stop() return quickly; an idle server wakes 20 times a second.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"sandbox-{server.port}", daemon=True)
    thread.start()
    sandbox = app.extensions["sandbox"]
    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        sandbox.close()

    return RunningSandbox(url=f"http://{host}:{server.port}", app=app, sandbox=sandbox, stop=stop)


def serve(host: str = "127.0.0.1", port: int = 8900, webhook_target: str | None = None) -> None:
    """Serve the sandbox until Ctrl-C (blocking)."""
    app = create_sandbox_app(webhook_target=webhook_target)
    server = _server(host, port, app)
    log.info("sandbox listening on http://%s:%s (systems: %s)", host, server.port,
             ", ".join(app.extensions["sandbox"].emulators))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.extensions["sandbox"].close()
