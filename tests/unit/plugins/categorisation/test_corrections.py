import json
from datetime import datetime, timezone

import pytest

from plugins.categorisation.corrections import CorrectionsError, default_path, load_corrections, record_correction

pytestmark = pytest.mark.unit
AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_record_and_load_round_trip(tmp_path):
    path = tmp_path / "deep" / "corrections.jsonl"
    c = record_correction(path, "card gone", "cards", "compliance_fraud", ticket="zendesk:7", at=AT)
    assert json.loads(path.read_text())["corrected"] == "compliance_fraud"
    assert load_corrections(path) == [c]
    assert c.at == "2026-01-01T00:00:00+00:00"


def test_replays_are_deduplicated_and_bad_lines_skipped(tmp_path):
    path = tmp_path / "c.jsonl"
    record_correction(path, "a", "fees", "disputes", ticket="zendesk:1", at=AT)
    record_correction(path, "a", "fees", "disputes", ticket="zendesk:1", at=AT)
    record_correction(path, "b", "fees", "loans", ticket="zendesk:2", at=AT)
    with path.open("a") as handle:
        handle.write('{"id": "torn", "text": "x"')
    assert [c.text for c in load_corrections(path)] == ["a", "b"]
    assert [c.text for c in load_corrections(path, categories={"disputes"})] == ["a"]


def test_missing_file_is_empty_and_blank_text_refused(tmp_path):
    assert load_corrections(tmp_path / "none.jsonl") == []
    with pytest.raises(CorrectionsError):
        record_correction(tmp_path / "c.jsonl", "  ", "fees", "cards")


def test_default_path_under_data_dir(tmp_path, monkeypatch):
    assert default_path(tmp_path) == tmp_path / "categorisation" / "corrections.jsonl"
    monkeypatch.setenv("DESKBRIDGE_DATA_DIR", str(tmp_path / "env"))
    assert default_path() == tmp_path / "env" / "categorisation" / "corrections.jsonl"
