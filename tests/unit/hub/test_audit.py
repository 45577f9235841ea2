"""Audit chain: every kind of tampering is found, truncation too once an anchor exists."""

import json

import pytest
from sqlalchemy import delete, select, update

from hub.audit import anchor_path, append, verify
from hub.db import AuditEntry

pytestmark = pytest.mark.unit


def fill(hub, n=25):
    with hub.db.session() as session:
        for i in range(n):
            append(hub, session, "agent:7", "document.view", f"doc-{i}", "ok", source="10.0.0.1",
                   detail={"card": "4111 1111 1111 1111", "token": "abc"})


@pytest.fixture
def audited(make_hub):
    hub = make_hub(env={"DESKBRIDGE_AUDIT__ANCHOR_EVERY": "10"})
    fill(hub)
    return hub


def test_clean_chain_verifies(audited):
    result = verify(audited)
    assert result.ok and result.entries == 25


def test_no_card_numbers_or_secrets_in_entries(audited):
    with audited.db.session() as session:
        detail = json.loads(session.execute(select(AuditEntry.detail).limit(1)).scalar())
    assert "4111 1111 1111 1111" not in json.dumps(detail) and detail["token"] == "[redacted]"


@pytest.mark.parametrize("tamper, first_bad", [
    (lambda s: s.execute(update(AuditEntry).where(AuditEntry.id == 7).values(outcome="denied")), 7),
    (lambda s: s.execute(delete(AuditEntry).where(AuditEntry.id == 12)), 12),
    (lambda s: s.execute(update(AuditEntry).where(AuditEntry.id == 3).values(actor="someone-else")), 3),
])
def test_edit_and_delete_are_found(audited, tamper, first_bad):
    with audited.db.session() as session:
        tamper(session)
    result = verify(audited)
    assert not result.ok and result.first_bad == first_bad


def test_truncated_tail_is_found_through_the_anchor(audited):
    with audited.db.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id > 15))
    result = verify(audited)
    assert not result.ok and "tail truncated" in result.reason
    assert anchor_path(audited.settings).exists()


def test_cli_verify_exit_codes(audited, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from hub import cli
    monkeypatch.setattr(cli, "_hub", lambda config_dir: audited)
    ok = CliRunner().invoke(cli.cli, ["audit", "verify"])
    assert ok.exit_code == 0 and "25 entries" in ok.output
    with audited.db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == 9).values(target="x"))
    bad = CliRunner().invoke(cli.cli, ["audit", "verify"])
    assert bad.exit_code == 1 and "BROKEN at entry 9" in bad.output
