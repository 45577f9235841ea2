"""Knowledge-base articles: markdown files with a YAML front matter block (title, category, updated, owner)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from hub.errors import ConfigError, Problem

REQUIRED = ("title", "category", "updated", "owner")


@dataclass(frozen=True)
class Article:
    slug: str  # file name without ``.md``; the link is ``<base_url>/<slug>``
    title: str
    category: str
    updated: dt.date
    owner: str
    body: str
    tags: tuple[str, ...] = ()

    def age_days(self, today: dt.date) -> int:
        return (today - self.updated).days


def parse_article(path: Path) -> Article:
    """One article; ``ConfigError`` naming file, line and field when the front matter is missing or wrong."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ConfigError([Problem(str(path), 1, "front matter", "must start with a line '---'")])
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise ConfigError([Problem(str(path), 1, "front matter", "no closing '---' line")])
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 2
        raise ConfigError([Problem(str(path), line, "front matter", "not valid YAML")]) from exc
    if not isinstance(meta, dict):
        raise ConfigError([Problem(str(path), 2, "front matter", "must be a mapping of fields")])
    problems = []
    for name in REQUIRED:
        if meta.get(name) in (None, ""):
            problems.append(Problem(str(path), _line_of(lines, end, name), name, "is required"))
    updated = meta.get("updated")
    if isinstance(updated, str):
        try:
            updated = dt.date.fromisoformat(updated)
        except ValueError:
            updated = None
    if isinstance(updated, dt.datetime):
        updated = updated.date()
    if meta.get("updated") not in (None, "") and not isinstance(updated, dt.date):
        problems.append(Problem(str(path), _line_of(lines, end, "updated"), "updated", "must be a date YYYY-MM-DD"))
    if problems:
        raise ConfigError(problems)
    tags = meta.get("tags") or ()
    return Article(slug=path.stem, title=str(meta["title"]).strip(), category=str(meta["category"]).strip(),
                   updated=updated, owner=str(meta["owner"]).strip(), body="\n".join(lines[end + 1:]).strip(),
                   tags=tuple(str(t) for t in tags) if isinstance(tags, (list, tuple)) else (str(tags),))


def _line_of(lines: list[str], end: int, name: str) -> int:
    for i in range(1, end):
        if lines[i].split(":", 1)[0].strip() == name:
            return i + 1
    return 1


def load_articles(directory: Path) -> list[Article]:
    """Every ``*.md`` in ``directory`` (sorted by slug); all problems reported together in one ``ConfigError``."""
    if not directory.is_dir():
        raise ConfigError([Problem(str(directory), 0, "articles_dir", "is not a directory")])
    articles, problems = [], []
    for path in sorted(directory.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            articles.append(parse_article(path))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return articles
