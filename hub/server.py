"""Serving the hub: one process (embedded default) or split roles for scale-out."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from dataclasses import dataclass

import click
from waitress.server import create_server

log = logging.getLogger(__name__)


def wait_for_signal(stop: threading.Event) -> None:
    """Block until Ctrl-C or SIGTERM (only the main thread can install handlers)."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)


@dataclass
class RunningHub:
    url: str
    app: object
    hub: object
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        # waitress's loop runs until its socket map is empty: close the listener and every open channel.
        self.server.close()
        for channel in list(self.server._map.values()):
            try:
                channel.close()
            except OSError:
                pass
        self.server.task_dispatcher.shutdown(timeout=5)
        self.thread.join(5)
        self.hub.stop()


def _run_until_closed(server) -> None:
    """waitress's loop; closing its sockets from ``RunningHub.stop`` may break a select() in flight."""
    try:
        server.run()
    except (OSError, ValueError):
        if server.accepting:  # not a shutdown we asked for
            raise


def start_hub_in_thread(hub, host: str = "127.0.0.1", port: int = 0, workers: bool = True,
                        scheduler: bool = True, threads: int = 8) -> RunningHub:
    """Serve the hub from a background thread (tests, demo, benchmarks)."""
    from hub.app import create_app
    app = create_app(hub=hub)
    hub.startup()
    hub.start_background(workers=workers, scheduler=scheduler)
    server = create_server(app, host=host, port=port, threads=threads, ident="deskbridge",
                           clear_untrusted_proxy_headers=True, channel_timeout=30)
    thread = threading.Thread(target=_run_until_closed, args=(server,), name="deskbridge-web", daemon=True)
    thread.start()
    real_port = server.effective_port
    return RunningHub(f"http://{host}:{real_port}", app, hub, server, thread)


def serve_hub(hub, host: str, port: int, workers: bool = True, scheduler: bool = True,
              banner: list[str] | None = None) -> None:
    running = start_hub_in_thread(hub, host, port, workers, scheduler)
    click.echo(f"Deskbridge hub     {running.url}", err=True)
    click.echo(f"  console          {running.url}/admin/", err=True)
    click.echo(f"  API (OpenAPI)    {running.url}/api/v1/openapi.json", err=True)
    for line in banner or []:
        click.echo(line, err=True)
    click.echo("Press Ctrl-C to stop.", err=True)
    stop = threading.Event()
    try:
        wait_for_signal(stop)
    finally:
        click.echo("stopping…", err=True)
        running.stop()


def serve_web(settings, host: str, port: int, processes: int) -> None:
    """Web role behind gunicorn; wake-ups go to workers through the broker.

    The app is loaded once in the gunicorn master (migrations run once), then each forked process gets fresh
    database connections.
    """
    from gunicorn.app.base import BaseApplication

    from hub.app import create_app
    from hub.broker import install_publisher
    from hub.runtime import Hub
    hub = Hub(settings)
    app = create_app(hub=hub)

    def post_fork(_server, _worker):
        hub.db.engine.dispose(close=False)
        install_publisher(settings)

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", max(1, processes))
            self.cfg.set("threads", 4)
            self.cfg.set("preload_app", True)
            self.cfg.set("post_fork", post_fork)
            self.cfg.set("accesslog", None)
            self.cfg.set("graceful_timeout", 10)

        def load(self):
            return app
    click.echo(f"Deskbridge web role on http://{host}:{port} ({processes} process(es))", err=True)
    _App().run()


def serve_worker(hub) -> None:
    from hub.broker import run_consumer
    hub.start_background(workers=True, scheduler=False)
    click.echo(f"Deskbridge worker {hub.instance_id} running"
               + (" (broker wake-ups on)" if hub.settings.broker.url else " (polling only)"), err=True)
    try:
        if not run_consumer(hub.settings):
            wait_for_signal(threading.Event())
    finally:
        hub.stop()


def serve_scheduler(hub) -> None:
    from hub.broker import install_publisher
    install_publisher(hub.settings)
    hub.start_background(workers=False, scheduler=True)
    click.echo(f"Deskbridge scheduler {hub.instance_id} running (leader election on)", err=True)
    stop = threading.Event()
    try:
        wait_for_signal(stop)
    finally:
        hub.stop()
        sys.stderr.flush()
