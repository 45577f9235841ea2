"""Encrypted document files under the data directory.

Each document is two files named by a random 128-bit id: ``<id>.bin`` (the AES-GCM ciphertext) and
``<id>.json`` (ids, type, size, creation time and the envelope header). The original filename travels inside
the ciphertext. The ``.json`` is written last, so a document exists exactly when its metadata does.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from hub import clock
from hub.errors import DeskbridgeError
from plugins.documents.crypto import EncryptedBlob, Envelope
from plugins.documents.keyring import Keyring, atomic_write
from plugins.documents.uploads import UploadLimits, safe_display_name, validate_upload

DOC_ID = re.compile(r"^[0-9a-f]{32}$")


class DocumentNotFound(DeskbridgeError):
    """No document with that id (or the id is not one this store could have made)."""


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    ticket_id: str
    customer_id: str
    kind: str
    mime: str
    size: int
    created: str
    kek_id: str
    scan: str = "not configured"  # "clean", "unscanned: <why>" or "not configured"


class DocumentStore:
    """Validates, encrypts and keeps documents in ``root`` (created 0700, never served directly)."""

    def __init__(self, root: Path, keyring: Keyring, limits: UploadLimits | None = None, scan=None):
        self.root = Path(root)
        # ``plugins.documents.antivirus.UploadScan`` (or None: no antivirus configured).
        self.scan = scan
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.envelope = Envelope(keyring)
        self.limits = limits or UploadLimits()
        # Serialises writes (put, header rewrite, delete) in this process; rotation holds it for its last pass.
        self._lock = threading.RLock()

    def _paths(self, doc_id: str) -> tuple[Path, Path]:
        if not isinstance(doc_id, str) or not DOC_ID.match(doc_id):
            raise DocumentNotFound(f"no document {doc_id!r}")
        return self.root / f"{doc_id}.bin", self.root / f"{doc_id}.json"

    def _meta(self, doc_id: str) -> dict[str, Any]:
        _, meta_path = self._paths(doc_id)
        try:
            return json.loads(meta_path.read_text())
        except FileNotFoundError:
            raise DocumentNotFound(f"no document {doc_id}") from None

    def put(self, ticket_id: str, customer_id: str, filename: str, data: bytes) -> str:
        """Validate, scan, encrypt and store an upload; the new document id.

        Raises ``UploadRejected`` (``antivirus.Infected`` for malware) or ``antivirus.ScannerUnavailable``; in
        every such case nothing is written. ``info(doc_id).scan`` keeps what the scan said.
        """
        accepted = validate_upload(filename, data, self.limits)
        scanned = self.scan.check(data) if self.scan is not None else "not configured"
        doc_id = secrets.token_hex(16)
        name = safe_display_name(filename, accepted.ext)
        inner = json.dumps({"filename": name, "mime": accepted.mime}).encode() + b"\n" + data
        with self._lock:  # a rotation can't retire the KEK between wrapping and writing the header
            self._write_new(doc_id, str(ticket_id), str(customer_id), accepted, inner, len(data), scanned)
        return doc_id

    def _write_new(self, doc_id: str, ticket_id: str, customer_id: str, accepted, inner: bytes, size: int,
                   scanned: str = "not configured") -> None:
        blob = self.envelope.encrypt(doc_id, ticket_id, inner, customer_id)
        bin_path, meta_path = self._paths(doc_id)
        atomic_write(bin_path, blob.ciphertext)
        meta = {
            "doc_id": doc_id,
            "ticket_id": ticket_id,
            "customer_id": customer_id,
            "kind": accepted.kind,
            "mime": accepted.mime,
            "size": size,
            "created": clock.isoformat(clock.now()),
            "scan": scanned,
            "envelope": blob.header,
        }
        atomic_write(meta_path, json.dumps(meta).encode())

    def exclusive(self) -> threading.RLock:
        """A context manager that holds off writes in this process (key rotation's final pass)."""
        return self._lock

    def info(self, doc_id: str) -> DocumentInfo:
        meta = self._meta(doc_id)
        return DocumentInfo(meta["doc_id"], meta["ticket_id"], meta["customer_id"], meta["kind"], meta["mime"],
                            meta["size"], meta["created"], meta["envelope"]["kek_id"],
                            meta.get("scan", "not configured"))

    def get(self, doc_id: str, ticket_id: str | None = None) -> tuple[str, str, bytes]:
        """``(filename, mime, content)``. With ``ticket_id``, the document must belong to that ticket.

        Raises ``DocumentNotFound``, or ``DecryptionError`` when the files were altered or swapped.
        """
        meta = self._meta(doc_id)
        bin_path, _ = self._paths(doc_id)
        try:
            ciphertext = bin_path.read_bytes()
        except FileNotFoundError:
            raise DocumentNotFound(f"document {doc_id} has no content file") from None
        expected_ticket = meta["ticket_id"] if ticket_id is None else str(ticket_id)
        # The id comes from the caller, not the metadata: files copied under another id fail to open.
        inner = self.envelope.decrypt(EncryptedBlob(meta["envelope"], ciphertext), doc_id, expected_ticket,
                                      meta["customer_id"])
        head, _, content = inner.partition(b"\n")
        described = json.loads(head)
        return described["filename"], described["mime"], content

    def doc_ids(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json") if DOC_ID.match(p.stem))

    def iter_headers(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(doc_id, envelope header)`` for every stored document (used by key rotation)."""
        for doc_id in self.doc_ids():
            try:
                yield doc_id, self._meta(doc_id)["envelope"]
            except DocumentNotFound:
                continue  # purged meanwhile

    def replace_header(self, doc_id: str, header: dict[str, Any]) -> None:
        """Atomically swap a document's envelope header (same ciphertext, re-wrapped data key)."""
        with self._lock:
            meta = self._meta(doc_id)
            meta["envelope"] = header
            atomic_write(self._paths(doc_id)[1], json.dumps(meta).encode())

    def delete(self, doc_id: str) -> bool:
        bin_path, meta_path = self._paths(doc_id)
        with self._lock:
            existed = meta_path.exists()
            meta_path.unlink(missing_ok=True)
            bin_path.unlink(missing_ok=True)
        return existed

    def purge_older_than(self, days: float) -> int:
        """Delete documents created more than ``days`` ago (and orphaned content files); how many documents."""
        cutoff = clock.now() - timedelta(days=days)
        purged = 0
        for doc_id in self.doc_ids():
            try:
                created = clock.parse_time(self._meta(doc_id)["created"])
            except DocumentNotFound:
                continue
            if created < cutoff and self.delete(doc_id):
                purged += 1
        # A crash between the two writes of ``put`` leaves a .bin without metadata; it is unreadable anyway.
        for orphan in self.root.glob("*.bin"):
            if DOC_ID.match(orphan.stem) and not orphan.with_suffix(".json").exists():
                if orphan.stat().st_mtime < cutoff.timestamp():
                    orphan.unlink(missing_ok=True)
        return purged
