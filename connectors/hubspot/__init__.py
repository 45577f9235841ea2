"""HubSpot connector: tickets, notes, contacts and companies over hubspot-api-client."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from hub.hookspecs import hookimpl

__version__ = "0.1.0"


class Config(BaseModel):
    """``connectors.hubspot`` block. The token comes from ``{$env: …}``."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    base_url: str = "https://api.hubapi.com"
    access_token: str
    per_minute: float = 1140  # Professional private apps: 190 per 10 s
    # A token bucket sends at most burst + 10 s × rate in any 10 s: keep the burst small so that stays near 190.
    burst: int = 10
    daily_limit_pause_seconds: float = 3600.0  # pause after a 429 of the DAILY policy (no point retrying sooner)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    page_size: int | None = None  # records per read page (search allows up to 200)
    overlap_seconds: float = 60.0  # reads re-scan this much before the cursor (search index lag), deduped


@hookimpl
def register_connectors(hub):
    from connectors.hubspot.connector import HubSpotConnector

    config = Config.model_validate(hub.settings.connectors.get("hubspot") or {})
    return HubSpotConnector(config, metrics=getattr(hub, "metrics", None))
