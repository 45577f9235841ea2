"""Scoring tickets and customer comments, tagging and raising strongly negative ones, and handling ratings."""

from __future__ import annotations

import weakref
from collections.abc import Mapping

from plugins.sentiment.config import Config
from plugins.sentiment.csat import CSAT_EVENTS, followup_note, rating_of, record_rating
from plugins.sentiment.scorer import score_text

_configs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
PLUGIN = "sentiment"
PRIORITIES = ("low", "normal", "high", "urgent")
CATEGORIES = ("payments", "cards", "disputes", "fees", "kyc_verification", "account_management", "account_access",
              "compliance_fraud")


def config_of(hub) -> Config:
    """The validated block, once per hub: config never changes while the hub runs, and reading it means
    scanning the installed entry points (milliseconds, several times per event otherwise)."""
    found = _configs.get(hub)
    if found is None:
        raw = hub.plugin_config(PLUGIN)
        found = _configs[hub] = raw if isinstance(raw, Config) else Config.model_validate(raw or {})
    return found


def ticket_of(data: Mapping) -> Mapping:
    inner = data.get("ticket")
    return inner if isinstance(inner, Mapping) else data


def ticket_text(ticket: Mapping) -> str:
    return "\n".join(str(ticket.get(k) or "") for k in ("subject", "description")).strip()


def comment_of(data: Mapping) -> Mapping:
    inner = data.get("comment")
    return inner if isinstance(inner, Mapping) else data


def is_customer(comment: Mapping, config: Config) -> bool:
    role = str(comment.get("author_role") or "").strip().lower()
    return role in {r.lower() for r in config.customer_roles}


def scored(text: str, config: Config) -> dict:
    return score_text(text, neutral_band=config.neutral_band).as_dict(config.strong_negative)


def raised(priority: str | None) -> str:
    """One step up from ``priority`` (unknown or unset counts as ``normal``); ``urgent`` stays ``urgent``."""
    current = priority if priority in PRIORITIES else "normal"
    return PRIORITIES[min(PRIORITIES.index(current) + 1, len(PRIORITIES) - 1)]


def rank(priority: str | None) -> int:
    return PRIORITIES.index(priority) if priority in PRIORITIES else PRIORITIES.index("normal")


def category_of(ticket: Mapping, enrichment: Mapping) -> str | None:
    found = enrichment.get("category")
    if isinstance(found, Mapping):
        found = found.get("category")
    fields = ticket.get("fields") if isinstance(ticket.get("fields"), Mapping) else {}
    for value in (found, ticket.get("category"), fields.get("Category")):
        if isinstance(value, str) and value in CATEGORIES:
            return value
    return next((t for t in ticket.get("tags") or () if t in CATEGORIES), None)


# -- enrichment ---------------------------------------------------------------------------------------------------

def enrichment_for(event, config: Config) -> dict | None:
    """``{"sentiment": …}`` for a new ticket or a customer comment; ``{"csat": …}`` when a rating is present."""
    data = event.data if isinstance(event.data, Mapping) else {}
    out: dict = {}
    if event.type == "ticket.created":
        text = ticket_text(ticket_of(data))
        if text:
            out["sentiment"] = scored(text, config)
    elif event.type == "comment.created":
        comment = comment_of(data)
        if is_customer(comment, config) and comment.get("body"):
            out["sentiment"] = scored(str(comment["body"]), config)
    if event.type in ("ticket.created", "ticket.updated"):
        rating = rating_of(ticket_of(data).get("satisfaction_rating"))
    elif event.type in CSAT_EVENTS:
        source = data.get("satisfaction_rating") if isinstance(data.get("satisfaction_rating"), Mapping) else data
        rating = rating_of(source)
    else:
        rating = None
    if rating:
        out["csat"] = rating
    return out or None


# -- state per ticket ---------------------------------------------------------------------------------------------

def _home(store, system: str, record_id, external_id) -> str:
    for alias in (f"alias:{system}:{record_id}", f"alias:ext:{external_id}" if external_id else None):
        if alias and store.get(alias):
            return store.get(alias)
    return f"{system}:{record_id}"


def _remember(store, home: str, system: str, record_id, external_id, links: Mapping | None) -> None:
    aliases = [f"alias:{system}:{record_id}"] + ([f"alias:ext:{external_id}"] if external_id else [])
    aliases += [f"alias:{other}:{rid}" for other, rid in (links or {}).items() if rid]
    for alias in aliases:
        if store.get(alias) is None:
            store.set(alias, home)


def _zendesk_id(system: str, record_id, links) -> str | None:
    if system == "zendesk":
        return str(record_id)
    found = (links or {}).get("zendesk") if isinstance(links, Mapping) else None
    return str(found) if found else None


# -- acting --------------------------------------------------------------------------------------------------------

def _escalate(ctx, config: Config, record: dict, home: str, sentiment: dict, ticket_view: dict, cause: str) -> None:
    """Tag a strongly negative ticket once and raise its priority when ``decide_priority`` says so."""
    if record.get("tagged"):
        return
    target = record.get("zendesk_id")
    payload: dict = {"ticket_id": target, "tags_add": [config.negative_tag]}
    decided = None
    if config.raise_priority:
        decided = ctx.hub.pm.hook.decide_priority(ticket={**ticket_view, "sentiment": sentiment}, ctx=ctx)
        # Only our own answer is written: when another plugin decided first, the priority is its business.
        if decided == raised(record.get("priority")) and rank(decided) > rank(record.get("priority")):
            payload["priority"] = decided
            record["priority"] = decided
    record["tagged"] = True
    if target is not None:
        ctx.emit("zendesk", "update_ticket", payload, key=f"{PLUGIN}:negative:{home}",
                 order_key=f"zendesk:ticket:{target}")
    ctx.audit(PLUGIN, "sentiment.negative", home, "tagged" if target is not None else "no help-desk record",
              score=sentiment["score"], cause=cause,
              priority=payload.get("priority"))


def on_ticket(event, ctx, config: Config) -> None:
    data = event.data
    ticket = ticket_of(data)
    if ticket.get("id") is None:
        return
    system = str(data.get("system") or ticket.get("system") or event.source)
    store = ctx.state(PLUGIN)
    home = _home(store, system, ticket["id"], ticket.get("external_id"))
    record = store.get(f"ticket:{home}") or {}
    record["zendesk_id"] = record.get("zendesk_id") or _zendesk_id(system, ticket["id"], ticket.get("links"))
    if ticket.get("priority") in PRIORITIES:
        record["priority"] = ticket["priority"]
    record["category"] = category_of(ticket, event.enrichment) or record.get("category")
    _remember(store, home, system, ticket["id"], ticket.get("external_id"), ticket.get("links"))
    sentiment = event.enrichment.get("sentiment") if event.type == "ticket.created" else None
    if isinstance(sentiment, Mapping):
        record["score"] = sentiment["score"]
        # Sync names a record it first saw "<system>-<id>"; any other external id means the hub wrote the ticket
        # (a fraud or frozen-account case): its text is not a customer's mood, so it never raises priority.
        hub_written = ticket.get("external_id") not in (None, "", f"{system}-{ticket['id']}")
        if sentiment.get("strong") and not hub_written:
            _escalate(ctx, config, record, home, dict(sentiment), dict(ticket), "ticket")
    rating = event.enrichment.get("csat") or rating_of(ticket.get("satisfaction_rating"))
    store.set(f"ticket:{home}", record)
    if rating:
        _rated(ctx, config, store, home, record, rating)


def on_comment(event, ctx, config: Config) -> None:
    data = event.data
    comment = comment_of(data)
    ticket_id = comment.get("ticket_id") or data.get("ticket_id")
    if ticket_id is None:
        return
    system = str(data.get("system") or event.source)
    store = ctx.state(PLUGIN)
    external = comment.get("ticket_external_id") or data.get("ticket_external_id")
    home = _home(store, system, ticket_id, external)
    record = store.get(f"ticket:{home}") or {}
    record["zendesk_id"] = record.get("zendesk_id") or _zendesk_id(system, ticket_id, data.get("links"))
    _remember(store, home, system, ticket_id, external, data.get("links"))
    if not is_customer(comment, config):
        if comment.get("public", True) is not False and comment.get("author_email"):
            record["agent"] = str(comment["author_email"])  # the last agent who answered gets the rating
        store.set(f"ticket:{home}", record)
        return
    sentiment = event.enrichment.get("sentiment")
    if isinstance(sentiment, Mapping):
        record["score"] = sentiment["score"]
        if sentiment.get("strong"):
            view = {"id": ticket_id, "priority": record.get("priority"), "category": record.get("category"),
                    "description": str(comment.get("body") or "")}
            _escalate(ctx, config, record, home, dict(sentiment), view, "comment")
    store.set(f"ticket:{home}", record)


def on_rating_event(event, ctx, config: Config) -> None:
    data = event.data
    source = data.get("satisfaction_rating") if isinstance(data.get("satisfaction_rating"), Mapping) else data
    rating = event.enrichment.get("csat") or rating_of(source)
    ticket_id = source.get("ticket_id") or data.get("ticket_id")
    if not rating or ticket_id is None:
        return
    system = str(data.get("system") or event.source)
    store = ctx.state(PLUGIN)
    home = _home(store, system, ticket_id, data.get("ticket_external_id"))
    record = store.get(f"ticket:{home}") or {}
    record["zendesk_id"] = record.get("zendesk_id") or _zendesk_id(system, ticket_id, data.get("links"))
    store.set(f"ticket:{home}", record)
    _rated(ctx, config, store, home, record, rating)


def _rated(ctx, config: Config, store, home: str, record: Mapping, rating: Mapping) -> None:
    agent = rating.get("assignee") or record.get("agent")
    previous = record_rating(store, home, rating, record.get("category"), agent, ctx.now())
    if previous is None:
        return
    stored = store.get(f"csat:{home}")
    ctx.audit(PLUGIN, "csat.rated", home, rating["score"], category=stored["category"], agent=stored["agent"])
    target = record.get("zendesk_id")
    if target is None or not config.csat_followup:
        return
    order = f"zendesk:ticket:{target}"
    if rating["score"] == "bad":
        n = stored["bad_count"]
        ctx.emit("zendesk", "add_comment", {"ticket_id": target, "public": False,
                                            "body": followup_note(rating, stored["category"], stored["agent"])},
                 key=f"{PLUGIN}:csat:{home}:bad:{n}:note", order_key=order)
        ctx.emit("zendesk", "update_ticket", {"ticket_id": target, "tags_add": [config.csat_bad_tag]},
                 key=f"{PLUGIN}:csat:{home}:bad:{n}:tag", order_key=order)
    elif previous.get("score") == "bad":
        # The customer changed their mind: the follow-up tag no longer describes the ticket.
        ctx.emit("zendesk", "update_ticket", {"ticket_id": target, "tags_remove": [config.csat_bad_tag]},
                 key=f"{PLUGIN}:csat:{home}:good-after:{stored['bad_count']}", order_key=order)
