"""Banking events that become help-desk work: a failed payment (new payments ticket, or a note on the
customer's open one), a frozen account (high-priority account_access ticket), a KYC change (context note
refreshed on open tickets), and the write-back when one of those tickets is solved.

State keys (plugin ``banking_events``): ``payment:<payment id>`` → where it was noted; ``payments:<customer>``
→ external id of the hub's open payments ticket; ``frozen:<account id>`` → external id of the open
account-frozen ticket; ``ticket:<external id>`` → ``{"kind", "customer_id", "status", "pointer"}``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from plugins.banking_events.config import config_of

PLUGIN = "banking_events"
OPEN_STATUSES = ("new", "open", "pending", "hold")
CLOSED_STATUSES = ("solved", "closed", "deleted")
PAN_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")


def safe(value, limit: int = 200) -> str:
    """Free text with card-number-like digit runs masked to their last four."""
    text = str(value if value is not None else "").replace("\r", " ").strip()
    return PAN_LIKE.sub(lambda m: "•••• " + re.sub(r"\D", "", m.group(0))[-4:], text)[:limit]


def _ext_part(value) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(value))[:80]


def _context(event) -> dict:
    found = event.enrichment.get("customer")
    return dict(found) if isinstance(found, Mapping) else {}


def _tickets(event) -> list[dict]:
    return [t for t in event.enrichment.get("customer_tickets") or [] if isinstance(t, Mapping)]


def _order_key(target: Mapping) -> str:
    return f"zendesk:{target['external_id']}" if target.get("external_id") else f"zendesk:ticket:{target['ticket_id']}"


def _publish_context(ctx, target: Mapping, context: Mapping) -> None:
    helper = ctx.hub.pm.get_plugin("customer_context")  # optional partner plugin, looked up rather than imported
    if helper is not None and context:
        helper.publish_context(ctx, target, context, order_key=_order_key(target))


def _still_open(event, external_id: str) -> bool:
    """The hub's own ticket is open unless the help desk shows it solved (absent = not created yet)."""
    for ticket in _tickets(event):
        if ticket.get("external_id") == external_id:
            return str(ticket.get("status")) not in CLOSED_STATUSES
    return True


def _create_ticket(ctx, options, external_id: str, kind: str, customer: str, pointer: str, subject: str,
                   body: str, context: Mapping) -> dict:
    """Emit the ticket's upsert: its internal first comment (the requester is the customer) carries the event
    and the customer context note, and the create sets the context fields — one write, no note to follow."""
    target = {"external_id": external_id}
    helper = ctx.hub.pm.get_plugin("customer_context")
    note = helper.note_for_new_ticket(ctx, target, context) if helper is not None and context else None
    if note:
        body = f"{body}\n\n{note}"
    ticket = {"subject": subject, "comment": {"body": body, "public": False}, "priority": options.priority,
              "tags": list(options.tags), "type": "problem"}
    if options.group:
        ticket["group"] = options.group
    if context.get("zendesk_user_id"):
        ticket["requester_id"] = context["zendesk_user_id"]
    elif context.get("email"):
        ticket["requester"] = {"name": context.get("name") or context["email"], "email": context["email"]}
    fields = helper.context_fields(ctx.hub, context) if helper is not None and context else {}
    if fields:
        ticket["fields"] = fields
    ctx.emit("zendesk", "upsert_ticket", {"external_id": external_id, "ticket": ticket},
             key=f"banking-ticket:{external_id}", order_key=_order_key(target))
    store = ctx.state(PLUGIN)
    store.set(f"ticket:{external_id}", {"kind": kind, "customer_id": customer, "status": "open", "pointer": pointer})
    store.set(pointer, external_id)
    return target


def payment_failed(event, ctx) -> None:
    options = config_of(ctx.hub).payment_failed
    if not options.enabled:
        return
    data, store = event.data, ctx.state(PLUGIN)
    payment_id, customer = str(data["payment_id"]), str(data["customer_id"])
    if store.get(f"payment:{payment_id}"):
        return  # this payment's failure is already on a ticket
    context = _context(event)
    line = (f"Payment {safe(payment_id)} failed: {safe(data.get('amount'))} {safe(data.get('currency'))} "
            f"({safe(data.get('failure_code'))}).")
    target = None
    own = store.get(f"payments:{customer}")
    if own and _still_open(event, own):
        target = {"external_id": own}
    else:
        wanted = set(options.note_on_open_tags)
        for ticket in _tickets(event):
            if str(ticket.get("status")) in OPEN_STATUSES and wanted & set(ticket.get("tags") or []):
                target = ({"external_id": ticket["external_id"]} if ticket.get("external_id")
                          else {"ticket_id": ticket["id"]})
                break
    if target is None:
        external_id = f"payment-failed-{_ext_part(customer)}-{_ext_part(payment_id)}"
        subject = f"Payment failed: {safe(data.get('amount'))} {safe(data.get('currency'))} " \
                  f"({safe(data.get('failure_code'))}) — {safe(context.get('name') or customer, 80)}"
        body = f"{line}\nOpened by Deskbridge from the bank's payment.failed event; further failures for this " \
               f"customer are added here while the ticket is open."
        target = _create_ticket(ctx, options, external_id, "payments", customer, f"payments:{customer}", subject,
                                body, context)
    else:
        ctx.emit("zendesk", "add_comment", {**target, "body": line, "public": False},
                 key=f"payment-note:{payment_id}", order_key=_order_key(target))
        _publish_context(ctx, target, context)
    store.set(f"payment:{payment_id}", target)


def account_frozen(event, ctx) -> None:
    options = config_of(ctx.hub).account_frozen
    if not options.enabled:
        return
    data, store = event.data, ctx.state(PLUGIN)
    account, customer = str(data["account_id"]), str(data["customer_id"])
    current = store.get(f"frozen:{account}")
    if current and _still_open(event, current):
        return  # the account's freeze already has an open ticket
    context = _context(event)
    episode = hashlib.sha256(f"{event.source}:{event.event_id}".encode()).hexdigest()[:8]
    external_id = f"account-frozen-{_ext_part(account)}-{episode}"
    subject = f"Account {safe(account)} frozen: {safe(data.get('reason'), 120)} — " \
              f"{safe(context.get('name') or customer, 80)}"
    body = (f"Account {safe(account)} of customer {safe(customer)} was frozen by the bank.\n"
            f"Reason: {safe(data.get('reason'))}\nThe customer cannot move money until it is unfrozen; "
            f"expect contact about account access.")
    _create_ticket(ctx, options, external_id, "account_frozen", customer, f"frozen:{account}", subject, body,
                   context)


def account_unfrozen(event, ctx) -> None:
    data, store = event.data, ctx.state(PLUGIN)
    account = str(data["account_id"])
    external_id = store.get(f"frozen:{account}")
    if not external_id:
        return
    target = {"external_id": external_id}
    ctx.emit("zendesk", "add_comment", {**target, "public": False,
                                        "body": f"Account {safe(account)} was unfrozen by the bank. "
                                                f"Reason: {safe(data.get('reason'))}"},
             key=f"account-unfrozen:{event.source}:{event.event_id}", order_key=_order_key(target))
    _publish_context(ctx, target, _context(event))
    store.delete(f"frozen:{account}")


def kyc_changed(event, ctx) -> None:
    if not config_of(ctx.hub).refresh_context_on_kyc:
        return
    context = _context(event)
    if not context.get("found"):
        return
    targets, seen = [], set()
    for ticket in _tickets(event):
        if str(ticket.get("status")) in OPEN_STATUSES:
            target = ({"external_id": ticket["external_id"]} if ticket.get("external_id")
                      else {"ticket_id": ticket["id"]})
            targets.append(target)
            seen.add(ticket.get("external_id"))
    customer = str(event.data["customer_id"])
    # The hub's own tickets may not be in the help desk yet (their creation is still in the outbox).
    for key, record in ctx.state(PLUGIN).items("ticket:"):
        external_id = key.partition(":")[2]
        if record.get("customer_id") == customer and record.get("status") == "open" and external_id not in seen:
            targets.append({"external_id": external_id})
    for target in targets:
        _publish_context(ctx, target, context)


def ticket_closed(event, ctx) -> None:
    """Write-back: a hub ticket solved (or deleted) in the help desk frees its customer/account slot."""
    data = event.data
    ticket = data.get("ticket") if isinstance(data.get("ticket"), Mapping) else data
    external_id = ticket.get("external_id")
    status = "deleted" if event.type == "ticket.deleted" else str(ticket.get("status") or "").lower()
    if not external_id or status not in CLOSED_STATUSES:
        return
    store = ctx.state(PLUGIN)
    record = store.get(f"ticket:{external_id}")
    if not record or record.get("status") != "open":
        return
    record["status"] = status
    store.set(f"ticket:{external_id}", record)
    pointer = record.get("pointer")
    if pointer and store.get(pointer) == external_id:
        store.delete(pointer)
