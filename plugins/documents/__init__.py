"""Encrypted document handoff: upload checks, envelope encryption, encrypted file store, key rotation."""

from __future__ import annotations

from plugins.documents.crypto import DecryptionError, EncryptedBlob, Envelope, RotationReport, rotate
from plugins.documents.keyring import Keyring, KeyringError
from plugins.documents.store import DocumentNotFound, DocumentStore
from plugins.documents.uploads import Accepted, UploadLimits, UploadRejected, validate_upload

__version__ = "0.1.0"

__all__ = [
    "Accepted",
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
    "rotate",
    "validate_upload",
]
