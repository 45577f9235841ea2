"""Disputes at work: ``dispute.*`` events through the state machine, one Zendesk ticket per dispute with its
fields and a note per status change, customer notices with the status page link, refunds under policy, and the
bank told when the agent solves the ticket.

State keys (plugin ``disputes``): ``dispute:<id>`` → the record (``machine.new_record``), written only while an
event is processed; ``ticket:<external id>`` → dispute id; ``due:<id>`` → evidence due time still to remind
about (read by the reminder job); and keys written when an action is done, apart from the record so they never
race with an event's update of it: ``ticket_id:<id>`` → Zendesk ticket id, ``refund_result:<id>`` →
``{"state", "refund_id", "amount", "currency", "reason"}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from hub.clock import isoformat
from hub.pipeline import ActionRefused
from plugins.disputes import machine, messages
from plugins.disputes.config import config_of

PLUGIN = "disputes"
BANKING_SOURCES = ("banking", "stripe")
TICKET_SOURCES = ("sync", "zendesk")
# "created" too: the sync engine may first see the hub's ticket after the agent has already solved it.
TICKET_TYPES = ("ticket.created", "ticket.updated", "ticket.deleted")
log = logging.getLogger(__name__)


def _context(event) -> dict:
    found = event.enrichment.get("customer")
    return dict(found) if isinstance(found, Mapping) else {}


def order_key(record: Mapping) -> str:
    return f"zendesk:{record['external_id']}"


def status_link(hub, dispute_id: str) -> str | None:
    from plugins.disputes.web import link_for
    try:
        return link_for(hub, dispute_id)
    except Exception as exc:  # a missing secret must not stop the dispute's ticket
        log.warning("no dispute status link: %s", exc)
        return None


def effective_refund(store, record: Mapping) -> dict | None:
    """The money track: the bank's answer when there is one, else what the hub asked for."""
    return store.get(f"refund_result:{record['dispute_id']}") or record.get("refund")


def field_values(config, store, record: Mapping) -> dict:
    shown = dict(record, refund=effective_refund(store, record))
    return {config.ticket.status_field: machine.display_status(shown),
            config.ticket.due_field: record.get("evidence_due_by") or ""}


def push_fields(ctx, config, record: dict) -> None:
    record["rev"] += 1
    ctx.emit("zendesk", "update_ticket", {"external_id": record["external_id"],
                                          "fields": field_values(config, ctx.state(PLUGIN), record)},
             key=f"dispute-fields:{record['external_id']}:r{record['rev']}", order_key=order_key(record))


def note(ctx, record: Mapping, body: str, key: str) -> None:
    ctx.emit("zendesk", "add_comment", {"external_id": record["external_id"], "body": body, "public": False},
             key=key, order_key=order_key(record))


def handle_dispute_event(event, ctx) -> None:
    """``on_event`` for ``dispute.opened|updated|closed``."""
    config = config_of(ctx.hub)
    data = event.data
    dispute_id = data.get("dispute_id")
    if not dispute_id:
        return
    store = ctx.state(PLUGIN)
    key = f"dispute:{dispute_id}"
    record = store.get(key) or machine.new_record(dispute_id)
    created_at = event.payload.get("created_at") if isinstance(event.payload, Mapping) else None
    at = machine.normal_time(created_at, isoformat(event.received_at))
    change = machine.apply(record, f"{event.source}:{event.event_id}", event.type, data, at)
    if change["duplicate"]:
        return
    first = record.get("opened_at") is None
    context = _context(event)
    if first:
        record["opened_at"] = at
        if record["status"] is None:
            record["status"] = "opened"
        _open_ticket(ctx, config, record, context)
        store.set(f"ticket:{record['external_id']}", record["dispute_id"])
        _notify_customer(ctx, config, record)
    else:
        if change["status_changed"]:
            note(ctx, record, messages.status_note(record, change["previous"]),
                 key=f"dispute-note:{record['dispute_id']}:{record['status']}")
            if machine.is_final(record):
                _notify_customer(ctx, config, record)
        if change["status_changed"] or change["data_changed"]:
            push_fields(ctx, config, record)
    _apply_refund_policy(ctx, config, record, first, change)
    _index_reminder(store, config, record)
    store.set(key, record)
    ctx.audit(PLUGIN, event.type, record["dispute_id"], "applied" if change["status_changed"] or first else "kept",
              status=record["status"], previous=change["previous"], event_at=at)


def _open_ticket(ctx, config, record: dict, context: Mapping) -> None:
    options = config.ticket
    ticket = {"subject": messages.subject(record, context),
              "comment": {"body": messages.opening_comment(record, status_link(ctx.hub, record["dispute_id"])),
                          "public": False},  # the requester is the customer: the link is for agents to share
              "priority": options.priority, "tags": list(options.tags),
              "fields": field_values(config, ctx.state(PLUGIN), record)}
    if options.group:
        ticket["group"] = options.group
    if context.get("zendesk_user_id"):
        ticket["requester_id"] = context["zendesk_user_id"]
    elif context.get("email"):
        ticket["requester"] = {"name": context.get("name") or context["email"], "email": context["email"]}
    ctx.emit("zendesk", "upsert_ticket", {"external_id": record["external_id"], "ticket": ticket},
             key=f"dispute-ticket:{record['external_id']}", order_key=order_key(record))
    helper = ctx.hub.pm.get_plugin("customer_context")  # optional partner plugin, looked up rather than imported
    if helper is not None and context:
        helper.publish_context(ctx, {"external_id": record["external_id"]}, context, order_key=order_key(record))


def _notify_customer(ctx, config, record: Mapping) -> None:
    notice = config.customer_notice
    if not notice.enabled or not record.get("customer_id"):
        return
    link = status_link(ctx.hub, record["dispute_id"])
    ctx.emit("core_banking", "send_notification",
             {"customer_id": record["customer_id"], "channel": notice.channel, "template": "dispute_status",
              "message": messages.customer_message(record, link)},
             key=f"dispute-notice:{record['dispute_id']}:{record['status']}")


def _amount(record: Mapping) -> Decimal | None:
    try:
        return abs(Decimal(str(record.get("amount"))))
    except (InvalidOperation, ValueError):
        return None


def _apply_refund_policy(ctx, config, record: dict, first: bool, change: Mapping) -> None:
    policy = config.refund
    amount = _amount(record)
    if amount is None:
        return
    if first and policy.provisional_credit and not machine.is_final(record) \
            and amount <= policy.provisional_max_amount:
        request_refund(ctx, config, record, "provisional_credit")
    elif (change["status_changed"] or first) and record["status"] == "won" and policy.on_won:
        if policy.max_amount is not None and amount > policy.max_amount:
            ctx.audit(PLUGIN, "dispute.refund", record["dispute_id"], "skipped",
                      reason=f"amount above the automatic limit {policy.max_amount}")
            note(ctx, record, f"Dispute won; the refund of {messages.money(record)} is above the automatic limit "
                              f"{policy.max_amount}. Add the tag {policy.approve_tag} to issue it.",
                 key=f"dispute-refund-limit:{record['dispute_id']}")
            return
        request_refund(ctx, config, record, "dispute_won")


def request_refund(ctx, config, record: dict, why: str) -> bool:
    """Emit the dispute's one refund (gated by ``decide_action_allowed``). True if it was asked for."""
    store = ctx.state(PLUGIN)
    current = effective_refund(store, record) or {}
    if current.get("state") in ("provisional_credit", "refund_requested", "refund_issued"):
        return False
    if not record.get("transaction_id") or not record.get("customer_id"):
        return False
    attempt = int((record.get("refund") or {}).get("attempt", 0)) + (1 if current.get("state") ==
                                                                       "refund_failed" else 0)
    payload = {"customer_id": record["customer_id"], "transaction_id": record["transaction_id"],
               "amount": record.get("amount"), "reason": f"dispute {record['dispute_id']}: {why}",
               "dispute_id": record["dispute_id"]}
    try:
        # One money movement per dispute: the key is the bank's idempotency key; a new one only after a failure.
        ctx.emit("core_banking", "create_refund", payload,
                 key=f"dispute-refund:{record['dispute_id']}:{attempt}", order_key=f"refund:{record['dispute_id']}")
    except ActionRefused as exc:
        refusals = int((record.get("refund") or {}).get("refusals", 0)) + 1
        store.delete(f"refund_result:{record['dispute_id']}")  # an earlier failure is superseded by this answer
        record["refund"] = {"state": "refund_refused", "why": why, "reason": str(exc), "attempt": attempt,
                            "refusals": refusals, "at": isoformat(ctx.now())}
        ctx.audit(PLUGIN, "dispute.refund", record["dispute_id"], "refused", reason=str(exc), why=why)
        if refusals == 1 or why != "agent_approved":
            note(ctx, record, messages.refund_refused_note(record, str(exc), config.refund.approve_tag),
                 key=f"dispute-refund-refused:{record['dispute_id']}:{why}:{attempt}")
        return False
    store.delete(f"refund_result:{record['dispute_id']}")
    record["refund"] = {"state": "provisional_credit" if why == "provisional_credit" else "refund_requested",
                        "why": why, "attempt": attempt, "at": isoformat(ctx.now())}
    ctx.audit(PLUGIN, "dispute.refund", record["dispute_id"], "requested", why=why, amount=record.get("amount"))
    note(ctx, record, messages.refund_requested_note(record, why, str(record.get("amount"))),
         key=f"dispute-refund-note:{record['dispute_id']}:{attempt}")
    return True


def _index_reminder(store, config, record: Mapping) -> None:
    key = f"due:{record['dispute_id']}"
    due = record.get("evidence_due_by")
    if (config.reminder.enabled and record["status"] == "evidence_required" and due
            and record.get("reminded_for") != due):
        store.set(key, due)
    else:
        store.delete(key)


def handle_ticket_event(event, ctx) -> None:
    """The dispute's ticket changed in the help desk: an approval tag issues the refund; solved writes back."""
    data = event.data
    ticket = data.get("ticket") if isinstance(data.get("ticket"), Mapping) else data
    external_id = str(ticket.get("external_id") or "")
    if not external_id.startswith("dispute-"):
        return
    store = ctx.state(PLUGIN)
    dispute_id = store.get(f"ticket:{external_id}")
    record = store.get(f"dispute:{dispute_id}") if dispute_id else None
    if record is None:
        return
    config = config_of(ctx.hub)
    tags = {str(t) for t in ticket.get("tags") or []}
    status = "deleted" if event.type == "ticket.deleted" else str(ticket.get("status") or "").lower()
    changed = False
    if config.refund.approve_tag in tags and status != "deleted":
        changed = request_refund(ctx, config, record, "agent_approved")
        changed = changed or (record.get("refund") or {}).get("state") == "refund_refused"
    if status in ("solved", "closed") and config.write_back.enabled:
        changed = _write_back(ctx, config, record, tags) or changed
    if changed:
        push_fields(ctx, config, record)
        store.set(f"dispute:{dispute_id}", record)


def _write_back(ctx, config, record: dict, tags: set[str]) -> bool:
    target = next((s for tag, s in config.write_back.tags.items() if tag in tags), config.write_back.on_solve)
    if machine.is_final(record) or record.get("writeback") == target:
        return False
    if machine.bank_rank(target) <= machine.RANK.get(record["status"] or "opened", 0):
        return False  # the bank is there already (or further): nothing to tell it
    ctx.emit("core_banking", "update_dispute", {"dispute_id": record["dispute_id"], "status": target,
                                                "customer_id": record.get("customer_id")},
             key=f"dispute-writeback:{record['dispute_id']}:{target}", order_key=f"bank-dispute:{record['dispute_id']}")
    record["writeback"] = target
    note(ctx, record, messages.writeback_note(target), key=f"dispute-writeback-note:{record['dispute_id']}:{target}")
    ctx.audit(PLUGIN, "dispute.write_back", record["dispute_id"], "requested", status=target)
    return True


def handle_action_done(action, result, ctx) -> None:
    kind, _, rest = action.key.partition(":")
    store = ctx.state(PLUGIN)
    if kind == "dispute-ticket" and (result or {}).get("id"):
        dispute_id = store.get(f"ticket:{rest}")
        if dispute_id:
            store.set(f"ticket_id:{dispute_id}", str(result["id"]))
    elif kind == "dispute-refund" and action.operation == "create_refund":
        dispute_id = rest.rsplit(":", 1)[0]
        why = str(action.payload.get("reason") or "").rpartition(": ")[2]
        state = "provisional_credit" if why == "provisional_credit" else "refund_issued"
        _refund_outcome(ctx, dispute_id, {"state": state, "refund_id": (result or {}).get("id"),
                                          "amount": (result or {}).get("amount"),
                                          "currency": (result or {}).get("currency")},
                        messages.refund_done_note(result or {}, why), action.key)
    elif kind == "dispute-writeback" and action.operation == "update_dispute":
        ctx.audit(PLUGIN, "dispute.write_back", rest.rsplit(":", 1)[0], "ok", status=(result or {}).get("status"))


def handle_action_dead(action, reason, ctx) -> None:
    kind, _, rest = action.key.partition(":")
    store = ctx.state(PLUGIN)
    if kind == "dispute-refund" and action.operation == "create_refund":
        _refund_outcome(ctx, rest.rsplit(":", 1)[0], {"state": "refund_failed", "reason": str(reason)[:300]},
                        messages.refund_failed_note(reason), action.key)
    elif kind == "dispute-writeback" and action.operation == "update_dispute":
        dispute_id, _, target = rest.rpartition(":")
        record = store.get(f"dispute:{dispute_id}")
        if record:
            note(ctx, record, messages.writeback_failed_note(target, reason),
                 key=f"dispute-writeback-dead:{dispute_id}:{target}")
        ctx.audit(PLUGIN, "dispute.write_back", dispute_id, "failed", status=target, reason=str(reason)[:300])


def _refund_outcome(ctx, dispute_id: str, outcome: dict, body: str, action_key: str) -> None:
    store = ctx.state(PLUGIN)
    store.set(f"refund_result:{dispute_id}", outcome)
    record = store.get(f"dispute:{dispute_id}")
    ctx.audit(PLUGIN, "dispute.refund", dispute_id, outcome["state"], refund_id=outcome.get("refund_id"))
    if record is None:
        return
    config = config_of(ctx.hub)
    suffix = action_key.partition(":")[2]
    note(ctx, record, body, key=f"dispute-refund-outcome:{suffix}")
    ctx.emit("zendesk", "update_ticket", {"external_id": record["external_id"],
                                          "fields": field_values(config, store, record)},
             key=f"dispute-refund-fields:{suffix}", order_key=order_key(record))


def ensure_fields(hub) -> None:
    """Create the two ticket fields now, before any ticket names them (an unknown title dead-letters a write)."""
    config = config_of(hub)
    zendesk = hub.connectors.get("zendesk")
    if zendesk is not None:
        zendesk.execute("ensure_ticket_fields", {"fields": [{"title": config.ticket.status_field, "type": "text"},
                                                            {"title": config.ticket.due_field, "type": "text"}]},
                        "disputes:fields")
