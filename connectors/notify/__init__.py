"""Notify connector: Slack-compatible webhooks to allow-listed hosts, and e-mail over SMTP."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hub.hookspecs import hookimpl

__version__ = "1.0.0"


class Config(BaseModel):
    """``connectors.notify`` block."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = Field(None, repr=False)
    from_address: str = "hub@example.com"
    allowed_hosts: list[str] = []  # exact host names, or "*.example.com" for its subdomains
    per_minute: int = Field(600, ge=1)
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(15.0, gt=0)


@hookimpl
def register_connectors(hub):
    from connectors.notify.connector import NotifyConnector
    config = Config.model_validate(hub.settings.connectors.get("notify") or {})
    return NotifyConnector(config, metrics=getattr(hub, "metrics", None))
