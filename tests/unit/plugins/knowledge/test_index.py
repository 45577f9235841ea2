"""TF-IDF search: the right article for typical tickets, threshold and k respected, and the inverted index
agreeing with the brute-force scan."""

import datetime as dt
import random
from pathlib import Path

import pytest

from plugins.knowledge.articles import Article, load_articles
from plugins.knowledge.index import BruteForce, Index, stem, terms

pytestmark = pytest.mark.unit
DEMO = Path(__file__).resolve().parents[4] / "config" / "demo" / "knowledge"


@pytest.fixture(scope="module")
def index():
    return Index(load_articles(DEMO))


@pytest.mark.parametrize("text,slug", [
    ("I was charged twice for the same coffee", "card-charged-twice"),
    ("Someone stole my card on the bus, please block it", "lost-or-stolen-card"),
    ("I'm locked out of the app after entering the wrong passcode", "locked-out-of-account"),
    ("There's a payment on my statement I don't recognise", "unrecognised-transaction"),
    ("How much does a SWIFT transfer cost?", "international-transfer-fees"),
    ("My passport photo was rejected during verification", "verify-your-identity"),
    ("My SEPA transfer to my landlord has not arrived", "payment-not-arrived"),
    ("Why was my card declined at the petrol station?", "card-declined"),
])
def test_typical_tickets_find_their_article_first(index, text, slug):
    assert index.search(text, k=3, threshold=0.05)[0].article.slug == slug


def test_results_are_ordered_bounded_and_above_threshold(index):
    found = index.search("refund for a card payment dispute with the merchant", k=3, threshold=0.05)
    assert 1 <= len(found) <= 3
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    assert all(0.05 <= m.score <= 1.0 for m in found)
    assert index.search("refund for a card payment dispute", k=3, threshold=0.99) == []


def test_unrelated_or_empty_text_suggests_nothing(index):
    assert index.search("", k=3) == []
    assert index.search("zebra giraffe xylophone", k=3) == []


def test_an_article_queried_with_its_own_text_scores_near_one(index):
    article = index.articles[0]
    best = index.search(f"{article.title} {article.title} {article.title} {article.body}", k=1)[0]
    assert best.article.slug == article.slug and best.score > 0.8


def test_inverted_index_agrees_with_brute_force_on_random_queries(index):
    brute = BruteForce(index)
    rng = random.Random(3)
    vocabulary = sorted({w for a in index.articles for w in a.body.split() if w.isalpha()})
    for _ in range(50):
        text = " ".join(rng.sample(vocabulary, 6))
        fast = [(m.article.slug, m.score) for m in index.search(text, k=3, threshold=0.01)]
        slow = [(m.article.slug, m.score) for m in brute.search(text, k=3, threshold=0.01)]
        assert fast == slow


def test_ties_break_by_slug_so_suggestions_are_stable():
    same = dict(title="Same", category="fees", updated=dt.date(2026, 1, 1), owner="o", body="fee fee")
    index = Index([Article(slug="b", **same), Article(slug="a", **same), Article(slug="c", **same)])
    assert [m.article.slug for m in index.search("fee", k=2)] == ["a", "b"]


def test_terms_stem_and_drop_stop_words():
    assert stem("charges") == "charg" == stem("charged") and stem("card") == "card" and stem("access") == "access"
    assert terms("The card was charged twice") == ["card", "charg", "twice", "card charg", "charg twice"]
