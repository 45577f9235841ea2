import hashlib
import json
import zipfile

import numpy as np
import pytest

from plugins.categorisation.features import linear_scores
from plugins.categorisation.model import CATEGORIES, ModelError, load_model, save_model

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def shipped():
    return load_model()


@pytest.mark.parametrize("text, expected", [
    ("Someone stole my card, please block it", "compliance_fraud"),
    ("I forgot my passcode and can't log in", "account_access"),
    ("Why was I charged a fee for withdrawing cash?", "fees"),
    ("My transfer still hasn't arrived in the recipient's account", "payments"),
    ("There is a payment on my statement I don't recognise", "disputes"),
    ("How do I verify my identity?", "kyc_verification"),
    ("I want to close my account", "account_management"),
    ("When will my new card arrive?", "cards"),
])
def test_shipped_model_gets_clear_cases_right(shipped, expected, text):
    [(category, confidence)] = shipped.predict([text])
    assert category == expected
    assert 0.0 < confidence <= 1.0


def test_shipped_model_records_its_held_out_figures(shipped):
    assert shipped.categories == list(CATEGORIES)
    metrics = shipped.metadata["metrics"]
    assert metrics["accuracy"] >= 0.97 and metrics["n_test"] > 1900
    assert shipped.metadata["training"]["holdout"] == 0.2


def test_probabilities_sum_to_one_and_empty_inputs(shipped):
    proba = shipped.predict_proba(["card declined", "", "!!!", "x" * 5000])
    assert proba.shape == (4, 8)
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert shipped.predict([]) == []


def test_fast_scores_equal_plain_featurised_scores(shipped):
    texts = ["top up top up failed", "My card my card", "", "Où est ma carte ?", "refund refund refund please"]
    fast = shipped.raw_scores(texts)
    plain = linear_scores(shipped.featurizer.transform(texts), shipped.weights, shipped.bias)
    assert np.allclose(fast, plain, atol=1e-4)


def test_round_trip_gives_identical_predictions_and_bytes(small_model, tmp_path):
    save_model(small_model, tmp_path / "a")
    again = load_model(tmp_path / "a" / "model.json")
    texts = ["lost card", "transfer pending", "verify identity"]
    assert np.array_equal(again.predict_proba(texts), small_model.predict_proba(texts))
    save_model(again, tmp_path / "b")
    for name in ("weights.npz", "model.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_weights_file_has_no_pickled_objects(small_model_dir):
    with zipfile.ZipFile(small_model_dir / "weights.npz") as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    with np.load(small_model_dir / "weights.npz", allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)


def _copy(src, dst):
    dst.mkdir()
    for name in ("weights.npz", "model.json"):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


def test_tampered_weights_are_refused(small_model_dir, tmp_path):
    model_dir = _copy(small_model_dir, tmp_path / "m")
    blob = bytearray((model_dir / "weights.npz").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (model_dir / "weights.npz").write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="SHA-256"):
        load_model(model_dir)


def test_pickle_payload_with_matching_hash_is_still_refused(small_model_dir, tmp_path):
    model_dir = _copy(small_model_dir, tmp_path / "m")
    import io
    buffer = io.BytesIO()
    np.savez(buffer, weights=np.array([{"evil": 1}], dtype=object))
    (model_dir / "weights.npz").write_bytes(buffer.getvalue())
    meta = json.loads((model_dir / "model.json").read_text())
    meta["weights_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    (model_dir / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="malformed"):
        load_model(model_dir)


def test_missing_or_foreign_files_are_one_line_errors(small_model_dir, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "nothing")
    model_dir = _copy(small_model_dir, tmp_path / "m")
    (model_dir / "model.json").write_text('{"format": "other"}')
    with pytest.raises(ModelError, match="unknown model format"):
        load_model(model_dir)
    (model_dir / "model.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_model(model_dir)
