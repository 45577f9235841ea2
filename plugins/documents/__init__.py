"""Encrypted document handoff: signed single-use upload links, upload checks, envelope encryption, an
encrypted file store under the data dir, audited agent downloads, retention purge and key rotation."""

from __future__ import annotations

from hub.hookspecs import hookimpl
from plugins.documents.crypto import DecryptionError, EncryptedBlob, Envelope, RotationReport, rotate
from plugins.documents.keyring import Keyring, KeyringError
from plugins.documents.service import Config
from plugins.documents.store import DocumentNotFound, DocumentStore
from plugins.documents.uploads import Accepted, UploadLimits, UploadRejected, validate_upload

__version__ = "0.1.0"
PURGE_SECONDS = 3600


@hookimpl
def on_startup(hub):
    """Open the key store and document directory (a missing or exposed KEK fails here, not on first upload); say
    whether clamd answers and what uploads meet if it does not."""
    import logging

    from hub.errors import ConfigError
    from plugins.documents.antivirus import UploadScan
    from plugins.documents.service import config_of, store_for

    store_for(hub)
    config = config_of(hub)
    if config.kyc_forwarding.enabled and "core_banking" not in hub.connectors:
        raise ConfigError("plugins.documents.kyc_forwarding: enabled, but the core_banking connector is not")
    if config.antivirus:
        reachable, line = UploadScan(config.antivirus.scanner(), config.antivirus.required).status()
        log = logging.getLogger("plugins.documents")
        (log.info if reachable else log.warning)(line)


@hookimpl
def register_connectors(hub):
    """``documents.forward_kyc``: sends a stored document to the bank's KYC intake (when forwarding is on)."""
    from plugins.documents.kyc import KycForwarder
    from plugins.documents.service import config_of

    return [KycForwarder(hub)] if config_of(hub).kyc_forwarding.enabled else []


@hookimpl
def on_action_done(action, result, ctx):
    """A document reached the bank's KYC intake: audited with the bank's document id."""
    from plugins.documents.kyc import on_done

    on_done(action, result, ctx)


@hookimpl
def on_action_dead(action, reason, ctx):
    """Forwarding failed for good: audited, and a note on the ticket."""
    from plugins.documents.kyc import on_dead

    on_dead(action, reason, ctx)


@hookimpl
def register_blueprints(hub):
    """``/s/upload/<token>`` (customer upload page) and ``/documents/download/<token>`` (agent download)."""
    from plugins.documents.web import create_blueprint

    return create_blueprint(hub)


@hookimpl
def register_jobs(hub):
    """Hourly: delete documents older than ``retention_days``."""
    from hub.scheduler import Job

    return [Job("documents.purge", _purge, seconds=PURGE_SECONDS)]


def _purge(hub) -> None:
    from plugins.documents.service import config_of, store_for

    store_for(hub).purge_older_than(config_of(hub).retention_days)


@hookimpl
def on_event(event, ctx):
    """A help-desk ticket tagged ``request_tag`` gets a single-use upload link sent through the bank."""
    from plugins.documents.service import handle_event

    handle_event(event, ctx)


__all__ = [
    "Accepted",
    "Config",
    "DecryptionError",
    "DocumentNotFound",
    "DocumentStore",
    "EncryptedBlob",
    "Envelope",
    "Keyring",
    "KeyringError",
    "RotationReport",
    "UploadLimits",
    "UploadRejected",
    "on_action_dead",
    "on_action_done",
    "on_event",
    "on_startup",
    "register_connectors",
    "register_blueprints",
    "register_jobs",
    "rotate",
    "validate_upload",
]
