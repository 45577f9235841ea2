"""Core banking connector over plain HTTP: customer context, card and dispute actions, GDPR requests."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hub.hookspecs import hookimpl

__version__ = "1.0.0"


class Config(BaseModel):
    """``connectors.core_banking`` block (the key arrives resolved from ``{$env: …}``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    base_url: str  # e.g. https://bank.example/bank/v1
    api_key: str = Field(repr=False)
    per_minute: int = Field(1200, ge=1)
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(30.0, gt=0)
    overlap_seconds: int = Field(60, ge=0)


@hookimpl
def register_connectors(hub):
    from connectors.core_banking.connector import CoreBankingConnector
    config = Config.model_validate(hub.settings.connectors.get("core_banking") or {})
    return CoreBankingConnector(config, metrics=getattr(hub, "metrics", None))
