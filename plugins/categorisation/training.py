"""Reproducible training of the categorisation model (needs scikit-learn; inference does not).

Recipe: word 1–2-gram + character 2–5-gram TF-IDF; a linear SVM over the fine intents and one over the
categories (combined as in :class:`~plugins.categorisation.model.Model`); the softmax temperature is fitted
on a calibration slice of the training part. Agents' corrections join the training part as one pseudo-intent
per corrected category. Fixed seeds, sorted vocabularies and a seeded stratified split make two runs on the
same data give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hub.errors import DeskbridgeError
from plugins.categorisation.corrections import default_path, load_corrections
from plugins.categorisation.features import Featurizer
from plugins.categorisation.model import CATEGORIES, Model, save_model

SEED = 7
HOLDOUT = 0.2
FINE_C = 1.0
COARSE_C = 0.5
COARSE_WEIGHT = 0.5
CALIBRATION_SHARE = 0.15
CORRECTION_INTENT = "correction:"


class TrainingDataError(DeskbridgeError):
    """Training data is missing or malformed (the message names the file and line)."""


@dataclass
class Dataset:
    texts: list[str]
    intents: list[str]
    intent_category: dict[str, str]
    sha256: str

    def categories_of(self, indices: Sequence[int]) -> list[str]:
        return [self.intent_category[self.intents[i]] for i in indices]


def read_dataset(data_csv: Path, categories_csv: Path) -> Dataset:
    """Read ``text,category`` (category = fine intent) rows and the ``intent,category`` mapping."""
    mapping = {row[0]: row[1] for row in _rows(Path(categories_csv), ("intent", "category"))}
    texts: list[str] = []
    intents: list[str] = []
    digest = hashlib.sha256()
    for line_no, (text, intent) in enumerate(_rows(Path(data_csv), ("text", "category")), start=2):
        if intent not in mapping:
            raise TrainingDataError(f"{data_csv}:{line_no}: category: intent {intent!r} is not in {categories_csv}")
        if text.strip():
            texts.append(text)
            intents.append(intent)
            digest.update(f"{text}\x1f{intent}\n".encode("utf-8"))
    if not texts:
        raise TrainingDataError(f"{data_csv}: no labelled rows")
    return Dataset(texts, intents, mapping, digest.hexdigest())


def _rows(path: Path, header: tuple[str, str]) -> list[tuple[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            first = next(reader, None)
            if first is None or tuple(h.strip() for h in first[:2]) != header:
                raise TrainingDataError(f"{path}:1: header: expected columns {','.join(header)}")
            rows = []
            for line_no, row in enumerate(reader, start=2):
                if len(row) < 2:
                    raise TrainingDataError(f"{path}:{line_no}: row: expected 2 columns, got {len(row)}")
                rows.append((row[0], row[1].strip()))
            return rows
    except OSError as exc:
        raise TrainingDataError(f"{path}: cannot read ({exc.strerror})") from None


def stratified_split(labels: Sequence[str], holdout: float, seed: int = SEED) -> tuple[list[int], list[int]]:
    """Deterministic stratified split: ``holdout`` of each label's rows (at least one when it has two or more)."""
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    rng = np.random.default_rng(seed)
    train_idx: list[int] = []
    test_idx: list[int] = []
    for label in sorted(by_label):
        members = np.array(by_label[label])
        rng.shuffle(members)
        n_test = int(round(len(members) * holdout))
        if holdout > 0 and len(members) >= 2:
            n_test = min(max(n_test, 1), len(members) - 1)
        test_idx.extend(members[:n_test].tolist())
        train_idx.extend(members[n_test:].tolist())
    return sorted(train_idx), sorted(test_idx)


def fit(texts: list[str], intents: list[str], intent_category: dict[str, str],
        progress: Callable[[float, str], None] | None = None, calibrate: bool = True) -> Model:
    """Fit a model on labelled texts; ``calibrate`` fits the temperature on a held-back slice first."""
    say = progress or (lambda _fraction, _message: None)
    temperature = 1.0
    if calibrate:
        inner_train, calib = stratified_split(intents, CALIBRATION_SHARE, seed=SEED + 1)
        if calib:
            say(0.15, f"calibrating confidence on {len(calib)} of {len(texts)} texts")
            probe = _fit_linear([texts[i] for i in inner_train], [intents[i] for i in inner_train],
                                intent_category)
            scores = probe.category_scores([texts[i] for i in calib])
            truth = np.array([probe.categories.index(intent_category[intents[i]]) for i in calib])
            temperature = fit_temperature(scores, truth)
    say(0.55, f"fitting on {len(texts)} texts")
    model = _fit_linear(texts, intents, intent_category)
    model.temperature = temperature
    return model


def _fit_linear(texts: list[str], intents: list[str], intent_category: dict[str, str]) -> Model:
    from scipy.sparse import csr_matrix
    from sklearn.svm import LinearSVC

    categories = [c for c in CATEGORIES if c in intent_category.values()]
    categories += sorted(set(intent_category.values()) - set(categories))
    intent_names = sorted(set(intents))
    featurizer = Featurizer.fit(texts)
    indptr, indices, data = featurizer.transform(texts)
    features = csr_matrix((data, indices, indptr), shape=(len(texts), featurizer.n_features))
    fine_y = np.array([intent_names.index(i) for i in intents])
    coarse_y = np.array([categories.index(intent_category[i]) for i in intents])
    fine_w, fine_b = _svm(LinearSVC(C=FINE_C, random_state=SEED, max_iter=5000), features, fine_y,
                          len(intent_names))
    coarse_w, coarse_b = _svm(LinearSVC(C=COARSE_C, random_state=SEED, max_iter=5000), features, coarse_y,
                              len(categories))
    return Model(
        featurizer=featurizer,
        categories=categories,
        intents=intent_names,
        intent_category=np.array([categories.index(intent_category[i]) for i in intent_names]),
        weights=np.hstack([fine_w, coarse_w]).astype(np.float32),
        bias=np.concatenate([fine_b, coarse_b]).astype(np.float32),
        coarse_weight=COARSE_WEIGHT,
        temperature=1.0,
    )


def _svm(estimator, features, labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Fit and return ``(n_features, n_classes)`` weights and biases; absent classes can never win."""
    weights = np.zeros((features.shape[1], n_classes))
    bias = np.full(n_classes, -10.0)
    present = np.unique(labels)
    if len(present) == 1:
        bias[present[0]] = 0.0
        return weights, bias
    estimator.fit(features, labels)
    coef, intercept = estimator.coef_, estimator.intercept_
    if len(present) == 2:  # liblinear returns one hyperplane for two classes
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    weights[:, estimator.classes_] = coef.T
    bias[estimator.classes_] = intercept
    return weights, bias


def fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature with the lowest negative log-likelihood (grid search, deterministic)."""
    best_t, best_nll = 1.0, np.inf
    for t in np.geomspace(0.02, 5.0, 80):
        z = scores / t
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -log_p[np.arange(len(truth)), truth].mean()
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return round(best_t, 6)


def evaluate(model: Model, texts: list[str], truth: list[str]) -> dict:
    """Accuracy, macro-F1 and per-category precision/recall/F1 on labelled texts."""
    predicted = [category for category, _ in model.predict(texts)]
    return classification_metrics(truth, predicted, model.categories)


def classification_metrics(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict:
    per_category = {}
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted) if t == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_category[label] = {"precision": round(precision, 4), "recall": round(recall, 4),
                               "f1": round(f1, 4), "support": tp + fn}
    supported = [m["f1"] for m in per_category.values() if m["support"]]
    correct = sum(1 for t, p in zip(truth, predicted) if t == p)
    return {
        "accuracy": round(correct / len(truth), 4) if truth else 0.0,
        "macro_f1": round(sum(supported) / len(supported), 4) if supported else 0.0,
        "n_test": len(truth),
        "per_category": per_category,
    }


def train(data_csv: Path, categories_csv: Path, out: Path, progress: Callable[[float, str], None] | None = None,
          *, holdout: float = HOLDOUT, corrections: Path | None = None, seed: int = SEED) -> dict:
    """Train, evaluate on a held-out stratified split, save to ``out``; return the metrics.

    The saved model is fitted on the training part only (``holdout`` > 0), so its reported and benchmarked
    figures are on texts it has never seen. ``holdout=0`` trains on everything and reports no test metrics.
    ``corrections`` defaults to :func:`corrections.default_path` (used when the file exists).
    ``progress(fraction, message)`` is told how far training has got (0.0 to 1.0).
    """
    say = progress or (lambda _fraction, _message: None)
    if not 0.0 <= holdout < 1.0:
        raise TrainingDataError(f"holdout must be in [0, 1), got {holdout}")
    say(0.0, f"reading {data_csv}")
    dataset = read_dataset(data_csv, categories_csv)
    train_idx, test_idx = stratified_split(dataset.intents, holdout, seed)
    texts = [dataset.texts[i] for i in train_idx]
    intents = [dataset.intents[i] for i in train_idx]
    mapping = dict(dataset.intent_category)
    corrections_path = Path(corrections) if corrections is not None else default_path()
    found = load_corrections(corrections_path, set(mapping.values()))
    for correction in found:
        pseudo = CORRECTION_INTENT + correction.corrected
        mapping[pseudo] = correction.corrected
        texts.append(correction.text)
        intents.append(pseudo)
    if found:
        say(0.05, f"including {len(found)} corrections from {corrections_path}")
    model = fit(texts, intents, mapping, progress=say)
    metrics: dict = {"n_train": len(texts), "n_corrections": len(found)}
    if test_idx:
        say(0.9, f"evaluating on {len(test_idx)} held-out texts")
        metrics.update(evaluate(model, [dataset.texts[i] for i in test_idx], dataset.categories_of(test_idx)))
    model.metadata = {
        "training": {
            "data_sha256": dataset.sha256,
            "rows": len(dataset.texts),
            "holdout": holdout,
            "seed": seed,
            "corrections": len(found),
            "corrections_sha256": hashlib.sha256(
                "\n".join(c.id for c in found).encode("utf-8")).hexdigest() if found else None,
            "recipe": {"fine_c": FINE_C, "coarse_c": COARSE_C, "coarse_weight": COARSE_WEIGHT,
                       "word_range": list(model.featurizer.word_range),
                       "char_range": list(model.featurizer.char_range)},
        },
        "metrics": metrics,
    }
    save_model(model, Path(out))
    say(1.0, f"saved model to {out}")
    return metrics
