"""Salesforce connector: Cases, CaseComments, Contacts and Accounts over simple-salesforce."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from hub.hookspecs import hookimpl

__version__ = "0.1.0"


class Config(BaseModel):
    """``connectors.salesforce`` block. Secrets come from ``{$env: …}``."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    instance_url: str
    session_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    token_url: str | None = None  # default: {instance_url}/services/oauth2/token
    api_version: str = "59.0"
    per_minute: float = 1000
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    page_size: int | None = None  # records per read page (default per stream)
    overlap_seconds: float = 60.0  # reads re-scan this much before the cursor (late commits), deduped by version
    limit_pause_seconds: float = 300.0  # pause after 403 REQUEST_LIMIT_EXCEEDED (daily allocation spent)


@hookimpl
def register_connectors(hub):
    from connectors.salesforce.connector import SalesforceConnector

    config = Config.model_validate(hub.settings.connectors.get("salesforce") or {})
    return SalesforceConnector(config, metrics=getattr(hub, "metrics", None))
