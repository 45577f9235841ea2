"""Text features: word and character n-gram TF-IDF, written in plain Python + numpy.

The same code builds the vocabulary at training time and featurises at inference time, so the two can
never drift apart. Output is CSR-style arrays (``indptr``, ``indices``, ``data``) over one feature space
made of two blocks (words, then characters), each block L2-normalised on its own.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

_WORD = re.compile(r"\b\w+\b")
_SPACE = re.compile(r"\s+")
# Per-word character n-gram ids are cached: queries reuse a small vocabulary of words, and this is where
# inference spends its time.
_CHAR_CACHE_LIMIT = 200_000


def normalise(text: str) -> str:
    """Lower-case and collapse white space."""
    return _SPACE.sub(" ", text.lower()).strip()


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    """Word n-grams of a normalised text (tokens of one or more word characters)."""
    tokens = _WORD.findall(text)
    grams: list[str] = []
    for n in range(low, high + 1):
        if n == 1:
            grams.extend(tokens)
        else:
            grams.extend(map(" ".join, zip(*(tokens[k:] for k in range(n)))))
    return grams


def char_ngrams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of one word padded with spaces (like scikit-learn's ``char_wb``)."""
    padded = f" {word} "
    size = len(padded)
    grams: list[str] = []
    for n in range(low, high + 1):
        if n > size:
            break
        grams.extend(padded[i:i + n] for i in range(size - n + 1))
    return grams


@dataclass
class Featurizer:
    """Vocabulary, IDF weights and n-gram ranges of both feature blocks."""

    word_range: tuple[int, int]
    char_range: tuple[int, int]
    word_vocab: dict[str, int]
    char_vocab: dict[str, int]
    word_idf: np.ndarray
    char_idf: np.ndarray

    def __post_init__(self) -> None:
        self._char_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def n_features(self) -> int:
        return len(self.word_vocab) + len(self.char_vocab)

    @classmethod
    def fit(cls, texts: Sequence[str], word_range: tuple[int, int] = (1, 2),
            char_range: tuple[int, int] = (2, 5), word_min_df: int = 1, char_min_df: int = 2) -> Featurizer:
        """Build vocabularies (sorted, so the result does not depend on input order) and smooth IDF."""
        word_df: Counter[str] = Counter()
        char_df: Counter[str] = Counter()
        for text in texts:
            norm = normalise(text)
            word_df.update(set(word_ngrams(norm, *word_range)))
            char_df.update({g for w in norm.split(" ") if w for g in char_ngrams(w, *char_range)})
        n_docs = len(texts)

        def block(df: Counter[str], min_df: int) -> tuple[dict[str, int], np.ndarray]:
            terms = sorted(t for t, c in df.items() if c >= min_df)
            idf = np.array([math.log((1 + n_docs) / (1 + df[t])) + 1.0 for t in terms], dtype=np.float64)
            return {t: i for i, t in enumerate(terms)}, idf

        word_vocab, word_idf = block(word_df, word_min_df)
        char_vocab, char_idf = block(char_df, char_min_df)
        return cls(tuple(word_range), tuple(char_range), word_vocab, char_vocab, word_idf, char_idf)

    def word_char_features(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Character n-gram ids of one word and their weights ``(1 + ln tf) * idf`` (cached per word)."""
        found = self._char_cache.get(word)
        if found is None:
            counts = Counter(self.char_vocab[g] for g in char_ngrams(word, *self.char_range)
                             if g in self.char_vocab)
            ids = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            values = np.array([1.0 + math.log(c) for c in counts.values()]) * self.char_idf[ids]
            found = (ids, values.astype(np.float32))
            if len(self._char_cache) < _CHAR_CACHE_LIMIT:
                self._char_cache[word] = found
        return found

    def word_ids(self, norm: str) -> list[int]:
        """Vocabulary ids of a normalised text's word n-grams, repeats kept (for counting)."""
        get = self.word_vocab.get
        return [i for g in word_ngrams(norm, *self.word_range) if (i := get(g)) is not None]

    def word_blocks(self, id_lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The word block of many texts at once from their ``word_ids``: CSR arrays, same values as
        ``word_block`` but counted, weighted and normalised in numpy."""
        lengths = np.fromiter((len(ids) for ids in id_lists), dtype=np.int64, count=len(id_lists))
        flat = np.fromiter(chain.from_iterable(id_lists), dtype=np.int64, count=int(lengths.sum()))
        width = max(len(self.word_vocab), 1)
        keys, counts = np.unique(np.repeat(np.arange(len(id_lists)), lengths) * width + flat, return_counts=True)
        rows, cols = keys // width, keys % width
        values = (1.0 + np.log(counts)) * self.word_idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=values ** 2, minlength=len(id_lists)))
        values = values / norms[rows]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(id_lists)))])
        return indptr, cols, values.astype(np.float32)

    def word_block(self, norm: str) -> tuple[list[int], list[float]]:
        """Word n-gram ids and L2-normalised ``(1 + ln tf) * idf`` weights of a normalised text."""
        vocab = self.word_vocab
        counts = Counter(vocab[g] for g in word_ngrams(norm, *self.word_range) if g in vocab)
        if not counts:
            return [], []
        keys = list(counts)
        values = [(1.0 + math.log(counts[k])) * self.word_idf[k] for k in keys]
        scale = 1.0 / math.sqrt(sum(v * v for v in values))
        return keys, [v * scale for v in values]

    def transform(self, texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Featurise texts into CSR arrays ``(indptr, indices, data)`` with float32 values.

        The character block is built word by word: each word contributes its own n-gram weights (an n-gram
        in two words appears twice, summed by the consumer) and the block is divided by the root of the sum
        of the words' squared weights. That makes a text's character score a sum of per-word scores, which
        is what lets inference cache one score vector per distinct word.
        """
        offset = len(self.word_vocab)
        indptr = [0]
        indices: list[np.ndarray] = []
        data: list[np.ndarray] = []
        total = 0
        for text in texts:
            norm = normalise(text)
            keys, values = self.word_block(norm)
            if keys:
                indices.append(np.asarray(keys, dtype=np.int64))
                data.append(np.asarray(values, dtype=np.float32))
                total += len(keys)
            words = [self.word_char_features(w) for w in norm.split(" ") if w]
            norm_sq = sum(float(v @ v) for _, v in words)
            if norm_sq > 0:
                scale = np.float32(1.0 / math.sqrt(norm_sq))
                for ids, vals in words:
                    indices.append(ids + offset)
                    data.append(vals * scale)
                    total += len(ids)
            indptr.append(total)
        return (np.asarray(indptr, dtype=np.int64),
                np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
                np.concatenate(data) if data else np.zeros(0, dtype=np.float32))

    def to_json(self) -> dict:
        """Vocabularies as term lists ordered by feature index (IDF goes in the ``.npz``)."""
        return {
            "word_range": list(self.word_range),
            "char_range": list(self.char_range),
            "word_terms": sorted(self.word_vocab, key=self.word_vocab.__getitem__),
            "char_terms": sorted(self.char_vocab, key=self.char_vocab.__getitem__),
        }

    @classmethod
    def from_json(cls, meta: dict, word_idf: np.ndarray, char_idf: np.ndarray) -> Featurizer:
        word_terms, char_terms = meta["word_terms"], meta["char_terms"]
        if len(word_terms) != len(word_idf) or len(char_terms) != len(char_idf):
            raise ValueError("vocabulary and IDF sizes differ")
        return cls(tuple(meta["word_range"]), tuple(meta["char_range"]),
                   {t: i for i, t in enumerate(word_terms)}, {t: i for i, t in enumerate(char_terms)},
                   word_idf.astype(np.float64), char_idf.astype(np.float64))


def linear_scores(csr: tuple[np.ndarray, np.ndarray, np.ndarray], weights: np.ndarray,
                  bias: np.ndarray, chunk: int = 512) -> np.ndarray:
    """``X @ weights + bias`` for CSR rows ``X`` and a dense ``(n_features, k)`` matrix, in chunks."""
    indptr, indices, data = csr
    n_rows = len(indptr) - 1
    out = np.tile(bias.astype(np.float32), (n_rows, 1))
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        lo, hi = indptr[start], indptr[stop]
        if hi == lo:
            continue
        contrib = weights[indices[lo:hi]] * data[lo:hi, None]
        starts = indptr[start:stop] - lo
        nonempty = indptr[start + 1:stop + 1] > indptr[start:stop]
        sums = np.add.reduceat(contrib, starts[nonempty], axis=0)
        out[start:stop][nonempty] += sums
    return out
