"""Envelope encryption (reliability S6) and KEK rotation (S7)."""

from __future__ import annotations

import base64
import copy
import os

import pytest

from plugins.documents.crypto import DecryptionError, EncryptedBlob, Envelope, rotate
from plugins.documents.keyring import Keyring, KeyringError

pytestmark = pytest.mark.unit


@pytest.fixture
def envelope(tmp_path) -> Envelope:
    return Envelope(Keyring(tmp_path))


def test_round_trip_and_header_fields(envelope):
    blob = envelope.encrypt("d1", "T-9", b"passport scan", customer_id="CUST-1")
    assert set(blob.header) == {"v", "alg", "kek_id", "wrapped_dek", "nonce", "aad"}
    assert blob.header["aad"] == {"doc_id": "d1", "ticket_id": "T-9", "customer_id": "CUST-1"}
    assert len(base64.b64decode(blob.header["nonce"])) == 12
    assert b"passport" not in blob.ciphertext
    assert envelope.decrypt(blob, "d1", "T-9", "CUST-1") == b"passport scan"


def test_ten_thousand_documents_get_distinct_keys_and_nonces(envelope):
    blobs = [envelope.encrypt(f"d{i}", "T", b"x") for i in range(10_000)]
    deks = {envelope.data_key(b.header) for b in blobs}
    nonces = {b.header["nonce"] for b in blobs}
    wrap_nonces = {base64.b64decode(b.header["wrapped_dek"])[:12] for b in blobs}
    assert len(deks) == len(nonces) == len(wrap_nonces) == 10_000
    assert all(len(k) == 32 for k in deks)


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_every_single_bit_flip_in_ciphertext_and_tag_fails(envelope):
    blob = envelope.encrypt("d1", "T", b"0123456789abcdef")
    for bit in range(len(blob.ciphertext) * 8):
        with pytest.raises(DecryptionError):
            envelope.decrypt(EncryptedBlob(blob.header, _flip(blob.ciphertext, bit)), "d1", "T")


@pytest.mark.parametrize("field", ["wrapped_dek", "nonce"])
def test_every_single_bit_flip_in_wrapped_key_and_nonce_fails(envelope, field):
    blob = envelope.encrypt("d1", "T", b"secret")
    raw = base64.b64decode(blob.header[field])
    for bit in range(len(raw) * 8):
        header = {**blob.header, field: base64.b64encode(_flip(raw, bit)).decode()}
        with pytest.raises(DecryptionError):
            envelope.decrypt(EncryptedBlob(header, blob.ciphertext), "d1", "T")


def test_swapped_ciphertexts_and_headers_fail(envelope):
    a = envelope.encrypt("doc-a", "T1", b"alice's passport", "C1")
    b = envelope.encrypt("doc-b", "T1", b"bob's passport", "C2")
    with pytest.raises(DecryptionError):
        envelope.decrypt(EncryptedBlob(a.header, b.ciphertext), "doc-a", "T1", "C1")
    with pytest.raises(DecryptionError):  # whole envelope moved to another record
        envelope.decrypt(b, "doc-a", "T1", "C1")


@pytest.mark.parametrize("ids", [("d1", "T2", "C1"), ("d2", "T1", "C1"), ("d1", "T1", "C2")])
def test_wrong_ids_fail_even_if_header_says_so(envelope, ids):
    blob = envelope.encrypt("d1", "T1", b"x", "C1")
    forged = copy.deepcopy(blob.header)
    forged["aad"] = dict(zip(("doc_id", "ticket_id", "customer_id"), ids, strict=True))
    with pytest.raises(DecryptionError):
        envelope.decrypt(EncryptedBlob(forged, blob.ciphertext), *ids)


def test_malformed_header_is_a_decryption_error(envelope):
    blob = envelope.encrypt("d1", "T1", b"x")
    for broken in ({}, {**blob.header, "alg": "AES-128-CBC"}, {**blob.header, "nonce": "%%%"}):
        with pytest.raises(DecryptionError):
            envelope.decrypt(EncryptedBlob(broken, blob.ciphertext), "d1", "T1")


# --- keyring -------------------------------------------------------------------------------------------------


def test_generated_key_file_permissions(tmp_path):
    keyring = Keyring(tmp_path)
    key_file = tmp_path / "keys" / f"{keyring.active_id}.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    assert key_file.read_text().strip() not in (tmp_path / "keys.json").read_text()


def test_exposed_key_file_refused(tmp_path):
    keyring = Keyring(tmp_path)
    blob = Envelope(keyring).encrypt("d", "t", b"x")
    (tmp_path / "keys" / f"{keyring.active_id}.key").chmod(0o644)
    with pytest.raises(DecryptionError, match="readable by others"):
        Envelope(Keyring(tmp_path)).decrypt(blob, "d", "t")


def test_configured_kek_adopted_and_checked(tmp_path):
    material = base64.b64encode(os.urandom(32)).decode()
    keyring = Keyring(tmp_path, configured={"prod-1": material})
    assert keyring.active_id == "prod-1"
    assert not (tmp_path / "keys").exists(), "no generated key when one is configured"
    blob = Envelope(keyring).encrypt("d", "t", b"x")
    with pytest.raises(KeyringError, match="does not match"):
        Keyring(tmp_path, configured={"prod-1": os.urandom(32).hex()})
    with pytest.raises(DecryptionError, match="not configured"):
        Envelope(Keyring(tmp_path)).decrypt(blob, "d", "t")


@pytest.mark.parametrize("bad", ["short", base64.b64encode(b"x" * 16).decode(), ""])
def test_bad_configured_material(tmp_path, bad):
    with pytest.raises(KeyringError, match="32 bytes"):
        Keyring(tmp_path, configured={"k": bad})


def test_bad_kek_id(tmp_path):
    with pytest.raises(KeyringError):
        Keyring(tmp_path, configured={"../evil": os.urandom(32)})


def test_second_instance_sees_added_key(tmp_path):
    first, second = Keyring(tmp_path), Keyring(tmp_path)
    new_id = first.add()
    assert second.active_id == new_id
    blob = Envelope(second).encrypt("d", "t", b"x")
    assert blob.header["kek_id"] == new_id
    assert Envelope(first).decrypt(blob, "d", "t") == b"x"


def test_retired_key_refused_and_active_cannot_be_retired(tmp_path):
    keyring = Keyring(tmp_path)
    old = keyring.active_id
    with pytest.raises(KeyringError, match="active"):
        keyring.retire(old)
    blob = Envelope(keyring).encrypt("d", "t", b"x")
    keyring.add()
    keyring.retire(old)
    with pytest.raises(DecryptionError, match="retired"):
        Envelope(keyring).decrypt(blob, "d", "t")
    with pytest.raises(KeyringError, match="retired"):
        keyring.add(old)


# --- rotation ------------------------------------------------------------------------------------------------


class MemoryStore:
    """Headers in a dict; ``fail_after`` simulates a crash after that many header writes."""

    def __init__(self):
        self.headers: dict[str, dict] = {}
        self.ciphertexts: dict[str, bytes] = {}
        self.fail_after: int | None = None
        self.writes = 0

    def iter_headers(self):
        yield from list(self.headers.items())

    def replace_header(self, doc_id, header):
        if self.fail_after is not None and self.writes >= self.fail_after:
            raise RuntimeError("killed mid-rotation")
        self.writes += 1
        self.headers[doc_id] = header


def _fill(envelope: Envelope, count: int) -> MemoryStore:
    store = MemoryStore()
    for i in range(count):
        blob = envelope.encrypt(f"d{i}", f"T{i % 7}", f"doc {i}".encode())
        store.headers[f"d{i}"], store.ciphertexts[f"d{i}"] = blob.header, blob.ciphertext
    return store


def _all_decrypt(envelope: Envelope, store: MemoryStore) -> None:
    for i in range(len(store.headers)):
        blob = EncryptedBlob(store.headers[f"d{i}"], store.ciphertexts[f"d{i}"])
        assert envelope.decrypt(blob, f"d{i}", f"T{i % 7}") == f"doc {i}".encode()


def test_rotation_rewraps_all_and_retires_old(envelope):
    store = _fill(envelope, 300)
    old = envelope.keyring.active_id
    report = rotate(store, envelope)
    assert report.complete and report.rewrapped == 300 and report.retired == [old]
    assert {h["kek_id"] for h in store.headers.values()} == {report.kek_id}
    assert {r.kek_id: r.status for r in envelope.keyring.records()} == {old: "retired", report.kek_id: "active"}
    _all_decrypt(envelope, store)
    again = rotate(store, envelope, report.kek_id)
    assert (again.rewrapped, again.already, again.retired) == (0, 300, [])


def test_interrupted_rotation_keeps_everything_readable_and_resumes(envelope):
    store = _fill(envelope, 300)
    old = envelope.keyring.active_id
    store.fail_after = 120
    with pytest.raises(RuntimeError):
        rotate(store, envelope)
    new = envelope.keyring.active_id
    assert new != old
    kinds = [h["kek_id"] for h in store.headers.values()]
    assert kinds.count(new) == 120 and kinds.count(old) == 180
    _all_decrypt(envelope, store)  # mixed state: both KEKs still open documents
    store.fail_after = None
    resumed = rotate(store, Envelope(Keyring(envelope.keyring.data_dir)))  # a fresh process resumes
    assert resumed.kek_id == new, "resuming does not start yet another key"
    assert (resumed.rewrapped, resumed.already, resumed.retired) == (180, 120, [old])
    _all_decrypt(envelope, store)


def test_rotation_to_a_configured_key(tmp_path):
    k1, k2 = os.urandom(32), os.urandom(32)
    envelope = Envelope(Keyring(tmp_path, configured={"k1": k1}))
    store = _fill(envelope, 20)
    rotated = Envelope(Keyring(tmp_path, configured={"k1": k1, "k2": k2}))
    assert rotated.keyring.active_id == "k1", "a newly configured key waits for rotate"
    report = rotate(store, rotated, "k2")
    assert report.complete and report.retired == ["k1"]
    _all_decrypt(Envelope(Keyring(tmp_path, configured={"k2": k2})), store)


def test_rotation_reports_tampered_document_and_keeps_old_key(envelope):
    store = _fill(envelope, 5)
    store.headers["d3"] = {**store.headers["d3"], "aad": {"doc_id": "zz", "ticket_id": "T", "customer_id": ""}}
    old = envelope.keyring.active_id
    report = rotate(store, envelope)
    assert list(report.failed) == ["d3"] and report.rewrapped == 4
    assert report.retired == []
    assert {r.kek_id: r.status for r in envelope.keyring.records()}[old] == "decrypt"


def test_rotation_without_id_picks_the_newly_configured_key(tmp_path):
    k1, k2 = os.urandom(32), os.urandom(32)
    store = _fill(Envelope(Keyring(tmp_path, configured={"k1": k1})), 10)
    envelope = Envelope(Keyring(tmp_path, configured={"k1": k1, "k2": k2}))
    assert {r.kek_id: r.status for r in envelope.keyring.records()} == {"k1": "active", "k2": "standby"}
    report = rotate(store, envelope)
    assert (report.kek_id, report.rewrapped, report.retired) == ("k2", 10, ["k1"])
    assert not (tmp_path / "keys").exists(), "no key file generated when a configured key is waiting"
