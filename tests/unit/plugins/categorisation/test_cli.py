import io
import json
import subprocess
import sys

import pytest

from plugins.categorisation.cli import classify_stream
from plugins.categorisation.model import ModelError

pytestmark = pytest.mark.unit


def run(text, **kw):
    out, err = io.StringIO(), io.StringIO()
    bad = classify_stream(io.StringIO(text), out, stderr=err, **kw)
    return bad, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue().splitlines()


def test_classifies_each_line_in_order_keeping_ids(small_model):
    lines = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in
                    [("a", "my card was stolen"), (2, "how do I verify my identity"), (3.5, "")])
    bad, rows, errors = run(lines, model=small_model)
    assert bad == 0 and errors == []
    assert [r["id"] for r in rows] == ["a", 2, 3.5]
    assert all(set(r) == {"id", "category", "confidence"} and 0 <= r["confidence"] <= 1 for r in rows)


def test_bad_lines_are_reported_on_stderr_by_line_number_and_skipped(small_model):
    text = ('{"id": 1, "text": "lost card"}\n'
            "not json\n"
            "\n"
            '{"id": 2}\n'
            '["id", "text"]\n'
            '{"id": true, "text": "x"}\n'
            '{"text": "no id"}\n'
            '{"id": 9, "text": "refund please"}\n')
    bad, rows, errors = run(text, model=small_model)
    assert [r["id"] for r in rows] == [1, 9]
    assert bad == 5
    assert [e.split(":")[0] for e in errors] == ["line 2", "line 4", "line 5", "line 6", "line 7"]
    assert "not valid JSON" in errors[0] and '"text" must be a string' in errors[1]


def test_batches_larger_than_one_flush(small_model, monkeypatch):
    monkeypatch.setattr("plugins.categorisation.cli.BATCH", 3)
    lines = "".join(json.dumps({"id": i, "text": f"card {i}"}) + "\n" for i in range(10))
    _, rows, _ = run(lines, model=small_model)
    assert [r["id"] for r in rows] == list(range(10))


def test_model_path_is_loaded(small_model_dir, tmp_path):
    _, rows, _ = run('{"id": 1, "text": "top up failed"}\n', model_path=small_model_dir)
    assert len(rows) == 1
    with pytest.raises(ModelError):
        run('{"id": 1, "text": "x"}\n', model_path=tmp_path / "missing")


@pytest.mark.e2e
def test_deskbridge_classify_command():
    proc = subprocess.run([sys.executable, "-m", "hub.cli", "classify"],
                          input='{"id": "t1", "text": "I forgot my passcode"}\n',
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    assert (row["id"], row["category"]) == ("t1", "account_access")
    assert row["confidence"] > 0.6
