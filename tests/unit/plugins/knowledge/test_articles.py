"""Loading articles: front matter parsed, problems named by file, line and field; the demo knowledge base."""

import datetime as dt
from pathlib import Path

import pytest

from hub.errors import ConfigError
from plugins.knowledge.articles import load_articles, parse_article

pytestmark = pytest.mark.unit
DEMO = Path(__file__).resolve().parents[4] / "config" / "demo" / "knowledge"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_article_fields_and_body(tmp_path):
    path = write(tmp_path, "card-fees.md", "---\ntitle: Card fees\ncategory: fees\nupdated: 2026-01-31\n"
                                           "owner: pricing\ntags: [atm, cash]\n---\nBody line one.\n\nTwo.\n")
    article = parse_article(path)
    assert (article.slug, article.title, article.category, article.owner) == ("card-fees", "Card fees", "fees",
                                                                               "pricing")
    assert article.updated == dt.date(2026, 1, 31) and article.tags == ("atm", "cash")
    assert article.body == "Body line one.\n\nTwo."
    assert article.age_days(dt.date(2026, 3, 2)) == 30


def test_missing_and_bad_fields_are_named_with_their_line(tmp_path):
    write(tmp_path, "a.md", "---\ntitle: A\ncategory: fees\nupdated: last week\n---\nx\n")
    write(tmp_path, "b.md", "no front matter\n")
    with pytest.raises(ConfigError) as caught:
        load_articles(tmp_path)
    lines = str(caught.value).splitlines()
    assert f"{tmp_path / 'a.md'}:1: owner: is required" in lines
    assert f"{tmp_path / 'a.md'}:4: updated: must be a date YYYY-MM-DD" in lines
    assert f"{tmp_path / 'b.md'}:1: front matter: must start with a line '---'" in lines


def test_a_missing_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="articles_dir: is not a directory"):
        load_articles(tmp_path / "nope")


def test_demo_knowledge_base_loads_with_every_field():
    articles = load_articles(DEMO)
    assert 10 <= len(articles) <= 20
    categories = {a.category for a in articles}
    assert categories <= {"payments", "cards", "disputes", "fees", "kyc_verification", "account_management",
                          "account_access", "compliance_fraud"}
    assert len(categories) == 8
    assert all(a.title and a.owner and a.body for a in articles)
