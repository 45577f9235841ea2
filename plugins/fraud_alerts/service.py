"""Fraud alerts at work: dedupe by alert id, correlate one customer's alerts into a case, one urgent ticket
per case (later alerts as internal notes), the fraud team notified, cards frozen only under policy, and the
case closed when its ticket is solved.

State keys (plugin ``fraud_alerts``): ``alert:<alert id>`` → case external id; ``open:<customer>`` → external
id of the customer's open case; ``case:<external id>`` → the case record (see ``new_case``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import timedelta

from hub.clock import isoformat, parse_time
from hub.pipeline import ActionRefused
from plugins.fraud_alerts import messages
from plugins.fraud_alerts.config import config_of

PLUGIN = "fraud_alerts"
CLOSED_STATUSES = ("solved", "closed", "deleted")
log = logging.getLogger(__name__)


def _safe_id(value) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(value))[:80]


def _event_time(event):
    created = event.payload.get("created_at") if isinstance(event.payload, Mapping) else None
    try:
        return parse_time(created) if isinstance(created, str) else event.received_at
    except ValueError:
        return event.received_at


def _context_helper(ctx):
    """The customer_context plugin module when enabled (looked up, not imported: plugins stay independent)."""
    return ctx.hub.pm.get_plugin("customer_context")


def new_case(alert: Mapping, at) -> dict:
    customer = str(alert["customer_id"])
    case_id = _safe_id(alert["alert_id"])
    return {"external_id": f"fraud-{_safe_id(customer)}-{case_id}", "case_id": case_id, "customer_id": customer,
            "status": "open", "opened_at": isoformat(at), "last_alert_at": isoformat(at), "count": 0,
            "max_score": 0.0, "alerts": [], "frozen_cards": [], "ticket_id": None, "closed_at": None}


def handle_alert(event, ctx) -> None:
    """``on_event`` for ``fraud.alert.created``."""
    config = config_of(ctx.hub)
    alert = event.data
    store = ctx.state(PLUGIN)
    alert_id = str(alert["alert_id"])
    if store.get(f"alert:{alert_id}"):
        return  # the same alert delivered again (new webhook id, same alert): nothing more to do
    customer = str(alert["customer_id"])
    context = event.enrichment.get("customer") if isinstance(event.enrichment.get("customer"), Mapping) else {}
    at = _event_time(event)
    case = None
    open_ref = store.get(f"open:{customer}")
    if open_ref:
        candidate = store.get(f"case:{open_ref}")
        window = timedelta(hours=config.window_hours)
        if candidate and candidate["status"] == "open" and abs(at - parse_time(candidate["last_alert_at"])) <= window:
            case = candidate
    opened = case is None
    if opened:
        case = new_case(alert, at)
    score = float(alert.get("risk_score") or 0)
    case["count"] += 1
    case["alerts"].append(alert_id)
    raised = score > case["max_score"]
    case["max_score"] = max(case["max_score"], score)
    if at > parse_time(case["last_alert_at"]):
        case["last_alert_at"] = isoformat(at)
    order_key = f"zendesk:{case['external_id']}"
    target = {"external_id": case["external_id"]}
    if opened:
        _open_ticket(ctx, config, alert, case, context, order_key)
    else:
        ctx.emit("zendesk", "add_comment", {**target, "body": messages.follow_up_note(alert, case["count"],
                                                                                       case["max_score"]),
                                            "public": False},
                 key=f"fraud-note:{alert_id}", order_key=order_key)
        if raised and config.ticket.risk_score_field:
            ctx.emit("zendesk", "update_ticket", {**target, "fields": {
                config.ticket.risk_score_field: round(case["max_score"], 4)}},
                key=f"fraud-score:{case['external_id']}:{case['max_score']}", order_key=order_key)
    if config.notify.webhook_url and (opened or config.notify.every_alert):
        ctx.emit("notify", "notify_webhook", {"url": config.notify.webhook_url,
                                              "json": messages.slack_message(alert, case, opened)},
                 key=f"fraud-notify:{alert_id}")
    _maybe_freeze(ctx, config, alert, case, context, order_key)
    store.set(f"alert:{alert_id}", case["external_id"])
    store.set(f"open:{customer}", case["external_id"])
    store.set(f"case:{case['external_id']}", case)
    ctx.audit("fraud_alerts", "fraud.alert", case["external_id"], "case_opened" if opened else "case_updated",
              alert_id=alert_id, customer_id=customer, risk_score=score)


def _open_ticket(ctx, config, alert: Mapping, case: dict, context: Mapping, order_key: str) -> None:
    """One ticket create carries everything: the alert, the customer context note, the context fields and the
    risk score (no separate note or field update to wait for, fewer writes to the help desk)."""
    helper = _context_helper(ctx)
    body = messages.opening_comment(alert, case["case_id"], config.window_hours)
    note = None
    if helper is not None and context:
        note = helper.note_for_new_ticket(ctx, {"external_id": case["external_id"]}, context)
    if note:
        body = f"{body}\n\n{note}"
    ticket = {"subject": messages.subject(alert, context),
              "comment": {"body": body, "public": False},  # the requester is the customer: nothing here is for them
              "priority": config.ticket.priority, "type": "incident", "tags": list(config.ticket.tags)}
    if config.ticket.group:
        ticket["group"] = config.ticket.group
    if context.get("zendesk_user_id"):
        ticket["requester_id"] = context["zendesk_user_id"]
    elif context.get("email"):
        ticket["requester"] = {"name": context.get("name") or context["email"], "email": context["email"]}
    fields = helper.context_fields(ctx.hub, context) if helper is not None and context else {}
    if config.ticket.risk_score_field:
        fields[config.ticket.risk_score_field] = round(float(alert.get("risk_score") or 0), 4)
    if fields:
        ticket["fields"] = fields
    ctx.emit("zendesk", "upsert_ticket", {"external_id": case["external_id"], "ticket": ticket},
             key=f"fraud-ticket:{case['external_id']}", order_key=order_key)


def _pick_card(alert: Mapping, context: Mapping) -> tuple[dict | None, str | None]:
    cards = [c for c in context.get("cards") or [] if isinstance(c, Mapping)]
    if alert.get("card_id"):
        found = [c for c in cards if c.get("id") == alert["card_id"]]
    elif messages.last4(alert):
        found = [c for c in cards if str(c.get("last4")) == messages.last4(alert)]
    else:
        return None, "the alert names no card"
    if not found:
        return None, "the alert's card is not among the customer's cards"
    if len(found) > 1:
        return None, "more than one card matches the alert"
    if found[0].get("status") == "frozen":
        return None, "the card is already frozen"
    return dict(found[0]), None


def _maybe_freeze(ctx, config, alert: Mapping, case: dict, context: Mapping, order_key: str) -> None:
    policy = config.auto_freeze
    if not policy.enabled:
        return
    score = float(alert.get("risk_score") or 0)
    card, reason = None, None
    if score < policy.min_risk_score:
        reason = f"risk score {score:.2f} is below {policy.min_risk_score:.2f}"
    elif not context.get("found"):
        reason = "no customer context from core banking"
    elif context.get("segment") not in policy.segments:
        reason = f"segment {context.get('segment')!r} is not eligible"
    else:
        card, reason = _pick_card(alert, context)
        if card is not None and card["id"] in case["frozen_cards"]:
            card, reason = None, "the card was already frozen in this case"
    detail = {"alert_id": str(alert["alert_id"]), "customer_id": case["customer_id"], "risk_score": score,
              "case": case["external_id"]}
    if card is None:
        ctx.audit("fraud_alerts", "card.auto_freeze", case["external_id"], "skipped", reason=reason, **detail)
        return
    try:
        ctx.emit("core_banking", "freeze_card", {"card_id": card["id"], "reason": f"fraud alert {alert['alert_id']}"},
                 key=f"fraud-freeze:{card['id']}:{case['external_id']}")
    except ActionRefused as exc:
        ctx.audit("fraud_alerts", "card.auto_freeze", card["id"], "refused", reason=str(exc), **detail)
        return
    case["frozen_cards"].append(card["id"])
    ctx.audit("fraud_alerts", "card.auto_freeze", card["id"], "requested", last4=card.get("last4"),
              threshold=policy.min_risk_score, **detail)
    ctx.emit("zendesk", "add_comment", {"external_id": case["external_id"], "public": False,
                                        "body": messages.freeze_note(alert, str(card.get("last4")),
                                                                     policy.min_risk_score)},
             key=f"fraud-freeze-note:{card['id']}:{case['external_id']}", order_key=order_key)


def handle_ticket_event(event, ctx) -> None:
    """Status write-back: the case's ticket solved, closed or deleted closes the case."""
    data = event.data
    ticket = data.get("ticket") if isinstance(data.get("ticket"), Mapping) else data
    external_id = str(ticket.get("external_id") or "")
    status = "deleted" if event.type == "ticket.deleted" else str(ticket.get("status") or "").lower()
    if not external_id.startswith("fraud-") or status not in CLOSED_STATUSES:
        return
    store = ctx.state(PLUGIN)
    case = store.get(f"case:{external_id}")
    if not case or case["status"] != "open":
        return
    case.update(status="closed", closed_at=isoformat(ctx.now()), closed_as=status)
    if ticket.get("id") is not None:
        case["ticket_id"] = str(ticket["id"])
    store.set(f"case:{external_id}", case)
    if store.get(f"open:{case['customer_id']}") == external_id:
        store.delete(f"open:{case['customer_id']}")
    ctx.audit("fraud_alerts", "fraud.case.closed", external_id, "ok", ticket_status=status,
              customer_id=case["customer_id"], alerts=case["count"])


def handle_action_done(action, result, ctx) -> None:
    """Remember the ticket id of a case; record a completed freeze in the audit log."""
    if action.key.startswith("fraud-ticket:"):
        store = ctx.state(PLUGIN)
        external_id = action.payload.get("external_id")
        case = store.get(f"case:{external_id}")
        if case and (result or {}).get("id"):
            case["ticket_id"] = str(result["id"])
            store.set(f"case:{external_id}", case)
    elif action.key.startswith("fraud-freeze:"):
        ctx.audit("fraud_alerts", "card.frozen", str(action.payload.get("card_id")), "ok",
                  case=action.key.split(":", 2)[2], status=(result or {}).get("status"))


def ensure_fields(hub) -> None:
    config = config_of(hub)
    zendesk = hub.connectors.get("zendesk")
    if zendesk is not None and config.ticket.risk_score_field:
        zendesk.execute("ensure_ticket_fields", {"fields": [{"title": config.ticket.risk_score_field,
                                                             "type": "decimal"}]}, "fraud_alerts:fields")
