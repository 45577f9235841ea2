"""The documents plugin's config, its per-hub store, signed links, and the ticket-side actions."""

from __future__ import annotations

import secrets
import weakref
from datetime import timedelta
from typing import Any, Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub import clock
from hub.errors import DeskbridgeError
from plugins.documents.antivirus import Scanner, UploadScan, parse_address
from plugins.documents.keyring import Keyring
from plugins.documents.quota import Quota
from plugins.documents.store import DocumentStore
from plugins.documents.uploads import UploadLimits

PLUGIN = "documents"
HELPDESKS = ("zendesk", "salesforce", "hubspot")


class Antivirus(BaseModel):
    """``plugins.documents.antivirus``: every upload is scanned by clamd (INSTREAM) before it is stored."""

    model_config = ConfigDict(extra="forbid")

    clamd: str  # unix:///path/clamd.sock | tcp://host:port
    # true: clamd unreachable → the upload is refused with 503 (fail closed); false: stored unscanned, audited.
    required: bool = True
    timeout: float = Field(default=30, gt=0, le=600)

    @field_validator("clamd")
    @classmethod
    def _address(cls, value: str) -> str:
        parse_address(value)
        return value

    def scanner(self) -> Scanner:
        return Scanner(self.clamd, self.timeout)


class KycForwarding(BaseModel):
    """``plugins.documents.kyc_forwarding``: accepted documents also go to the bank's KYC intake."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    # The bank's KYC document types (POST /bank/v1/customers/{id}/kyc-documents refuses any other with 422).
    document_type: Literal["passport", "national_id", "driving_licence", "proof_of_address", "selfie", "other"] = \
        "other"


class Config(BaseModel):
    """The ``plugins.documents`` block."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # KEK id -> 32-byte key as base64/hex, given as {$env: NAME} or {$file: PATH}. Empty: a generated key file.
    keks: dict[str, str] = Field(default_factory=dict)
    request_tag: str = "request_documents"
    notify_channel: str = Field(default="email", pattern="^(email|sms|push)$")
    upload_link_hours: float = Field(default=72, gt=0)
    download_link_hours: float = Field(default=24, gt=0)
    retention_days: float = Field(default=90, gt=0)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_image_pixels: int = Field(default=50_000_000, gt=0)
    antivirus: Antivirus | None = None
    kyc_forwarding: KycForwarding = Field(default_factory=KycForwarding)
    quota: Quota = Field(default_factory=Quota)

    def limits(self) -> UploadLimits:
        return UploadLimits(max_bytes=self.max_upload_bytes, max_pixels=self.max_image_pixels)


class LinkError(DeskbridgeError):
    """A customer or agent link that is invalid, expired or already used."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


_stores: weakref.WeakKeyDictionary[Any, DocumentStore] = weakref.WeakKeyDictionary()


def config_of(hub) -> Config:
    config = hub.plugin_config(PLUGIN)
    return config if isinstance(config, Config) else Config.model_validate(config)


def store_for(hub) -> DocumentStore:
    """The hub's document store under ``<data_dir>/documents`` (one per hub object)."""
    store = _stores.get(hub)
    if store is None:
        config = config_of(hub)
        keyring = Keyring(hub.settings.data_dir, configured=config.keks)
        scan = UploadScan(config.antivirus.scanner(), config.antivirus.required) if config.antivirus else None
        store = _stores[hub] = DocumentStore(hub.settings.data_dir / "documents", keyring, config.limits(), scan)
    return store


def _serializer(hub, purpose: str) -> URLSafeTimedSerializer:
    from hub.app import secret_key

    return URLSafeTimedSerializer(secret_key(hub.settings), salt=f"deskbridge.documents.{purpose}")


def upload_token(hub, system: str, ticket_id: str, customer_id: str) -> str:
    """A signed link token for one upload to one ticket; ``nonce`` makes it single-use."""
    body = {"s": system, "t": str(ticket_id), "c": str(customer_id), "n": secrets.token_urlsafe(16)}
    return _serializer(hub, "upload").dumps(body)


def download_token(hub, doc_id: str, ticket_id: str) -> str:
    return _serializer(hub, "download").dumps({"d": doc_id, "t": str(ticket_id)})


def read_token(hub, purpose: str, token: str, max_hours: float) -> dict:
    try:
        return _serializer(hub, purpose).loads(token, max_age=int(max_hours * 3600))
    except SignatureExpired:
        raise LinkError("this link has expired; ask support for a new one", 410) from None
    except BadSignature:
        raise LinkError("this link is not valid", 404) from None


def link(hub, path: str) -> str:
    return hub.settings.public_url.rstrip("/") + path


def expiry(hours: float) -> str:
    return clock.isoformat(clock.now() + timedelta(hours=hours))


def handle_event(event, ctx) -> None:
    """A ticket tagged with ``request_tag`` gets one upload link, sent through the bank's notifications."""
    if event.type not in ("ticket.created", "ticket.updated"):
        return
    ticket = event.data
    system, ticket_id = str(ticket.get("system") or event.source), ticket.get("id")
    config = config_of(ctx.hub)
    if system not in HELPDESKS or ticket_id is None or config.request_tag not in (ticket.get("tags") or []):
        return
    customer_id = ticket.get("customer_id")
    state = ctx.state(PLUGIN)
    key = f"requested:{system}:{ticket_id}"
    if state.get(key):
        return
    state.set(key, {"at": clock.isoformat(ctx.now())})
    if not customer_id:
        note = "Document request not sent: this ticket has no linked bank customer."
        ctx.emit(system, "add_internal_note", {"ticket_id": str(ticket_id), "body": note},
                 key=f"docs:{system}:{ticket_id}:nocust")
        return
    token = upload_token(ctx.hub, system, str(ticket_id), str(customer_id))
    until = expiry(config.upload_link_hours)
    ctx.emit("core_banking", "send_notification", {
        "customer_id": str(customer_id), "channel": config.notify_channel, "template": "document_request",
        "message": f"Please upload the requested document securely here (link valid until {until}): "
                   f"{link(ctx.hub, '/s/upload/' + token)}",
    }, key=f"docs:{system}:{ticket_id}:request")
    ctx.emit(system, "add_internal_note", {"ticket_id": str(ticket_id), "body": (
        f"Secure upload link sent to the customer by {config.notify_channel}; it expires at {until} and works once.")},
        key=f"docs:{system}:{ticket_id}:request-note")
    ctx.audit("plugin:documents", "document.request", f"{system}:{ticket_id}", "ok", customer_id=str(customer_id))
