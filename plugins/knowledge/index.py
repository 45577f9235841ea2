"""TF-IDF cosine search over articles, in numpy with an inverted index.

Each term keeps a posting list (article rows, weights of the L2-normalised article vectors), so a query only
touches the articles that share a term with it: the cost follows the postings of the query's terms, not the
size of the knowledge base. ``BruteForce`` is the plain scan the benchmark compares against.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from plugins.knowledge.articles import Article

_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset("""
a about after again all also am an and any are as at be been before being but by can could did do does doing
don for from had has have having he her here hers him his how i if in into is it its just me more most my no
nor not now of off on once only or other our out over own same she should so some such than that the their
them then there these they this those through to too under until up very was we were what when where which
while who why will with would you your yours please hi hello thanks thank dear regards get got need want
""".split())
TITLE_WEIGHT = 3  # a title word says more about an article than a body word


def stem(word: str) -> str:
    """A light suffix stripper: plurals and common verb endings, enough to match "charges" with "charged"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """Stemmed unigrams without stop words, plus the bigrams of neighbouring kept words."""
    words = [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def article_terms(article: Article) -> Counter:
    counts = Counter(terms(article.body))
    for term in terms(" ".join([article.title, *article.tags])):
        counts[term] += TITLE_WEIGHT
    return counts


@dataclass(frozen=True)
class Match:
    article: Article
    score: float


class Index:
    """Built once per set of articles; ``search`` is thread-safe (read-only arrays)."""

    def __init__(self, articles: list[Article]):
        self.articles = list(articles)
        counted = [article_terms(a) for a in self.articles]
        n = len(self.articles)
        df = Counter(t for c in counted for t in c)
        self.idf = {t: math.log((1 + n) / (1 + d)) + 1.0 for t, d in df.items()}
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for row, counts in enumerate(counted):
            weights = {t: (1.0 + math.log(c)) * self.idf[t] for t, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for t, w in weights.items():
                rows, values = postings.setdefault(t, ([], []))
                rows.append(row)
                values.append(w / norm)
        self.postings = {t: (np.asarray(r, dtype=np.int32), np.asarray(v, dtype=np.float64))
                         for t, (r, v) in postings.items()}

    def query_vector(self, text: str) -> dict[str, float]:
        """The query's TF-IDF weights over known terms, L2-normalised (empty when nothing is known)."""
        counts = Counter(t for t in terms(text) if t in self.idf)
        weights = {t: (1.0 + math.log(c)) * self.idf[t] for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {t: w / norm for t, w in weights.items()} if norm else {}

    def search(self, text: str, k: int = 3, threshold: float = 0.0) -> list[Match]:
        """The ``k`` best articles by cosine similarity, best first, each scoring at least ``threshold``."""
        query = self.query_vector(text)
        if not query or not self.articles:
            return []
        rows = np.concatenate([self.postings[t][0] for t in query])
        values = np.concatenate([self.postings[t][1] * q for t, q in query.items()])
        scores = np.bincount(rows, weights=values, minlength=len(self.articles))
        return _top(self.articles, scores, k, threshold)


def _top(articles: list[Article], scores: np.ndarray, k: int, threshold: float) -> list[Match]:
    candidates = np.flatnonzero(scores >= max(threshold, 1e-12))
    if candidates.size > k:
        candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
    # Ties break on slug so the same ticket always gets the same suggestions.
    ordered = sorted(candidates.tolist(), key=lambda r: (-round(float(scores[r]), 9), articles[r].slug))
    return [Match(articles[r], round(float(scores[r]), 4)) for r in ordered[:k]]


class BruteForce:
    """The baseline: every article as a plain term → weight dict, and a full scan per query."""

    def __init__(self, index: Index):
        self.index = index
        self.vectors: list[dict[str, float]] = [{} for _ in index.articles]
        for t, (rows, values) in index.postings.items():
            for r, v in zip(rows.tolist(), values.tolist()):
                self.vectors[r][t] = v

    def search(self, text: str, k: int = 3, threshold: float = 0.0) -> list[Match]:
        query = self.index.query_vector(text)
        if not query:
            return []
        scores = np.array([sum(q * vec.get(t, 0.0) for t, q in query.items()) for vec in self.vectors])
        return _top(self.index.articles, scores, k, threshold)
