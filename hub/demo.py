"""``deskbridge demo`` (what ``make run`` starts): hub + sandbox + config/demo + seed data."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
import requests

from hub.settings import REPO_ROOT

DEMO_CONFIG = REPO_ROOT / "config" / "demo"


def _seed(sandbox_url: str) -> dict:
    response = requests.post(f"{sandbox_url}/_sandbox/seed", timeout=60)
    response.raise_for_status()
    return response.json()


def run_demo(host: str = "127.0.0.1", port: int = 8800, sandbox_port: int = 8900,
             sandbox_url: str | None = None, config_dir: Path = DEMO_CONFIG) -> None:
    from hub import plugins
    from hub.logs import setup_logging
    from hub.runtime import Hub
    from hub.sandbox.bank import DEFAULT_WEBHOOK_SECRET
    from hub.server import serve_hub
    from hub.settings import load_settings

    hub_url = f"http://{host}:{port}"
    # The sandbox and the hub share the banking webhook secret; a demo without one uses the sandbox's.
    os.environ.setdefault("DESKBRIDGE_BANKING_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET)
    os.environ.setdefault("DESKBRIDGE_PUBLIC_URL", hub_url)
    running_sandbox = None
    if sandbox_url is None:
        from hub.sandbox.server import start_in_thread
        running_sandbox = start_in_thread(port=sandbox_port, host=host,
                                          webhook_target=f"{hub_url}/webhooks/banking")
        sandbox_url = running_sandbox.url
        counts = _seed(sandbox_url)
    else:
        counts = None
    os.environ["DESKBRIDGE_SANDBOX_URL"] = sandbox_url.rstrip("/")
    password = os.environ.get("DESKBRIDGE_DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    settings = load_settings(config_dir, plugin_models=plugins.config_models())
    setup_logging(settings.log_level, settings.log_json)
    hub = Hub(settings)
    try:
        from hub.console.users import ensure_user
    except ModuleNotFoundError:
        ensure_user = None
    banner = [f"  sandbox          {sandbox_url}  (stats: {sandbox_url}/_sandbox/stats)"]
    if counts:
        banner.append(f"  seeded           {counts}")
    if ensure_user is not None:
        ensure_user(hub, "admin", password)
        shown = password if "DESKBRIDGE_DEMO_ADMIN_PASSWORD" not in os.environ else "(from DESKBRIDGE_DEMO_ADMIN_PASSWORD)"
        banner.append(f"  console login    admin / {shown}")
    try:
        serve_hub(hub, host, port, banner=banner)
    finally:
        if running_sandbox is not None:
            running_sandbox.stop()
        click.echo("stopped.", err=True)
