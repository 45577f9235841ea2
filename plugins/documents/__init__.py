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
    """Open the key store and document directory (a missing or exposed KEK fails here, not on first upload)."""
    from plugins.documents.service import store_for

    store_for(hub)


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
    "on_event",
    "on_startup",
    "register_blueprints",
    "register_jobs",
    "rotate",
    "validate_upload",
]
