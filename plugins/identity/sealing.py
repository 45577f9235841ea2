"""Encryption at rest of a pending payout change (account holder, IBAN, BIC): AES-256-GCM (cryptography's AEAD).

The key (``plugins.identity.payout_key``, 32 bytes as base64 or hex, given as ``{$env: NAME}`` or ``{$file: PATH}``)
lives outside the database. Without one, the hub generates ``<data_dir>/keys/identity-payout.key`` (0600) — like
the other embedded-default keys, anyone who can read the data directory can then open the details; configure the
key in production and give every process of a scale-out deployment the same one.

A sealed change is bound (associated data) to its challenge and customer, so a ciphertext copied onto another
change or customer does not open. It carries a key check value, so a changed key reads as such, not as tampering.
Random 96-bit nonces: this key seals a few changes a day, far below the 2^32 messages NIST SP 800-38D allows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import weakref
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.errors import ConfigError, DeskbridgeError
from hub.keys import key_bytes
from plugins.identity.config import config_of

ALG = "AES-256-GCM"
VERSION = 1
KEY_FILE = "identity-payout.key"
_keys: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()


class SealError(DeskbridgeError):
    """Sealed payout details that cannot be opened: another key, altered, or moved to another change."""


def parse_key(value: str) -> bytes:
    """32 raw bytes from base64 or hex text; ``ConfigError`` otherwise."""
    raw = key_bytes(value)
    if raw is not None:
        return raw
    raise ConfigError("plugins.identity.payout_key: must be 32 bytes as base64 or hex")


def _generated(data_dir: Path) -> bytes:
    path = Path(data_dir) / "keys" / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{KEY_FILE}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(AESGCM.generate_key(bit_length=256)).decode())
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another process created first
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return parse_key(path.read_text())


def payout_key(hub) -> bytes:
    """The hub's payout-details key: configured, or the generated key file (one per hub object)."""
    key = _keys.get(hub)
    if key is None:
        configured = config_of(hub).payout_key
        key = _keys[hub] = parse_key(configured) if configured else _generated(hub.settings.data_dir)
    return key


def _check_value(key: bytes) -> str:
    return hmac.new(key, b"deskbridge payout key check v1", hashlib.sha256).hexdigest()[:16]


def _bound(challenge_id: str, customer_id: str) -> bytes:
    return json.dumps({"v": VERSION, "challenge": str(challenge_id), "customer_id": str(customer_id)},
                      sort_keys=True, separators=(",", ":")).encode()


def seal(key: bytes, challenge_id: str, customer_id: str, details: dict) -> dict:
    """``details`` (JSON-safe) sealed for one change: a JSON-safe dict to keep in plugin state."""
    nonce = os.urandom(12)
    plaintext = json.dumps(details, sort_keys=True, separators=(",", ":")).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _bound(challenge_id, customer_id))
    return {"v": VERSION, "alg": ALG, "kcv": _check_value(key), "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(ciphertext).decode()}


def unseal(key: bytes, challenge_id: str, customer_id: str, sealed: dict) -> dict:
    """The details ``seal`` was given; ``SealError`` when they cannot be opened."""
    if not isinstance(sealed, dict) or sealed.get("v") != VERSION or sealed.get("alg") != ALG:
        raise SealError("the sealed payout details are not in a known format")
    if sealed.get("kcv") != _check_value(key):
        raise SealError("the payout details were encrypted with another key (was plugins.identity.payout_key "
                        "changed?)")
    try:
        nonce, ciphertext = base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"])
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, _bound(challenge_id, customer_id))
    except (KeyError, ValueError, binascii.Error, InvalidTag):
        raise SealError("the sealed payout details do not open for this change and customer (altered or moved)"
                        ) from None
    return json.loads(plaintext)
