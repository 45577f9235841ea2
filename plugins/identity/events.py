"""Hooks' work beyond the gate: requests from events and tagged tickets, and the code message's outcome."""

from __future__ import annotations

import json

from hub import clock
from hub.db import OutboxAction, dumps
from plugins.identity.config import config_of
from plugins.identity.models import Challenge
from plugins.identity.service import ACTOR, PLUGIN, IdentityError, request_verification
from plugins.identity.tickets import HELPDESKS, NOTES


def scrub_code(action, ctx) -> None:
    """Once the code message is sent (or given up on), the outbox row stops holding the code."""
    if action.system != "core_banking" or action.operation != "send_notification":
        return
    if not (action.key.startswith("identity:") and action.key.endswith(":code")):
        return
    row = ctx.session.get(OutboxAction, action.id)
    if row is None:
        return
    payload = json.loads(row.payload)
    payload["message"] = "(one-time code message sent; code removed)"
    row.payload = dumps(payload)


def code_undeliverable(action, reason: str, ctx) -> None:
    """The bank gave up on the code message (e.g. no phone on file): the challenge ends, the ticket says why."""
    scrub_code(action, ctx)
    if not (action.key.startswith("identity:") and action.key.endswith(":code")):
        return
    challenge = ctx.session.get(Challenge, action.key.split(":")[1])
    if challenge is None or challenge.status != "pending":
        return
    challenge.status = "undelivered"
    ctx.audit(ACTOR, "identity.request", f"customer:{challenge.customer_id}", "failed",
              gated_action=challenge.action, challenge=challenge.id, reason=reason[:200])
    system, ticket_id = challenge.ticket_system, challenge.ticket_id
    if system in NOTES and ticket_id and system in ctx.hub.connectors:
        operation, payload = NOTES[system](ticket_id, (
            f"Identity verification: the one-time code could not be sent by {challenge.channel} ({reason[:200]}). "
            "Check the customer's contact details at the bank or request a new code."))
        ctx.emit(system, operation, payload, key=f"identity:{challenge.id}:undelivered-note")


def handle_event(event, ctx) -> None:
    """``identity.requested`` events and tickets tagged with one of ``request_tags`` ask for a verification."""
    config = config_of(ctx.hub)
    data = event.data if isinstance(event.data, dict) else {}
    if event.type == "identity.requested":
        ticket = data.get("ticket") if isinstance(data.get("ticket"), dict) else {}
        try:
            request_verification(ctx, data.get("customer_id"), data.get("action"), f"event:{event.source}",
                                 ticket.get("system"), ticket.get("id"))
        except IdentityError as exc:
            ctx.audit(ACTOR, "identity.request", f"customer:{data.get('customer_id')}", "refused",
                      reason=str(exc))
        return
    if event.type not in ("ticket.created", "ticket.updated"):
        return
    system, ticket_id = str(data.get("system") or event.source), data.get("id")
    tags = [t for t in (data.get("tags") or []) if t in config.request_tags]
    if system not in HELPDESKS or ticket_id is None or not tags:
        return
    state = ctx.state(PLUGIN)
    for tag in tags:
        key = f"tag:{system}:{ticket_id}:{tag}"
        if state.get(key):
            continue
        state.set(key, {"at": clock.isoformat(ctx.now())})
        customer_id = data.get("customer_id")
        if not customer_id:
            ctx.emit(system, "add_internal_note", {"ticket_id": str(ticket_id), "public": False, "body":
                     "Identity verification not sent: this ticket has no linked bank customer."},
                     key=f"identity:{system}:{ticket_id}:{tag}:nocust")
            continue
        try:
            request_verification(ctx, str(customer_id), config.request_tags[tag], f"ticket:{system}:{ticket_id}",
                                 system, str(ticket_id))
            body = (f"One-time code sent to the customer by {config.channel} for {config.request_tags[tag]}; "
                    f"it expires in {config.code_ttl_seconds // 60} minutes.")
        except IdentityError as exc:
            body = f"Identity verification not sent: {exc}."
        ctx.emit(system, "add_internal_note", {"ticket_id": str(ticket_id), "body": body, "public": False},
                 key=f"identity:{system}:{ticket_id}:{tag}:request-note")
