"""The encrypted document store: round trip, nothing in clear, random names, path tricks, purge, rotation."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import datetime, timedelta, timezone

import pytest

from hub import clock
from plugins.documents.crypto import DecryptionError, rotate
from plugins.documents.keyring import Keyring
from plugins.documents.store import DocumentNotFound, DocumentStore
from plugins.documents.uploads import UploadRejected

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path) -> DocumentStore:
    return DocumentStore(tmp_path / "data" / "documents", Keyring(tmp_path / "data"))


def _all_files(root) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, names in os.walk(root) for f in names}


def test_put_get_round_trip(store, files):
    data = files.pdf(stream=b"BT (PASSPORT P<GBRSMITH) Tj ET")
    doc_id = store.put("T-1", "CUST-1", "My Passport.pdf", data)
    assert len(doc_id) == 32 and int(doc_id, 16) >= 0
    assert store.get(doc_id) == ("My Passport.pdf", "application/pdf", data)
    assert store.get(doc_id, ticket_id="T-1")[2] == data
    info = store.info(doc_id)
    assert (info.ticket_id, info.customer_id, info.kind, info.size) == ("T-1", "CUST-1", "pdf", len(data))


def test_nothing_in_clear_on_disk(store, files):
    data = files.pdf(stream=b"BT (PASSPORT P<GBRSMITH) Tj ET")
    doc_id = store.put("T-1", "CUST-1", "smith-passport.pdf", data)
    for name in os.listdir(store.root):
        raw = (store.root / name).read_bytes()
        assert b"GBRSMITH" not in raw and b"smith-passport" not in raw and b"%PDF" not in raw
    assert sorted(os.listdir(store.root)) == [f"{doc_id}.bin", f"{doc_id}.json"]
    assert store.root.stat().st_mode & 0o777 == 0o700


def test_ids_are_random_and_distinct(store, files):
    ids = {store.put("T", "C", "a.png", files.png()) for _ in range(50)}
    assert len(ids) == 50


@pytest.mark.parametrize("name", ["../../x.png", "/etc/cron.d/x.png", "..\\..\\x.png", "x.png/../../../y.png",
                                  "%2e%2e%2fx.png", "\x00../x.png"])
def test_path_tricks_never_escape_root(tmp_path, store, files, name):
    before = _all_files(tmp_path)
    doc_id = store.put("T", "C", name, files.png())
    created = _all_files(tmp_path) - before
    assert created == {f"data/documents/{doc_id}.bin", f"data/documents/{doc_id}.json"}
    assert ".." not in store.get(doc_id)[0] and "/" not in store.get(doc_id)[0]


@pytest.mark.parametrize("doc_id", ["../../x", "../keys.json", "/etc/passwd", "A" * 32, "", "0" * 31])
def test_get_with_foreign_ids_is_not_found(store, doc_id):
    with pytest.raises(DocumentNotFound):
        store.get(doc_id)


def test_rejected_upload_writes_nothing(tmp_path, store, files):
    before = _all_files(tmp_path)
    with pytest.raises(UploadRejected):
        store.put("T", "C", "bomb.pdf", files.zip({"a": b"\x00" * 100_000}))
    assert _all_files(tmp_path) == before


def test_wrong_ticket_fails(store, files):
    doc_id = store.put("T-1", "C", "a.png", files.png())
    with pytest.raises(DecryptionError):
        store.get(doc_id, ticket_id="T-2")


def test_swapped_files_fail(store, files):
    a = store.put("T-1", "C1", "a.png", files.png(5, 5))
    b = store.put("T-2", "C2", "b.png", files.png(6, 6))
    shutil.copy(store.root / f"{b}.bin", store.root / f"{a}.bin")
    with pytest.raises(DecryptionError):
        store.get(a)
    # Both files of b copied over a: the id in the request no longer matches the sealed ids.
    shutil.copy(store.root / f"{b}.json", store.root / f"{a}.json")
    with pytest.raises(DecryptionError):
        store.get(a)


def test_purge_older_than(store, files):
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    clock.set_clock(lambda: start)
    try:
        old = store.put("T", "C", "old.png", files.png())
        clock.set_clock(lambda: start + timedelta(days=20))
        young = store.put("T", "C", "new.png", files.png())
        (store.root / ("f" * 32 + ".bin")).write_bytes(b"orphan")
        os.utime(store.root / ("f" * 32 + ".bin"), (0, 0))
        clock.set_clock(lambda: start + timedelta(days=31))
        assert store.purge_older_than(30) == 1
    finally:
        clock.set_clock(None)
    with pytest.raises(DocumentNotFound):
        store.get(old)
    assert store.get(young)[0] == "new.png"
    assert sorted(os.listdir(store.root)) == [f"{young}.bin", f"{young}.json"]


def test_rotation_through_the_store(tmp_path, store, files):
    ids = [store.put(f"T{i}", "C", "a.png", files.png(3, i + 1)) for i in range(12)]
    old = store.envelope.keyring.active_id
    report = rotate(store, store.envelope)
    assert report.complete and report.rewrapped == 12 and report.retired == [old]
    reopened = DocumentStore(store.root, Keyring(tmp_path / "data"))
    assert all(reopened.info(i).kek_id == report.kek_id for i in ids)
    assert [reopened.get(i)[2] for i in ids] == [files.png(3, i + 1) for i in range(12)]


def test_rotation_online_while_documents_arrive(tmp_path, store, files):
    first = [store.put("T", "C", "a.png", files.png(2, 2)) for _ in range(30)]
    stop, added, errors = threading.Event(), [], []

    def uploader():
        while not stop.is_set() and len(added) < 100:
            try:
                added.append(store.put("T", "C", "b.png", files.png(3, 3)))
            except Exception as exc:  # any failure here is a test failure
                errors.append(exc)

    thread = threading.Thread(target=uploader)
    thread.start()
    try:
        reports = [rotate(store, store.envelope) for _ in range(3)]
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert all(r.complete for r in reports)
    assert all(store.get(doc_id)[2] for doc_id in first + added)
    active = store.envelope.keyring.active_id
    assert {store.info(doc_id).kek_id for doc_id in first + added} == {active}
