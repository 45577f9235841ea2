"""Key-encryption keys (KEKs): versioned in ``<data_dir>/keys.json``, material from config or key files.

Where the material lives (the documented choice):
- configured: ``plugins.documents.keks: {<kek_id>: {$env: NAME} | {$file: PATH}}`` — 32 bytes as base64 or hex.
  Use this in production so key material sits outside the data directory (ideally in a secret manager).
- embedded default: when no KEK is configured, the hub generates one into ``<data_dir>/keys/<kek_id>.key``
  (base64, mode 0600, directory 0700). Anyone who can read the data directory can then read documents,
  so back up and protect that directory accordingly.
``keys.json`` holds only metadata (id, created, status, source) and a key check value (an HMAC of a fixed
string under the key) that catches a wrong configured key at start-up without revealing the key.
Statuses: ``active`` (exactly one; wraps new data keys), ``decrypt`` (a former active key that still unwraps
until rotation has moved every data key off it), ``standby`` (configured later, waiting for ``keys rotate``
to make it active), ``retired`` (refused).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub import clock
from hub.errors import DeskbridgeError
from hub.keys import key_bytes

KEK_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
STATUSES = ("active", "decrypt", "standby", "retired")


class KeyringError(DeskbridgeError):
    """A KEK is missing, retired, malformed, or its file is exposed."""


@dataclass
class KekRecord:
    kek_id: str
    created: str
    status: str
    source: str  # "file" | "config"
    check: str


def key_check_value(material: bytes) -> str:
    return hmac.new(material, b"deskbridge kek check v1", hashlib.sha256).hexdigest()[:16]


def parse_material(kek_id: str, value: str | bytes) -> bytes:
    """32 raw bytes, or base64 / hex text of them."""
    raw = key_bytes(value)
    if raw is not None:
        return raw
    raise KeyringError(f"KEK {kek_id}: material must be 32 bytes as base64 or hex")


def _bind(kek_id: str, aad: bytes) -> bytes:
    return b"deskbridge/dek/v1|" + kek_id.encode() + b"|" + aad


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file so readers see the old or the new content, never a torn one (tmp, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Keyring:
    """The KEKs a hub knows; thread-safe; re-reads ``keys.json`` when another process changed it."""

    def __init__(self, data_dir: Path, configured: Mapping[str, str | bytes] | None = None):
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "keys.json"
        self.key_dir = self.data_dir / "keys"
        self._configured = {k: parse_material(k, v) for k, v in (configured or {}).items()}
        for kek_id in self._configured:
            self._check_id(kek_id)
        self._lock = threading.RLock()
        self._records: dict[str, KekRecord] = {}
        self._aeads: dict[str, AESGCM] = {}
        self._seen: tuple[int, int] | None = None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._refresh()
            self._adopt_configured()
            if not self._records:
                self.add()

    @staticmethod
    def _check_id(kek_id: str) -> None:
        if not KEK_ID.match(kek_id):
            raise KeyringError(f"KEK id {kek_id!r} must be 1-64 letters, digits, '.', '_' or '-'")

    # --- keys.json -----------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return
        seen = (info.st_mtime_ns, info.st_size)
        if seen == self._seen:
            return
        try:
            doc = json.loads(self.path.read_text())
            records = {r["kek_id"]: KekRecord(**r) for r in doc["keys"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyringError(f"{self.path}: not a valid key store ({exc})") from None
        self._records = records
        self._seen = seen

    def _save(self) -> None:
        body = {"version": 1, "keys": [asdict(r) for r in self._records.values()]}
        atomic_write(self.path, json.dumps(body, indent=2).encode())
        info = self.path.stat()
        self._seen = (info.st_mtime_ns, info.st_size)

    def _adopt_configured(self) -> None:
        """Configured keys unknown to keys.json are recorded (``standby``); the first becomes active if none is."""
        changed = False
        for kek_id, material in self._configured.items():
            record = self._records.get(kek_id)
            if record is None:
                status = "standby" if self._active_record() else "active"
                self._records[kek_id] = KekRecord(kek_id, clock.isoformat(clock.now()), status, "config",
                                                  key_check_value(material))
                changed = True
            elif record.check != key_check_value(material):
                raise KeyringError(f"KEK {kek_id}: configured material does not match keys.json (wrong value?)")
        if changed:
            self._save()

    def _active_record(self) -> KekRecord | None:
        return next((r for r in self._records.values() if r.status == "active"), None)

    # --- material ------------------------------------------------------------------------------------------
    def _key_file(self, kek_id: str) -> Path:
        return self.key_dir / f"{kek_id}.key"

    def _load_material(self, record: KekRecord) -> bytes:
        if record.source == "config":
            if record.kek_id not in self._configured:
                raise KeyringError(f"KEK {record.kek_id} is not configured (plugins.documents.keks)")
            return self._configured[record.kek_id]
        path = self._key_file(record.kek_id)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise KeyringError(f"KEK {record.kek_id}: key file {path} is missing") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(f"KEK {record.kek_id}: key file {path} is readable by others (chmod 600)")
        material = parse_material(record.kek_id, path.read_text())
        if key_check_value(material) != record.check:
            raise KeyringError(f"KEK {record.kek_id}: key file {path} does not match keys.json")
        return material

    def _aead(self, kek_id: str, for_wrap: bool) -> AESGCM:
        with self._lock:
            self._refresh()
            record = self._records.get(kek_id)
            if record is None:
                raise KeyringError(f"KEK {kek_id} is unknown to {self.path}")
            if record.status == "retired":
                raise KeyringError(f"KEK {kek_id} is retired")
            if for_wrap and record.status != "active":
                raise KeyringError(f"KEK {kek_id} is not the active key")
            aead = self._aeads.get(kek_id)
            if aead is None:
                aead = self._aeads[kek_id] = AESGCM(self._load_material(record))
            return aead

    # --- public API ----------------------------------------------------------------------------------------
    @property
    def active_id(self) -> str:
        with self._lock:
            self._refresh()
            record = self._active_record()
            if record is None:
                raise KeyringError(f"{self.path}: no active KEK")
            return record.kek_id

    def records(self) -> list[KekRecord]:
        with self._lock:
            self._refresh()
            return [KekRecord(**asdict(r)) for r in self._records.values()]

    def wrap(self, dek: bytes, aad: bytes) -> tuple[str, bytes]:
        """Wrap a data key with the active KEK (AES-256-GCM, random 96-bit nonce): ``(kek_id, nonce+ct+tag)``.

        The KEK id is bound into the associated data, so a wrapped key cannot be relabelled.
        """
        with self._lock:  # the active key can't change between choosing it and opening it
            kek_id = self.active_id
            aead = self._aead(kek_id, for_wrap=True)
        nonce = os.urandom(12)
        return kek_id, nonce + aead.encrypt(nonce, dek, _bind(kek_id, aad))

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        """The data key; raises ``cryptography.exceptions.InvalidTag`` when anything was altered."""
        return self._aead(kek_id, for_wrap=False).decrypt(wrapped[:12], wrapped[12:], _bind(kek_id, aad))

    def add(self, kek_id: str | None = None) -> str:
        """Make a KEK the active one: a configured id, or a new generated key file when ``kek_id`` is None.

        The previous active KEK keeps unwrapping (status ``decrypt``) until ``retire``.
        """
        with self._lock:
            self._refresh()
            if kek_id is None:
                kek_id = f"kek-{clock.now().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
                material = os.urandom(32)
                self.key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                self.key_dir.chmod(0o700)  # it may pre-exist with the umask's mode (other hub keys live there)
                path = self._key_file(kek_id)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(base64.b64encode(material).decode() + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                _fsync_dir(self.key_dir)
                self._records[kek_id] = KekRecord(kek_id, clock.isoformat(clock.now()), "decrypt", "file",
                                                  key_check_value(material))
            self._check_id(kek_id)
            record = self._records.get(kek_id)
            if record is None:
                raise KeyringError(f"KEK {kek_id} is neither configured nor known to {self.path}")
            if record.status == "retired":
                raise KeyringError(f"KEK {kek_id} is retired and cannot be made active again")
            for other in self._records.values():
                if other.status == "active" and other.kek_id != kek_id:
                    other.status = "decrypt"
            record.status = "active"
            self._save()
            return kek_id

    def retire(self, kek_id: str) -> None:
        """Refuse a KEK from now on (after rotation has re-wrapped every data key it protected)."""
        with self._lock:
            self._refresh()
            record = self._records.get(kek_id)
            if record is None:
                raise KeyringError(f"KEK {kek_id} is unknown to {self.path}")
            if record.status == "active":
                raise KeyringError(f"KEK {kek_id} is active; make another key active first")
            record.status = "retired"
            self._aeads.pop(kek_id, None)
            self._save()
