"""Envelope encryption of documents and KEK rotation.

Each document gets a fresh 256-bit data key (DEK) and a random 96-bit nonce; the content is sealed with
AES-256-GCM and associated data binding ``doc_id``, ``ticket_id`` and ``customer_id``, so a ciphertext moved to
another record fails to open. The DEK is wrapped by the active KEK with AES-256-GCM under associated data that
binds the same ids and the KEK id. Per-document DEKs keep every key far below the 2^32 random-nonce limit of
NIST SP 800-38D; the KEK wraps one 32-byte key per document and rotates with ``rotate``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.errors import DeskbridgeError
from plugins.documents.keyring import Keyring, KeyringError

ALG = "AES-256-GCM"
VERSION = 1


class DecryptionError(DeskbridgeError):
    """A document could not be opened: altered, moved to another record, or its key is unavailable."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def associated_data(doc_id: str, ticket_id: str, customer_id: str = "") -> bytes:
    """Canonical bytes of the ids a ciphertext is bound to."""
    fields = {"v": VERSION, "doc_id": str(doc_id), "ticket_id": str(ticket_id), "customer_id": str(customer_id)}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class EncryptedBlob:
    """``header`` is JSON-safe (kek_id, wrapped_dek, nonce, aad fields); ``ciphertext`` ends with the GCM tag."""

    header: dict[str, Any]
    ciphertext: bytes = field(repr=False)


class Envelope:
    """Encrypts and decrypts documents with per-document data keys wrapped by a ``Keyring``."""

    def __init__(self, keyring: Keyring):
        self.keyring = keyring

    def encrypt(self, doc_id: str, ticket_id: str, plaintext: bytes, customer_id: str = "") -> EncryptedBlob:
        aad = associated_data(doc_id, ticket_id, customer_id)
        dek = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        ciphertext = AESGCM(dek).encrypt(nonce, plaintext, aad)
        kek_id, wrapped = self.keyring.wrap(dek, aad)
        header = {
            "v": VERSION,
            "alg": ALG,
            "kek_id": kek_id,
            "wrapped_dek": _b64(wrapped),
            "nonce": _b64(nonce),
            "aad": {"doc_id": str(doc_id), "ticket_id": str(ticket_id), "customer_id": str(customer_id)},
        }
        return EncryptedBlob(header, ciphertext)

    def data_key(self, header: dict[str, Any]) -> bytes:
        """Unwrap a header's DEK using the ids recorded in the header (used by rotation and tests)."""
        try:
            aad = associated_data(**header["aad"])
            return self.keyring.unwrap(header["kek_id"], _unb64(header["wrapped_dek"]), aad)
        except (InvalidTag, KeyError, ValueError, TypeError):
            raise DecryptionError(f"document {header.get('aad')}: data key failed authentication") from None

    def decrypt(self, blob: EncryptedBlob, doc_id: str, ticket_id: str, customer_id: str = "") -> bytes:
        """The plaintext, when the blob is intact and belongs to exactly these ids."""
        header = blob.header
        aad = associated_data(doc_id, ticket_id, customer_id)
        try:
            if header.get("v") != VERSION or header.get("alg") != ALG:
                raise DecryptionError(f"document {doc_id}: unsupported envelope {header.get('alg')!r}")
            kek_id = header["kek_id"]
            dek = self.keyring.unwrap(kek_id, _unb64(header["wrapped_dek"]), aad)
            return AESGCM(dek).decrypt(_unb64(header["nonce"]), blob.ciphertext, aad)
        except (InvalidTag, KeyError, ValueError, TypeError):
            raise DecryptionError(f"document {doc_id}: failed authentication (altered or not this record)") from None
        except KeyringError as exc:
            raise DecryptionError(f"document {doc_id}: {exc}") from None

    def rewrap(self, header: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``header`` with its DEK wrapped by the active KEK; the ciphertext is untouched."""
        dek = self.data_key(header)
        kek_id, wrapped = self.keyring.wrap(dek, associated_data(**header["aad"]))
        return {**header, "kek_id": kek_id, "wrapped_dek": _b64(wrapped)}


class HeaderStore(Protocol):
    """What rotation needs from a document store."""

    def iter_headers(self) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def replace_header(self, doc_id: str, header: dict[str, Any]) -> None: ...


@dataclass
class RotationReport:
    kek_id: str
    rewrapped: int = 0
    already: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failed


def rotate(store: HeaderStore, envelope: Envelope, new_kek_id: str | None = None) -> RotationReport:
    """Make a new KEK active, re-wrap every data key with it, then retire the older KEKs.

    Online and resumable: each document's header is replaced atomically and names its own KEK, so a crash
    leaves every document readable (old KEKs stay usable until the end) and running ``rotate`` again with
    the same ``new_kek_id`` (or none) finishes the job. Without ``new_kek_id``: a configured ``standby`` key
    is used if there is one, else an unfinished rotation is resumed, else a new key file is generated.
    Old KEKs are retired only when a final pass finds no document still using them.
    """
    keyring = envelope.keyring
    if new_kek_id is None:
        records = keyring.records()
        standby = sorted((r for r in records if r.status == "standby"), key=lambda r: r.created)
        if standby:
            new_kek_id = keyring.add(standby[-1].kek_id)  # a key configured for this rotation
        elif any(r.status == "decrypt" for r in records):
            new_kek_id = keyring.active_id  # resume the unfinished rotation instead of starting another
        else:
            new_kek_id = keyring.add()
    elif new_kek_id != keyring.active_id:
        new_kek_id = keyring.add(new_kek_id)
    report = RotationReport(kek_id=new_kek_id)
    _rewrap_pass(store, envelope, report, counting=True)
    # The final pass runs with writes held off (when the store offers it): it catches documents wrapped
    # with the old KEK meanwhile, and none can appear between it and the retirement.
    exclusive = getattr(store, "exclusive", None)
    with exclusive() if exclusive else contextlib.nullcontext():
        _rewrap_pass(store, envelope, report, counting=False)
        if report.complete:
            for record in keyring.records():
                if record.status == "decrypt":
                    keyring.retire(record.kek_id)
                    report.retired.append(record.kek_id)
    return report


def _rewrap_pass(store: HeaderStore, envelope: Envelope, report: RotationReport, counting: bool) -> None:
    for doc_id, header in store.iter_headers():
        if header.get("kek_id") == report.kek_id:
            if counting:
                report.already += 1
            continue
        try:
            store.replace_header(doc_id, envelope.rewrap(header))
        except (DecryptionError, KeyringError) as exc:
            report.failed[doc_id] = str(exc)
            continue
        report.failed.pop(doc_id, None)
        report.rewrapped += 1
