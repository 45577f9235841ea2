"""The ``plugins.identity`` config block."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_GATED = [
    "core_banking.freeze_card", "core_banking.unfreeze_card", "core_banking.create_refund",
    "core_banking.update_contact_details", "core_banking.update_payout_details", "documents.customer_download",
]


class Config(BaseModel):
    """Step-up identity verification before sensitive actions."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)  # an error never quotes payout_key

    enabled: bool = True
    # "<system>.<operation>" that need a fresh verification of the payload's customer_id.
    gated_actions: list[str] = Field(default_factory=lambda: list(DEFAULT_GATED))
    # Inbox event types whose protective actions skip the check, per action (a fraud alert may freeze a card).
    exempt_events: dict[str, list[str]] = Field(
        default_factory=lambda: {"core_banking.freeze_card": ["fraud.alert.created"]})
    code_ttl_seconds: int = Field(300, ge=30, le=900)
    # A verified challenge must be used by its action within this time.
    verified_ttl_seconds: int = Field(300, ge=30, le=900)
    max_failures: int = Field(5, ge=1, le=20)
    lockout_seconds: int = Field(1800, ge=60)
    channel: str = Field("sms", pattern="^(sms|email|push)$")
    # Ticket tag -> action it requests a verification for.
    request_tags: dict[str, str] = Field(default_factory=lambda: {
        "verify_identity_refund": "core_banking.create_refund",
        "verify_identity_unfreeze": "core_banking.unfreeze_card",
        "verify_identity_freeze": "core_banking.freeze_card",
        "verify_identity_contact": "core_banking.update_contact_details",
    })
    verified_field: str = "Identity verified"
    # Key that encrypts a pending payout change at rest: 32 bytes as base64/hex, given as {$env: NAME} or
    # {$file: PATH}. Empty: a generated 0600 key file in the data dir (see plugins/identity/sealing.py).
    payout_key: str = ""
    # A dead-lettered payout change can be replayed for this long; then its encrypted details are purged.
    payout_replay_days: float = Field(7, gt=0, le=90)

    @field_validator("payout_key")
    @classmethod
    def _key_material(cls, value: str) -> str:
        if value:
            from plugins.identity.sealing import parse_key
            try:
                parse_key(value)
            except Exception:
                raise ValueError("must be 32 bytes as base64 or hex") from None
        return value


def config_of(hub) -> Config:
    """The validated ``plugins.identity`` block of ``hub``."""
    config = hub.plugin_config("identity")
    return config if isinstance(config, Config) else Config.model_validate(config or {})
