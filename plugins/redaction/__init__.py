"""PII redaction: card numbers, CVV/track/PIN, IBANs and national ids are masked before any write leaves."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.hookspecs import hookimpl
from plugins.redaction.logging_filter import RedactingFilter, install_log_redaction
from hub.pan import find_pans, is_pan
from plugins.redaction.redactor import Redactor, contains_pan, redact_payload, redact_text
from plugins.redaction.secrets import DEFAULT_NATIONAL_IDS

__version__ = "0.1.0"

__all__ = [
    "Config",
    "RedactingFilter",
    "Redactor",
    "contains_pan",
    "find_pans",
    "install_log_redaction",
    "is_pan",
    "redact_payload",
    "redact_text",
    "on_startup",
    "transform_outbound",
]


class Config(BaseModel):
    """The ``plugins.redaction`` block of the hub config."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # "last4" (default, right for CRMs) or "bin_last4" (first six + last four, PCI DSS 3.4.1 maximum).
    pan_mask: str = Field(default="last4", pattern="^(last4|bin_last4)$")
    # Systems whose writes are redacted.
    systems: list[str] = Field(default_factory=lambda: ["salesforce", "hubspot", "zendesk"])
    # name -> regex; replaces the defaults (US SSN, UK NINO) when given.
    national_ids: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_NATIONAL_IDS))
    # Extra payload key names whose values are dropped whole (besides cvv, pin, track...).
    drop_keys: list[str] = Field(default_factory=list)

    @field_validator("national_ids")
    @classmethod
    def _patterns_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for name, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"national_ids.{name}: not a valid regular expression ({exc})") from None
        return value

    def redactor(self) -> Redactor:
        return Redactor(
            keep_bin=self.pan_mask == "bin_last4", national_ids=self.national_ids, extra_keys=self.drop_keys
        )


class _Active:
    """The policy in force. ``transform_outbound`` gets no ``hub``, so ``on_startup`` sets it here."""

    config = Config()
    redactor = config.redactor()


@hookimpl
def on_startup(hub):
    """Load this plugin's config and add the redacting filter to the root logger's handlers."""
    config = hub.plugin_config("redaction")
    _Active.config, _Active.redactor = config, config.redactor()
    install_log_redaction(log_filter=RedactingFilter(_Active.redactor))


@hookimpl
def transform_outbound(system, operation, payload):
    """Every write to a configured system (default Salesforce, HubSpot, Zendesk) leaves with card numbers
    masked, CVV/track/PIN removed, IBANs and national ids masked; keys and non-secret values are kept."""
    if system not in _Active.config.systems:
        return None
    return _Active.redactor.redact_payload(payload)
