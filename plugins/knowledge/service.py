"""Suggesting articles on new tickets, remembering which tickets were later rated bad, and the stale report."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Mapping
from datetime import datetime

from hub.clock import isoformat
from hub.errors import ConfigError
from plugins.knowledge.articles import Article, load_articles
from plugins.knowledge.config import Config, articles_dir
from plugins.knowledge.index import Index, Match

log = logging.getLogger(__name__)
_configs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
PLUGIN = "knowledge"
CSAT_EVENTS = frozenset({"satisfaction.rated", "satisfaction_rating.created", "csat.rated"})
NOTE_HEADING = "Suggested knowledge-base articles (Deskbridge):"

_indexes: dict[tuple, Index] = {}
_lock = threading.Lock()


def config_of(hub) -> Config:
    """The validated block, once per hub: config never changes while the hub runs, and reading it means
    scanning the installed entry points (milliseconds, several times per event otherwise)."""
    found = _configs.get(hub)
    if found is None:
        raw = hub.plugin_config(PLUGIN)
        found = _configs[hub] = raw if isinstance(raw, Config) else Config.model_validate(raw or {})
    return found


def get_index(config: Config, settings) -> Index:
    """The index of the configured articles, rebuilt only when a file is added, removed or edited."""
    directory = articles_dir(config, settings)
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.md"))) if directory.is_dir() else ()
    key = (str(directory.resolve()), stamp)
    with _lock:
        index = _indexes.get(key)
        if index is None:
            index = Index(load_articles(directory))
            _indexes.clear()
            _indexes[key] = index
        return index


def link(config: Config, article: Article) -> str:
    return f"{config.base_url.rstrip('/')}/{article.slug}"


def note_for(config: Config, matches: list[Match]) -> str:
    lines = [NOTE_HEADING]
    lines += [f"- {m.article.title} — {link(config, m.article)} (match {m.score:.2f})" for m in matches]
    return "\n".join(lines)


def ticket_of(data: Mapping) -> Mapping:
    inner = data.get("ticket")
    return inner if isinstance(inner, Mapping) else data


def _home(store, system: str, record_id, external_id) -> str:
    for alias in (f"alias:{system}:{record_id}", f"alias:ext:{external_id}" if external_id else None):
        found = store.get(alias) if alias else None
        if found:
            return found
    return f"{system}:{record_id}"


def on_ticket_created(event, ctx, config: Config) -> None:
    """Suggest the best articles as one internal note on the help-desk ticket."""
    data = event.data
    ticket = ticket_of(data)
    if ticket.get("id") is None:
        return
    text = "\n".join(str(ticket.get(k) or "") for k in ("subject", "description")).strip()
    if not text:
        return
    system = str(data.get("system") or ticket.get("system") or event.source)
    links = ticket.get("links") if isinstance(ticket.get("links"), Mapping) else {}
    target = str(ticket["id"]) if system == "zendesk" else (str(links["zendesk"]) if links.get("zendesk") else None)
    if target is None:
        return  # the note is for agents in the help desk; a CRM-only record has no place for it
    store = ctx.state(PLUGIN)
    home = f"{system}:{ticket['id']}"
    if store.get(f"ticket:{home}") is not None:
        return  # suggested already (the event replayed)
    try:
        index = get_index(config, ctx.settings)
    except ConfigError as exc:
        # A broken article must not fail the event for every other plugin: no suggestions until it is fixed.
        log.error("knowledge base not loaded, no suggestions: %s", str(exc).splitlines()[0])
        return
    matches = index.search(text, k=config.top_k, threshold=config.threshold)
    if not matches:
        return
    ctx.emit("zendesk", "add_comment", {"ticket_id": target, "public": False, "body": note_for(config, matches)},
             key=f"{PLUGIN}:suggest:{home}", order_key=f"zendesk:ticket:{target}")
    store.set(f"ticket:{home}", {"articles": [m.article.slug for m in matches],
                                 "scores": [m.score for m in matches], "at": isoformat(ctx.now())})
    aliases = [f"alias:{other}:{rid}" for other, rid in links.items() if rid]
    if ticket.get("external_id"):
        aliases.append(f"alias:ext:{ticket['external_id']}")
    for alias in aliases:
        store.set(alias, home)
    for match in matches:
        stats = store.get(f"article:{match.article.slug}") or {"suggested": 0, "bad_tickets": []}
        stats["suggested"] += 1
        store.set(f"article:{match.article.slug}", stats)
    ctx.audit(PLUGIN, "knowledge.suggested", home, "ok", articles=[m.article.slug for m in matches])


def rating_score(value) -> str | None:
    """``good``/``bad`` from a rating dict (``{"score": …}``), a word or a 1–5 score."""
    if isinstance(value, Mapping):
        value = value.get("score", value.get("rating"))
    if isinstance(value, str):
        value = value.strip().lower()
        if value in ("good", "bad"):
            return value
        value = int(value) if value.isdigit() else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= 5:
        return "good" if value >= 4 else "bad"
    return None


def on_rating(event, ctx) -> None:
    """A rated ticket that had suggestions: a bad rating counts against each suggested article."""
    data = event.data
    csat = event.enrichment.get("csat")
    if event.type in CSAT_EVENTS:
        source = data.get("satisfaction_rating") if isinstance(data.get("satisfaction_rating"), Mapping) else data
        record_id, external = source.get("ticket_id") or data.get("ticket_id"), data.get("ticket_external_id")
    else:
        source = ticket_of(data).get("satisfaction_rating")
        record_id, external = ticket_of(data).get("id"), ticket_of(data).get("external_id")
    score = rating_score(csat) if isinstance(csat, Mapping) else rating_score(source)
    if score is None or record_id is None:
        return
    system = str(data.get("system") or event.source)
    store = ctx.state(PLUGIN)
    home = _home(store, system, record_id, external)
    suggested = store.get(f"ticket:{home}")
    if suggested is None or suggested.get("rating") == score:
        return
    suggested["rating"] = score
    store.set(f"ticket:{home}", suggested)
    for slug in suggested["articles"]:
        stats = store.get(f"article:{slug}") or {"suggested": 0, "bad_tickets": []}
        bad = [t for t in stats["bad_tickets"] if t != home] + ([home] if score == "bad" else [])
        stats["bad_tickets"] = bad
        store.set(f"article:{slug}", stats)


def stale_report(articles: list[Article], store, config: Config, now: datetime) -> dict:
    """Every article that is older than ``stale_after_days`` or was suggested on enough tickets later rated bad."""
    today = now.date()
    flagged = []
    for article in articles:
        stats = store.get(f"article:{article.slug}") or {"suggested": 0, "bad_tickets": []}
        reasons = []
        age = article.age_days(today)
        if age > config.stale_after_days:
            reasons.append(f"not updated for {age} days (limit {config.stale_after_days})")
        bad = len(stats["bad_tickets"])
        if bad >= config.bad_ratings_to_flag:
            reasons.append(f"suggested on {bad} ticket(s) later rated bad")
        if reasons:
            flagged.append({"slug": article.slug, "title": article.title, "category": article.category,
                            "owner": article.owner, "updated": article.updated.isoformat(), "age_days": age,
                            "suggested": stats["suggested"], "bad_tickets": sorted(stats["bad_tickets"]),
                            "link": link(config, article), "reasons": reasons})
    flagged.sort(key=lambda f: (-len(f["bad_tickets"]), -f["age_days"], f["slug"]))
    return {"generated_at": isoformat(now), "articles": len(articles), "flagged": len(flagged),
            "stale_after_days": config.stale_after_days, "bad_ratings_to_flag": config.bad_ratings_to_flag,
            "stale": flagged}


def run_stale_job(hub) -> dict:
    """The daily job: compute the report and keep it in plugin state (``report``)."""
    from hub import clock
    from hub.pipeline import StateStore

    config = config_of(hub)
    articles = get_index(config, hub.settings).articles
    with hub.db.session() as session:
        store = StateStore(session, PLUGIN)
        report = stale_report(articles, store, config, clock.now())
        store.set("report", report)
    return report
