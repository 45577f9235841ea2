"""The categorisation model: inference, save and load (no pickle anywhere).

A model is two linear classifiers over the same TF-IDF features: one over the fine Banking77 intents and one
over the 8 help-desk categories. A category's score is the best score of its intents plus ``coarse_weight``
times the coarse score; the confidence is a softmax of the category scores at a fitted temperature.

On disk a model is a directory with ``weights.npz`` (numpy arrays only, read with ``allow_pickle=False``) and
``model.json`` (vocabulary and metadata, including the SHA-256 of ``weights.npz``, checked on load).
Training lives in :mod:`plugins.categorisation.training`; :func:`train` here is its entry point.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hub.errors import DeskbridgeError
from plugins.categorisation.features import Featurizer, linear_scores, normalise

CATEGORIES = ("payments", "cards", "disputes", "fees", "kyc_verification", "account_management",
              "account_access", "compliance_fraud")
FORMAT = "deskbridge-categoriser/1"
WEIGHTS_FILE = "weights.npz"
META_FILE = "model.json"
SHIPPED_MODEL = Path(__file__).resolve().parent / "data"


class ModelError(DeskbridgeError):
    """A model file is missing, corrupt, tampered with or of an unknown format."""


@dataclass
class Model:
    """A loaded classifier. ``predict`` is plain numpy."""

    featurizer: Featurizer
    categories: list[str]
    intents: list[str]
    intent_category: np.ndarray          # (n_intents,) index into categories
    weights: np.ndarray                  # (n_features, n_intents + n_categories) float32
    bias: np.ndarray                     # (n_intents + n_categories,) float32
    coarse_weight: float
    temperature: float
    metadata: dict = field(default_factory=dict)

    def category_scores(self, texts: list[str]) -> np.ndarray:
        """Raw category scores, shape ``(len(texts), len(categories))``."""
        raw = self.raw_scores(texts)
        n_intents = len(self.intents)
        fine, coarse = raw[:, :n_intents], raw[:, n_intents:]
        best = np.full((len(texts), len(self.categories)), -np.inf, dtype=np.float32)
        for c in range(len(self.categories)):
            members = self.intent_category == c
            if members.any():
                best[:, c] = fine[:, members].max(axis=1)
        # A category without intents (only possible with corrections-only labels) falls back to coarse.
        best = np.where(np.isfinite(best), best, 0.0)
        return best + self.coarse_weight * coarse

    def raw_scores(self, texts: list[str]) -> np.ndarray:
        """``features(texts) @ weights + bias`` for all intents and categories.

        Same result as featurising with ``Featurizer.transform``, but the character block is scored once per
        distinct word of the batch (see ``Featurizer.transform`` for why that is exact).
        """
        fz = self.featurizer
        offset = len(fz.word_vocab)
        id_lists: list[list[int]] = []
        slots: dict[str, int] = {}
        slot_of = slots.setdefault
        text_slots: list[int] = []
        slot_indptr = [0]
        for text in texts:
            norm = normalise(text)
            id_lists.append(fz.word_ids(norm))
            # setdefault's default is evaluated first, so a new word gets the next free slot
            text_slots.extend([slot_of(word, len(slots)) for word in norm.split(" ") if word])
            slot_indptr.append(len(text_slots))
        scores = linear_scores(fz.word_blocks(id_lists), self.weights[:offset], self.bias)
        if not slots:
            return scores
        per_word = [fz.word_char_features(word) for word in slots]
        lengths = np.array([len(ids) for ids, _ in per_word])
        ids = np.concatenate([ids for ids, _ in per_word])
        values = np.concatenate([v for _, v in per_word])
        zero = np.zeros(self.weights.shape[1], dtype=np.float32)
        word_scores = linear_scores((np.concatenate([[0], np.cumsum(lengths)]), ids, values),
                                    self.weights[offset:], zero)
        word_norm_sq = np.bincount(np.repeat(np.arange(len(per_word)), lengths), weights=values.astype(np.float64)
                                   ** 2, minlength=len(per_word))
        slot_ids = np.asarray(text_slots, dtype=np.int64)
        slot_ptr = np.asarray(slot_indptr, dtype=np.int64)
        numerator = linear_scores((slot_ptr, slot_ids, np.ones(len(slot_ids), np.float32)), word_scores, zero)
        rows = np.repeat(np.arange(len(texts)), np.diff(slot_ptr))
        norm_sq = np.bincount(rows, weights=word_norm_sq[slot_ids], minlength=len(texts))
        scale = np.divide(1.0, np.sqrt(norm_sq), out=np.zeros_like(norm_sq), where=norm_sq > 0)
        return scores + numerator * scale[:, None].astype(np.float32)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Calibrated category probabilities, rows summing to 1."""
        return softmax(self.category_scores(texts) / self.temperature)

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        """``(category, confidence)`` for each text, in order."""
        if not texts:
            return []
        proba = self.predict_proba(texts)
        best = proba.argmax(axis=1)
        return [(self.categories[j], float(proba[i, j])) for i, j in enumerate(best)]


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def save_model(model: Model, out: Path) -> Path:
    """Write ``out/weights.npz`` and ``out/model.json``; byte-for-byte reproducible. Returns ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {
        # float16 halves the shipped size; scores move by ~1e-3, far below the margins that decide a class.
        "weights": model.weights.astype(np.float16),
        "bias": model.bias.astype(np.float32),
        "word_idf": model.featurizer.word_idf.astype(np.float32),
        "char_idf": model.featurizer.char_idf.astype(np.float32),
        "intent_category": model.intent_category.astype(np.int16),
    }
    blob = _npz_bytes(arrays)
    meta = dict(model.metadata)
    meta.update({
        "format": FORMAT,
        "categories": list(model.categories),
        "intents": list(model.intents),
        "coarse_weight": model.coarse_weight,
        "temperature": model.temperature,
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
        "vocabulary": model.featurizer.to_json(),
    })
    _atomic_write(out / WEIGHTS_FILE, blob)
    _atomic_write(out / META_FILE, json.dumps(meta, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return out


def load_model(path: Path | None = None) -> Model:
    """Load a model directory (or its ``model.json``); ``None`` loads the shipped model."""
    directory = Path(path) if path is not None else SHIPPED_MODEL
    if directory.is_file():
        directory = directory.parent
    meta_path, weights_path = directory / META_FILE, directory / WEIGHTS_FILE
    for needed in (meta_path, weights_path):
        if not needed.is_file():
            raise ModelError(f"model file not found: {needed}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{meta_path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{meta_path}: unknown model format (expected {FORMAT})")
    blob = weights_path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != meta.get("weights_sha256"):
        raise ModelError(f"{weights_path}: SHA-256 {digest[:12]}… does not match model.json; refusing to load")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        featurizer = Featurizer.from_json(meta["vocabulary"], arrays["word_idf"], arrays["char_idf"])
        model = Model(
            featurizer=featurizer,
            categories=list(meta["categories"]),
            intents=list(meta["intents"]),
            intent_category=arrays["intent_category"].astype(np.int64),
            weights=arrays["weights"].astype(np.float32),
            bias=arrays["bias"].astype(np.float32),
            coarse_weight=float(meta["coarse_weight"]),
            temperature=float(meta["temperature"]),
            metadata={k: v for k, v in meta.items() if k != "vocabulary"},
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelError(f"{directory}: malformed model ({exc})") from None
    n_out = len(model.intents) + len(model.categories)
    if model.weights.shape != (featurizer.n_features, n_out) or model.bias.shape != (n_out,):
        raise ModelError(f"{directory}: weight shapes do not match the vocabulary and labels")
    if model.temperature <= 0:
        raise ModelError(f"{directory}: temperature must be positive")
    return model


def train(data_csv: Path, categories_csv: Path, out: Path,
          progress: Callable[[float, str], None] | None = None, **options) -> dict:
    """Train from labelled text, save to ``out``, return held-out metrics (see ``training.train``)."""
    from plugins.categorisation.training import train as _train

    return _train(data_csv, categories_csv, out, progress=progress, **options)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` with fixed zip timestamps, so the same arrays always give the same bytes and SHA-256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            array_bytes = io.BytesIO()
            np.lib.format.write_array(array_bytes, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, array_bytes.getvalue())
    return buffer.getvalue()


def _atomic_write(path: Path, payload: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)
