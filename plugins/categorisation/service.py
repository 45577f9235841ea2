"""Deciding a ticket's category (rules, then the model) and acting on ticket events."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

from plugins.categorisation.config import Config
from plugins.categorisation.corrections import default_path, record_correction
from plugins.categorisation.model import CATEGORIES, SHIPPED_MODEL, Model, load_model
from plugins.categorisation.rules import evaluate, ticket_text

PLUGIN = "categorisation"
CRM_OPERATIONS = {"salesforce": ("update_case", "case_id"), "hubspot": ("update_ticket", "ticket_id")}
HUB_CREATES = frozenset({"create_ticket", "upsert_ticket"})
SYNC_ORIGIN = "sync"  # the origin of outbox writes made by the sync engine
_TEXT_KEPT = 4000  # enough of the ticket to learn from if an agent corrects it

_models: dict[tuple[str, int], Model] = {}
_models_lock = threading.Lock()


def get_model(path: Path | None = None) -> Model:
    """The model at ``path`` (None = shipped), loaded once per file version and shared by all threads."""
    directory = Path(path) if path is not None else SHIPPED_MODEL
    meta = (directory.parent if directory.is_file() else directory) / "model.json"
    stamp = meta.stat().st_mtime_ns if meta.exists() else 0
    key = (str(meta.resolve()), stamp)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            model = load_model(directory)
            _models.clear()  # keep only the current version of a model in memory
            _models[key] = model
        return model


def config_of(hub) -> Config:
    found = hub.plugin_config(PLUGIN)
    return found if isinstance(found, Config) else Config.model_validate(found or {})


def decide(ticket: Mapping, config: Config, model: Model) -> dict:
    """``{"category", "confidence", "source", "priority", "group", "needs_triage", …}`` for a ticket.

    A rule that sets a category wins with confidence 1.0; next a category the ticket already carries (its
    ``category`` or a tag named after one, e.g. set by the plugin that created it). Otherwise the model; below
    ``config.threshold`` the category is None, ``suggested`` holds the model's guess, the group is the
    default (triage) queue and ``needs_triage`` is True.
    """
    outcome = evaluate(config.rules, ticket)
    base = {"priority": outcome.priority, "rules": outcome.matched}
    if outcome.category is not None:
        return {**base, "category": outcome.category, "confidence": 1.0,
                "source": f"rule:{outcome.category_rule}", "needs_triage": False,
                "group": outcome.group or config.groups.get(outcome.category)}
    given = given_category(ticket)
    if given is not None:
        return {**base, "category": given, "confidence": 1.0, "source": "ticket", "needs_triage": False,
                "group": outcome.group or config.groups.get(given)}
    text = ticket_text(ticket)
    if not text:
        return {**base, "category": None, "suggested": None, "confidence": 0.0, "source": "model",
                "needs_triage": True, "group": outcome.group or config.default_group}
    category, confidence = model.predict([text])[0]
    confidence = round(confidence, 4)
    if confidence < config.threshold:
        return {**base, "category": None, "suggested": category, "confidence": confidence, "source": "model",
                "needs_triage": True, "group": outcome.group or config.default_group}
    return {**base, "category": category, "confidence": confidence, "source": "model", "needs_triage": False,
            "group": outcome.group or config.groups.get(category)}


def given_category(ticket: Mapping) -> str | None:
    """A category the ticket was created with: its ``category`` value or a tag named after a category."""
    found = ticket.get("category")
    if isinstance(found, str) and found in CATEGORIES:
        return found
    tags = ticket.get("tags")
    if isinstance(tags, (list, tuple)):
        for tag in tags:
            if tag in CATEGORIES:
                return tag
    return None


def ticket_of(data: Mapping) -> Mapping:
    """The ticket dict of an event body (``data`` itself or ``data["ticket"]``)."""
    inner = data.get("ticket")
    return inner if isinstance(inner, Mapping) else data


def rules_view(ticket: Mapping, enrichment: Mapping) -> dict:
    """The ticket as rules see it: customer and segment filled from enrichment when the ticket lacks them."""
    view = dict(ticket)
    customer = enrichment.get("customer")
    if isinstance(customer, Mapping):
        view.setdefault("customer", dict(customer))
    if not view.get("segment"):
        for source in (enrichment, view.get("customer") or {}):
            if isinstance(source, Mapping) and source.get("segment"):
                view["segment"] = source["segment"]
                break
    return view


def decide_for_event(event, ctx) -> dict | None:
    """The decision for a ticket event: from enrichment if a plugin put it there, else ``decide_category``."""
    found = event.enrichment.get("category")
    if isinstance(found, Mapping) and "category" in found:
        return dict(found)
    ticket = rules_view(ticket_of(event.data), event.enrichment)
    decided = ctx.hub.pm.hook.decide_category(ticket=ticket, ctx=ctx)
    return dict(decided) if isinstance(decided, Mapping) else None


def linked_records(system: str, ticket: Mapping) -> dict[str, str]:
    records = {system: str(ticket["id"])}
    links = ticket.get("links")
    if isinstance(links, Mapping):
        for other, record_id in links.items():
            if record_id:
                records.setdefault(str(other), str(record_id))
    return records


def on_ticket_created(event, ctx) -> None:
    """Write the category tag, field and group to the help desk and the field to linked CRM records."""
    ticket = ticket_of(event.data)
    if ticket.get("id") is None:
        return
    decision = decide_for_event(event, ctx)
    if decision is None:
        return
    config = config_of(ctx.hub)
    system = str(event.data.get("system") or ticket.get("system") or event.source)
    records = linked_records(system, ticket)
    category = decision.get("category")
    marker = category or "triage"
    for target, record_id in sorted(records.items()):
        order_key = f"{target}:ticket:{record_id}"
        key = f"{PLUGIN}:{target}:{record_id}:{marker}"
        if target == "zendesk":
            payload: dict = {"ticket_id": record_id,
                             "tags_add": [category] if category else [config.triage_tag]}
            if category:
                payload["fields"] = {config.category_field: category}
            if decision.get("group"):
                payload["group"] = decision["group"]
            ctx.emit("zendesk", "update_ticket", payload, key=key, order_key=order_key)
        elif target in CRM_OPERATIONS and category and config.crm_fields.get(target):
            operation, ref = CRM_OPERATIONS[target]
            ctx.emit(target, operation, {ref: record_id, "fields": {config.crm_fields[target]: category}},
                     key=key, order_key=order_key)
    store = ctx.state(PLUGIN)
    home = f"{system}:{records[system]}"
    store.set(f"ticket:{home}", {
        "text": ticket_text(ticket)[:_TEXT_KEPT],
        "category": category,
        "predicted": category or decision.get("suggested"),
        "confidence": decision.get("confidence"),
        "source": decision.get("source"),
    })
    for target, record_id in records.items():
        if target != system:
            store.set(f"alias:{target}:{record_id}", home)
    ctx.audit(PLUGIN, "categorise", home, category or config.triage_tag,
              confidence=decision.get("confidence"), source=decision.get("source"))


def on_ticket_written(action, result, ctx) -> None:
    """A help-desk ticket the hub created itself (e.g. from a banking or fraud event) gets its category too.

    Echo suppression keeps such tickets from coming back as ``ticket.created``, so the created record (the
    action payload plus the id the connector returned) is categorised here. Only tickets created with a
    category (a tag or ``category`` value) are taken: the creating plugin knows what the ticket is about, and
    a ticket pushed by sync from another system was categorised there through its own ``ticket.created``.
    """
    if action.system != "zendesk" or action.operation not in HUB_CREATES or not isinstance(result, Mapping):
        return
    if action.origin == SYNC_ORIGIN:
        return  # a copy sync made of a ticket from another system, categorised through its ticket.created
    if result.get("created") is False or result.get("id") is None:
        return  # an upsert that found the ticket already there: categorised when it was created
    ticket = dict(ticket_of(action.payload))
    if given_category(ticket) is None:
        return
    config = config_of(ctx.hub)
    fields = ticket.get("fields")
    if isinstance(fields, Mapping) and fields.get(config.category_field):
        return  # the creator wrote the field itself
    ticket["id"] = str(result["id"])
    if action.payload.get("external_id"):
        ticket.setdefault("external_id", action.payload["external_id"])
    created = SimpleNamespace(source=action.system, type="ticket.created", enrichment={},
                              data={**ticket, "system": action.system})
    on_ticket_created(created, ctx)


def changed_category(ticket: Mapping, field_title: str) -> str | None:
    """The category an update carries (custom field by title, or ``category``), if it is a known one."""
    fields = ticket.get("fields")
    value = fields.get(field_title) if isinstance(fields, Mapping) else None
    value = value or ticket.get("category")
    return value if isinstance(value, str) and value in CATEGORIES else None


def on_ticket_updated(event, ctx) -> None:
    """An agent set a different category than the one applied: record it as a correction."""
    ticket = ticket_of(event.data)
    if ticket.get("id") is None:
        return
    config = config_of(ctx.hub)
    new = changed_category(ticket, config.category_field)
    if new is None:
        return
    system = str(event.data.get("system") or ticket.get("system") or event.source)
    store = ctx.state(PLUGIN)
    home = store.get(f"alias:{system}:{ticket['id']}") or f"{system}:{ticket['id']}"
    record = store.get(f"ticket:{home}")
    # Only tickets this plugin categorised have a prediction to correct; our own write echoing back
    # carries the category already applied and is not a correction.
    if record is None or new == record.get("category"):
        return
    text = record.get("text") or ticket_text(ticket)
    if not text:
        return
    path = config.corrections_path or default_path(ctx.settings.data_dir)
    record_correction(path, text, record.get("predicted"), new, ticket=home, at=ctx.now())
    record["category"] = new
    store.set(f"ticket:{home}", record)
    ctx.audit(PLUGIN, "correction", home, new, predicted=record.get("predicted"))
