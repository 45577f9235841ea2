"""Antivirus scan of uploads against a real clamd (INSTREAM over a unix socket and TCP), the fail-closed path
when it is down, and the config check of ``plugins.documents.antivirus``."""

from __future__ import annotations

import io
import json
import socket
import threading

import pytest
from sqlalchemy import select

from hub.app import create_app
from hub.db import AuditEntry
from plugins.documents.antivirus import Scanner, ScannerUnavailable, UploadScan, parse_address
from plugins.documents.service import store_for, upload_token
from tests.support.clamd import EICAR, SIGNATURE, running_clamd

from .conftest import make_pdf, make_png

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    with running_clamd(tmp_path_factory.mktemp("clamd")) as address:
        yield address


def eicar_pdf() -> bytes:
    """A well-formed PDF (passes every upload check) that carries the EICAR test string in a comment."""
    pdf = make_pdf()
    return pdf.replace(b"\n", b"\n%" + EICAR + b"\n", 1)


def hub_with(make_hub, antivirus: dict):
    hub = make_hub({"plugins": {"documents": {"antivirus": antivirus}}})
    hub.startup()
    client = create_app(hub=hub).test_client()
    return hub, client


def post(client, token: str, name: str, data: bytes):
    return client.post(f"/s/upload/{token}", data={"document": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def uploads_audited(hub) -> list[tuple[str, str, dict]]:
    with hub.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == "document.upload")
                               .order_by(AuditEntry.id)).scalars()
        return [(r.outcome, r.target, json.loads(r.detail or "{}")) for r in rows]


def test_addresses_are_parsed_or_refused_with_a_reason():
    assert parse_address("unix:///run/clamav/clamd.ctl") == ("unix", "/run/clamav/clamd.ctl")
    assert parse_address("tcp://127.0.0.1:3310") == ("tcp", ("127.0.0.1", 3310))
    for bad in ("clamd.sock", "unix://relative.sock", "tcp://host", "tcp://host:notaport", "http://h:1"):
        with pytest.raises(ValueError, match="expected|absolute"):
            parse_address(bad)


def test_config_check_names_a_bad_clamd_address(tmp_path):
    from hub.configcheck import check
    (tmp_path / "hub.yaml").write_text("plugins:\n  documents:\n    antivirus:\n      clamd: clamd.sock\n"
                                       "      timeout: -1\n")
    found = "\n".join(str(p) for p in check(tmp_path))
    assert "plugins.documents.antivirus.clamd" in found and "expected unix:///path/clamd.sock" in found
    assert "plugins.documents.antivirus.timeout" in found


def test_eicar_is_found_over_the_unix_socket_and_a_clean_file_passes(clamd):
    scanner = Scanner(clamd, timeout=10)
    assert scanner.scan(EICAR).startswith(SIGNATURE)
    assert scanner.scan(eicar_pdf()).startswith(SIGNATURE)
    assert scanner.scan(make_pdf()) is None
    big_clean = make_png() + b"\x00" * (300 * 1024)  # several INSTREAM chunks
    assert scanner.scan(big_clean) is None


def test_eicar_is_found_over_tcp(tmp_path):
    with running_clamd(tmp_path / "tcp", tcp=True) as address:
        assert address.startswith("tcp://127.0.0.1:")
        assert Scanner(address).scan(eicar_pdf()).startswith(SIGNATURE)
        assert Scanner(address).scan(make_pdf()) is None


def test_a_stream_over_clamds_limit_gets_no_verdict_and_fails_closed(tmp_path):
    with running_clamd(tmp_path / "small", stream_max="4K") as address:
        with pytest.raises(ScannerUnavailable):
            Scanner(address).scan(b"\x00" * (64 * 1024))
        with pytest.raises(ScannerUnavailable):
            UploadScan(Scanner(address), required=True).check(b"\x00" * (64 * 1024))


def test_scanner_that_never_answers_times_out(tmp_path):
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = tmp_path / "silent.sock"
    silent.bind(str(path))
    silent.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    try:
        with pytest.raises(ScannerUnavailable, match="did not answer"):
            Scanner(f"unix://{path}", timeout=0.5).scan(b"hello")
    finally:
        silent.close()


def test_eicar_upload_is_refused_as_malware_and_audited(make_hub, clamd):
    hub, client = hub_with(make_hub, {"clamd": clamd})
    token = upload_token(hub, "zendesk", "42", "CUST-1")
    response = post(client, token, "passport.pdf", eicar_pdf())
    assert response.status_code == 422
    assert "malware" in response.get_data(as_text=True)
    assert store_for(hub).doc_ids() == []
    assert not any((hub.settings.data_dir / "documents").iterdir())
    ((outcome, target, detail),) = uploads_audited(hub)
    assert (outcome, target) == ("malware", "zendesk:42")
    assert detail["malware"].startswith(SIGNATURE)
    # The link still works for a clean file, which is stored and recorded as scanned.
    clean = post(client, token, "passport.pdf", make_pdf())
    assert clean.status_code == 200, clean.get_data(as_text=True)
    (doc_id,) = store_for(hub).doc_ids()
    assert store_for(hub).info(doc_id).scan == "clean"
    assert uploads_audited(hub)[-1][0] == "ok" and uploads_audited(hub)[-1][2]["scan"] == "clean"


def test_scanner_down_and_required_answers_503_and_stores_nothing(make_hub, tmp_path):
    hub, client = hub_with(make_hub, {"clamd": f"unix://{tmp_path}/nothing-here.sock", "timeout": 2})
    token = upload_token(hub, "zendesk", "42", "CUST-1")
    response = post(client, token, "passport.pdf", make_pdf())
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "try again later" in response.get_data(as_text=True)
    assert store_for(hub).doc_ids() == []
    ((outcome, _, detail),) = uploads_audited(hub)
    assert outcome == "failed" and "virus scan unavailable" in detail["reason"]
    # Nothing consumed the link: once the scanner is back the same link is accepted.
    assert client.get(f"/s/upload/{token}").status_code == 200


def test_scanner_down_and_optional_stores_unscanned_and_says_so(make_hub, tmp_path):
    hub, client = hub_with(make_hub, {"clamd": f"unix://{tmp_path}/nothing-here.sock", "required": False})
    token = upload_token(hub, "zendesk", "42", "CUST-1")
    assert post(client, token, "passport.pdf", make_pdf()).status_code == 200
    (doc_id,) = store_for(hub).doc_ids()
    assert store_for(hub).info(doc_id).scan.startswith("unscanned: clamd at unix://")
    assert uploads_audited(hub)[-1][2]["scan"].startswith("unscanned")


@pytest.mark.parametrize("required, meets", [
    (False, "is not reachable → uploads are stored unscanned until it answers"),
    (True, "is not reachable → uploads are refused (503, nothing stored) until it answers")])
def test_start_up_says_what_uploads_meet_when_clamd_is_not_reachable(make_hub, tmp_path, caplog, required, meets):
    caplog.set_level("INFO", logger="plugins.documents")
    address = f"unix://{tmp_path}/nothing-here.sock"
    hub_with(make_hub, {"clamd": address, "required": required})
    (line,) = [r for r in caplog.records if r.name == "plugins.documents" and "antivirus" in r.getMessage()]
    assert line.levelname == "WARNING" and line.getMessage().startswith(f"antivirus: clamd at {address} {meets}")


def test_start_up_says_uploads_are_scanned_when_clamd_answers(make_hub, clamd, caplog):
    caplog.set_level("INFO", logger="plugins.documents")
    hub_with(make_hub, {"clamd": clamd, "required": False})
    (line,) = [r for r in caplog.records if r.name == "plugins.documents" and "antivirus" in r.getMessage()]
    assert line.levelname == "INFO" and "answers: every upload is scanned before it is stored" in line.getMessage()


def test_clamd_stopped_mid_life_fails_closed(make_hub, tmp_path):
    with running_clamd(tmp_path / "brief") as address:
        hub, client = hub_with(make_hub, {"clamd": address})
        assert post(client, upload_token(hub, "zendesk", "1", "C"), "a.pdf", make_pdf()).status_code == 200
    response = post(client, upload_token(hub, "zendesk", "2", "C"), "b.pdf", make_pdf())
    assert response.status_code == 503
    assert len(store_for(hub).doc_ids()) == 1
