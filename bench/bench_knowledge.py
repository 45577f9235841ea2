"""Knowledge suggestions: top-3 TF-IDF search over an inverted index (numpy) against a brute-force scan.

Knowledge base: the 15 demo articles (``config/demo/knowledge``) plus synthetic articles made by recombining
their sentences with a seeded random vocabulary, so the term statistics stay support-like while the article
count grows. Queries: the subject and description of the sandbox's 100 seeded tickets, cycled. Both searches
run in the same process on the same index and must return the same articles (checked, and reported as a row).

Run alone: ``python -m bench.bench_knowledge [--quick]``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "config" / "demo" / "knowledge"


def _row(benchmark: str, metric: str, value: float, unit: str, baseline: float | None, note: str) -> dict:
    ratio = round(value / baseline, 3) if baseline else None
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 3), "unit": unit,
            "baseline": None if baseline is None else round(baseline, 3), "ratio": ratio, "note": note}


def synthetic_articles(count: int, seed: int = 11) -> list:
    """The demo articles, then ``count - 15`` recombined ones with invented words mixed in."""
    from plugins.knowledge.articles import Article, load_articles

    demo = load_articles(DEMO)
    sentences = [s.strip() for a in demo for s in re.split(r"(?<=[.!?])\s+", a.body) if len(s.split()) > 4]
    rng = random.Random(seed)
    invented = ["".join(rng.choice("abcdefghiklmnoprstuvwy") for _ in range(rng.randint(4, 9))) for _ in range(4000)]
    articles = list(demo)
    for i in range(max(0, count - len(demo))):
        body = " ".join(rng.sample(sentences, 6)) + " " + " ".join(rng.sample(invented, 25))
        source = rng.choice(demo)
        articles.append(Article(slug=f"synthetic-{i:05d}", title=f"{source.title} ({rng.choice(invented)})",
                                category=source.category, updated=dt.date(2026, 1, 1), owner="bench", body=body))
    return articles


def queries() -> list[str]:
    from hub.sandbox.seed import build_dataset

    return [f"{t.subject}\n{t.description}" for t in build_dataset().tickets]


def _rate(search, texts: list[str], min_seconds: float) -> tuple[float, list]:
    """Suggestions per second over whole passes of ``texts`` lasting at least ``min_seconds``."""
    done, results = 0, []
    started = time.perf_counter()
    while True:
        for text in texts:
            results.append(search(text))
        done += len(texts)
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return done / elapsed, results[: len(texts)]


def run(quick: bool) -> list[dict]:
    from plugins.knowledge.index import BruteForce, Index

    rows = []
    texts = queries()
    sizes = (300, 3000) if quick else (1000, 10000)
    for size in sizes:
        articles = synthetic_articles(size)
        started = time.perf_counter()
        index = Index(articles)
        build = time.perf_counter() - started
        brute = BruteForce(index)
        window = 0.5 if quick else 2.0
        fast_rate, fast = _rate(lambda t: index.search(t, k=3, threshold=0.12), texts, window)
        slow_rate, slow = _rate(lambda t: brute.search(t, k=3, threshold=0.12), texts, window)
        same = sum([m.article.slug for m in a] == [m.article.slug for m in b] for a, b in zip(fast, slow))
        suggested = sum(bool(a) for a in fast)
        rows.append(_row("knowledge", f"suggestions/s, {size} articles", fast_rate, "1/s", slow_rate,
                         f"top-3 cosine, inverted index vs full scan; {suggested}/{len(texts)} tickets got a note"))
        rows.append(_row("knowledge", f"same top-3 as brute force, {size} articles", 100.0 * same / len(texts), "%",
                         None, "identical article lists, in order"))
        rows.append(_row("knowledge", f"index build, {size} articles", build * 1000, "ms", None,
                         "tokenise, stem, TF-IDF weights, posting lists"))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row))
