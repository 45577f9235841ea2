"""Writing the context onto tickets: one internal note per change of context (hash per ticket in plugin
state), the custom fields beside it, and the fields themselves created at start-up.

State keys (plugin ``customer_context``): ``note:<system>:<ticket ref>`` → ``{"hash", "version"}``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping

from plugins.customer_context.config import config_of
from plugins.customer_context.fetch import ticket_of
from plugins.customer_context.render import context_hash, render_note, ticket_fields

PLUGIN = "customer_context"
FIELD_TYPES = {"segment": "text", "kyc_status": "text", "account_status": "text", "risk_score": "decimal"}
log = logging.getLogger(__name__)


def _ref(target: Mapping) -> str:
    if target.get("external_id"):
        return f"zendesk:ext:{target['external_id']}"
    if target.get("ticket_id") is not None:
        return f"zendesk:{target['ticket_id']}"
    raise ValueError("a ticket target needs ticket_id or external_id")


def context_fields(hub, context: Mapping, risk_score: float | None = None) -> dict:
    """``{field title: value}`` of the context, for a ticket created with its fields already set."""
    return ticket_fields(context, config_of(hub).fields, risk_score)


def publish_context(ctx, target: Mapping, context: Mapping, order_key: str | None = None,
                    risk_score: float | None = None, fields_sent: bool = False) -> bool:
    """Emit the context note (internal) and fields onto one Zendesk ticket — only if the context changed.

    :param target: ``{"ticket_id": …}`` or ``{"external_id": …}`` of the ticket.
    :param context: ``event.enrichment["customer"]``.
    :param order_key: keeps the note behind the action that creates the ticket.
    :param fields_sent: the caller's own write already carries ``context_fields`` (saves one update).
    :return: True if a note was emitted.
    """
    config = config_of(ctx.hub)
    target = {k: target[k] for k in ("ticket_id", "external_id") if target.get(k) is not None}
    ref = _ref(target)
    note = render_note(context, config.max_items)
    digest = context_hash(note)
    store = ctx.state(PLUGIN)
    known = store.get(f"note:{ref}") or {}
    fields = ticket_fields(context, config.fields, risk_score)
    order_key = order_key or f"zendesk:{ref}"
    if known.get("hash") == digest:
        risk_title = config.fields.risk_score
        if risk_title and risk_title in fields:  # a new score is news even when the context is not
            ctx.emit("zendesk", "update_ticket", {**target, "fields": {risk_title: fields[risk_title]}},
                     key=f"context-risk:{ref}:{fields[risk_title]}", order_key=order_key)
        return False
    version = int(known.get("version", 0)) + 1
    if fields and not fields_sent:
        ctx.emit("zendesk", "update_ticket", {**target, "fields": fields}, key=f"context-fields:{ref}:{version}",
                 order_key=order_key)
    ctx.emit("zendesk", "add_comment", {**target, "body": note, "public": False},
             key=f"context-note:{ref}:{version}", order_key=order_key)
    store.set(f"note:{ref}", {"hash": digest, "version": version})
    return True


def note_for_new_ticket(ctx, target: Mapping, context: Mapping) -> str | None:
    """The context note for the comment of a ticket being created, recorded as ``publish_context`` records the
    notes it emits — so a creator writes one ticket create instead of a create plus a note (Zendesk's create
    takes one ``comment``, internal with ``public: false``), and later events still add a note only when the
    context changes. ``None`` when the ticket already has this note. The caller sends ``context_fields``
    in the same create.
    """
    config = config_of(ctx.hub)
    ref = _ref({k: target[k] for k in ("ticket_id", "external_id") if target.get(k) is not None})
    note = render_note(context, config.max_items)
    digest = context_hash(note)
    store = ctx.state(PLUGIN)
    known = store.get(f"note:{ref}") or {}
    if known.get("hash") == digest:
        return None
    store.set(f"note:{ref}", {"hash": digest, "version": int(known.get("version", 0)) + 1})
    return note


def handle_ticket_event(event, ctx) -> None:
    """A ticket opened (or changed) in the help desk gets the customer's context, once per change."""
    config = config_of(ctx.hub)
    if not config.note_on_help_desk_tickets or event.type not in ("ticket.created", "ticket.updated"):
        return
    context = event.enrichment.get("customer")
    if not isinstance(context, Mapping) or not context.get("found"):
        return
    ticket = ticket_of(event.data)
    system = str(event.data.get("system") or ticket.get("system") or event.source)
    links = ticket.get("links") if isinstance(ticket.get("links"), Mapping) else {}
    zendesk_id = ticket.get("id") if system in ("zendesk", "sync") else links.get("zendesk")
    if zendesk_id is None:
        return
    if str(ticket.get("status") or "").lower() in ("solved", "closed", "deleted"):
        return
    # A ticket the hub created is tracked under its external id (the ref its creator used), so its echo
    # adds no second note; any other ticket by its Zendesk id (sync events carry canonical ids there).
    external_id = ticket.get("external_id")
    known = external_id and ctx.state(PLUGIN).get(f"note:{_ref({'external_id': external_id})}")
    target = {"external_id": external_id} if known else {"ticket_id": zendesk_id}
    publish_context(ctx, target, context, order_key=f"zendesk:ticket:{zendesk_id}")


def ensure_fields(hub) -> None:
    """Create the context fields in Zendesk if missing (start-up; a failure is logged by the hub)."""
    config = config_of(hub)
    zendesk = hub.connectors.get("zendesk")
    if not config.ensure_fields or zendesk is None:
        return
    titles = config.fields.model_dump()
    wanted = [{"title": title, "type": FIELD_TYPES[name]} for name, title in titles.items() if title]
    if wanted:
        key = "customer_context:fields:" + hashlib.sha256(repr(wanted).encode()).hexdigest()[:12]
        result = zendesk.execute("ensure_ticket_fields", {"fields": wanted}, key)
        log.info("customer context fields: %s", result)
