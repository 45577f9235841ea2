import numpy as np
import pytest

from plugins.categorisation.features import Featurizer, char_ngrams, linear_scores, normalise, word_ngrams

pytestmark = pytest.mark.unit

TEXTS = ["My card has not arrived", "Card still not arrived!!", "How do I top up by bank transfer?",
         "top up top up failed", ""]


def test_normalise_lowercases_and_collapses_space():
    assert normalise("  Lost\tMY   card\n") == "lost my card"


def test_word_and_char_ngrams():
    assert word_ngrams("my card is lost", 1, 2) == ["my", "card", "is", "lost", "my card", "card is", "is lost"]
    assert char_ngrams("ab", 2, 3) == [" a", "ab", "b ", " ab", "ab "]
    assert char_ngrams("a", 2, 5) == [" a", "a ", " a "]


def test_vocabulary_does_not_depend_on_input_order():
    a = Featurizer.fit(TEXTS)
    b = Featurizer.fit(list(reversed(TEXTS)))
    assert a.to_json() == b.to_json()
    assert np.array_equal(a.word_idf, b.word_idf) and np.array_equal(a.char_idf, b.char_idf)


def test_rarer_terms_weigh_more():
    fz = Featurizer.fit(TEXTS)
    assert fz.word_idf[fz.word_vocab["transfer"]] > fz.word_idf[fz.word_vocab["card"]]


def test_blocks_are_unit_length_and_empty_text_has_no_features():
    fz = Featurizer.fit(TEXTS, char_min_df=1)
    indptr, indices, data = fz.transform(TEXTS)
    offset = len(fz.word_vocab)
    for row in range(len(TEXTS) - 1):
        cols, vals = indices[indptr[row]:indptr[row + 1]], data[indptr[row]:indptr[row + 1]]
        word = vals[cols < offset]
        dense = np.zeros(fz.n_features)
        np.add.at(dense, cols[cols >= offset], vals[cols >= offset])
        assert np.isclose(np.linalg.norm(word), 1.0, atol=1e-5)
        # n-grams shared by two words add up, so the character block is at least unit length
        assert np.linalg.norm(dense) >= 1.0 - 1e-5
    assert indptr[-1] == indptr[-2]  # the empty text
    _, _, single = fz.transform(["arrived"])
    assert np.isclose(np.linalg.norm(single), np.sqrt(2), atol=1e-5)  # one unit word block, one unit char block


def test_unknown_words_give_no_word_features():
    fz = Featurizer.fit(TEXTS)
    _, indices, _ = fz.transform(["zzzqqq"])
    assert all(i >= len(fz.word_vocab) for i in indices)


def test_linear_scores_match_dense_product_with_empty_rows():
    rng = np.random.default_rng(0)
    dense = rng.random((7, 11)) * (rng.random((7, 11)) > 0.6)
    dense[2] = 0
    dense[6] = 0
    indptr, indices, data = [0], [], []
    for row in dense:
        nz = np.flatnonzero(row)
        indices.extend(nz)
        data.extend(row[nz])
        indptr.append(len(indices))
    weights = rng.standard_normal((11, 4)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    got = linear_scores((np.array(indptr), np.array(indices), np.array(data, np.float32)), weights, bias, chunk=3)
    assert np.allclose(got, dense @ weights + bias, atol=1e-5)
