"""A small model trained once per session on the fixture sample (462 Banking77 rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "categorisation"
SAMPLE = FIXTURES / "train_sample.csv"
CATEGORIES = FIXTURES / "categories.csv"


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory) -> Path:
    from plugins.categorisation.model import train

    out = tmp_path_factory.mktemp("model")
    train(SAMPLE, CATEGORIES, out, corrections=out / "none.jsonl")
    return out


@pytest.fixture(scope="session")
def small_model(small_model_dir):
    from plugins.categorisation.model import load_model

    return load_model(small_model_dir)
