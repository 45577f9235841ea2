"""Zendesk Support connector over zenpy: tickets, comments, users, organizations, ticket fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hub.hookspecs import hookimpl

__version__ = "1.0.0"


class Config(BaseModel):
    """``connectors.zendesk`` block (secrets arrive resolved from ``{$env: …}``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    subdomain: str
    email: str
    token: str = Field(repr=False)
    base_url: str | None = None  # default https://<subdomain>.zendesk.com; plain http only for the sandbox
    per_minute: int = Field(700, ge=1)  # Enterprise plan limit; shared by everything calling this account
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(30.0, gt=0)
    overlap_seconds: int = Field(60, ge=0)
    page_size: int = Field(1000, ge=1, le=1000)
    job_timeout: float = Field(120.0, gt=0)
    # Ticket fields the hub writes to, created at start-up when missing (e.g. "SLA first response due").
    ticket_fields: list[dict] = []


@hookimpl
def register_connectors(hub):
    from connectors.zendesk.connector import ZendeskConnector
    config = Config.model_validate(hub.settings.connectors.get("zendesk") or {})
    return ZendeskConnector(config, metrics=getattr(hub, "metrics", None))


@hookimpl
def on_startup(hub):
    """Create the configured ticket fields that are missing, so agents see titled fields from the first ticket."""
    config = Config.model_validate(hub.settings.connectors.get("zendesk") or {})
    if config.ticket_fields and "zendesk" in hub.connectors:
        hub.connectors["zendesk"].execute("ensure_ticket_fields", {"fields": config.ticket_fields},
                                          "startup:ticket_fields")
