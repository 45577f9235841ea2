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


# Zendesk event-type subscriptions (the events API's names) that should wake the hub's sync.
ZENDESK_EVENTS = [f"zen:event-type:ticket.{name}" for name in (
    "created", "comment_added", "status_changed", "priority_changed", "subject_changed", "tags_changed",
    "custom_field_changed", "group_assignment_changed", "agent_assignment_changed", "soft_deleted")]


def wire_sandbox_webhooks(sandbox_url: str, hub_url: str) -> dict[str, str]:
    """Subscribe the hub to the sandbox's vendor webhooks, the way an admin would in each vendor's UI.

    Returns the environment the demo config reads the signing secrets from.
    """
    from hub.sandbox.salesforce import ORG_ID
    env = {"DESKBRIDGE_SALESFORCE_ORG_ID": ORG_ID}
    zendesk = requests.Session()
    zendesk.auth = ("agent@sandbox.test/token", "sandbox-token")
    endpoint = f"{hub_url}/webhooks/zendesk"
    hooks = zendesk.get(f"{sandbox_url}/api/v2/webhooks", timeout=30).json().get("webhooks", [])
    hook = next((h for h in hooks if h.get("endpoint") == endpoint), None)
    if hook is None:
        hook = zendesk.post(f"{sandbox_url}/api/v2/webhooks", timeout=30, json={"webhook": {
            "name": "Deskbridge hub", "status": "active", "endpoint": endpoint, "http_method": "POST",
            "request_format": "json", "subscriptions": ZENDESK_EVENTS}}).json()["webhook"]
    secret = zendesk.get(f"{sandbox_url}/api/v2/webhooks/{hook['id']}/signing_secret", timeout=30).json()
    env["DESKBRIDGE_ZENDESK_WEBHOOK_SECRET"] = secret["signing_secret"]["secret"]
    hubspot_secret = os.environ.get("DESKBRIDGE_HUBSPOT_CLIENT_SECRET") or secrets.token_urlsafe(24)
    requests.post(f"{sandbox_url}/_sandbox/hubspot/subscriptions", timeout=30,
                  json={"targetUrl": f"{hub_url}/webhooks/hubspot", "clientSecret": hubspot_secret}).raise_for_status()
    env["DESKBRIDGE_HUBSPOT_CLIENT_SECRET"] = hubspot_secret
    requests.post(f"{sandbox_url}/_sandbox/salesforce/outbound", timeout=30,
                  json={"url": f"{hub_url}/webhooks/salesforce", "object": "Case"}).raise_for_status()
    return env


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
    os.environ["DESKBRIDGE_SANDBOX_BANK_URL"] = sandbox_url.rstrip("/") + "/bank/v1"
    os.environ["DESKBRIDGE_SANDBOX_NOTIFY_URL"] = sandbox_url.rstrip("/") + "/_sandbox/notify"
    os.environ.update(wire_sandbox_webhooks(sandbox_url.rstrip("/"), hub_url))
    password = os.environ.get("DESKBRIDGE_DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    settings = load_settings(config_dir, plugin_models=plugins.config_models(),
                         connector_models=plugins.config_models("connector"))
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
