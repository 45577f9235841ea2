"""Change of payout details: asked for by support, carried out only after the customer's fresh verification.

1. ``request_change`` (``POST /api/v1/identity/payout-changes``) checks the IBAN (shape and ISO 13616 mod-97),
   keeps the pending change in plugin state under the new challenge's id and sends the customer a one-time code
   for ``core_banking.update_payout_details``.
2. When that code is verified (customer page or agent API, ``verify_code``), ``on_verified`` emits
   ``core_banking.update_payout_details`` in the same transaction; the identity gate consumes the fresh
   verification for it, so one verification changes the details once. Key ``payout:<challenge id>``: a retry
   never sends a second change (the bank honours it as ``Idempotency-Key``).
3. Done: audited (``payout.update`` ok, IBAN last 4 only), a note on the ticket, and the full IBAN removed from
   the outbox row and the plugin state. Dead: audited failed and noted on the ticket.
A change whose code expires or is superseded is never carried out; a new request starts over.
"""

from __future__ import annotations

import json
import re

from hub.db import OutboxAction, dumps
from plugins.identity.tickets import NOTES

ACTION = "core_banking.update_payout_details"
PLUGIN = "identity"
ACTOR = "plugin:identity"
IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
BIC_RE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


class PayoutError(ValueError):
    """A payout change that cannot be requested as given (bad IBAN/BIC, missing holder)."""


def normalise_iban(value) -> str:
    iban = re.sub(r"[\s-]", "", value).upper() if isinstance(value, str) else ""
    if not IBAN_RE.match(iban):
        raise PayoutError("iban: not an IBAN (two letters, two check digits, 11-30 letters or digits)")
    if int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 != 1:
        raise PayoutError("iban: the check digits do not match (mistyped?)")
    return iban


def _key(challenge_id: str) -> str:
    return f"payout:{challenge_id}"


def request_change(ctx, body: dict, requested_by: str) -> dict:
    """Validate, keep the change pending, and send the customer a code for it (raises ``PayoutError`` or
    ``IdentityError``)."""
    from plugins.identity.service import request_verification

    holder = body.get("account_holder")
    if not isinstance(holder, str) or not holder.strip():
        raise PayoutError("account_holder: required")
    iban = normalise_iban(body.get("iban"))
    bic = body.get("bic")
    if bic is not None and not (isinstance(bic, str) and BIC_RE.match(bic.strip().upper())):
        raise PayoutError("bic: not a BIC (8 or 11 letters and digits)")
    created = request_verification(ctx, body.get("customer_id"), ACTION, requested_by, body.get("ticket_system"),
                                   body.get("ticket_id"))
    ctx.state(PLUGIN).set(_key(created["challenge_id"]), {
        "status": "awaiting_verification", "customer_id": created["customer_id"], "account_holder": holder.strip(),
        "iban": iban, "bic": bic.strip().upper() if bic else None, "requested_by": requested_by})
    ctx.audit(requested_by, "payout.request", f"customer:{created['customer_id']}", "ok",
              challenge=created["challenge_id"], iban_last4=iban[-4:])
    return {**created, "status": "awaiting_verification", "iban_last4": iban[-4:]}


def on_verified(ctx, challenge) -> None:
    """Called by ``verify_code`` on a successful code for this action: the pending change goes out now."""
    if challenge.action != ACTION:
        return
    state = ctx.state(PLUGIN)
    pending = state.get(_key(challenge.id))
    if not pending or pending.get("status") != "awaiting_verification":
        return  # a verification asked for by another path (API request without a change): nothing to carry out
    payload = {"customer_id": challenge.customer_id, "account_holder": pending["account_holder"],
               "iban": pending["iban"]}
    if pending.get("bic"):
        payload["bic"] = pending["bic"]
    ctx.emit("core_banking", "update_payout_details", payload, key=_key(challenge.id))
    state.set(_key(challenge.id), {**_masked(pending), "status": "sent", "ticket_system": challenge.ticket_system,
                                   "ticket_id": challenge.ticket_id})


def _masked(pending: dict) -> dict:
    out = {k: v for k, v in pending.items() if k != "iban"}
    if pending.get("iban"):
        out["iban_last4"] = pending["iban"][-4:]
    return out


def _scrub(action, ctx) -> None:
    row = ctx.session.get(OutboxAction, action.id)
    if row is None:
        return
    payload = json.loads(row.payload)
    if payload.get("iban"):
        payload["iban"] = f"(removed; ends {payload['iban'][-4:]})"
        row.payload = dumps(payload)


def _note(ctx, challenge_id: str, text: str, suffix: str) -> None:
    pending = ctx.state(PLUGIN).get(_key(challenge_id)) or {}
    system, ticket_id = pending.get("ticket_system"), pending.get("ticket_id")
    if system in NOTES and ticket_id and system in ctx.hub.connectors:
        operation, payload = NOTES[system](ticket_id, text)
        ctx.emit(system, operation, payload, key=f"{_key(challenge_id)}:{suffix}")


def _challenge_of(action) -> str | None:
    """The challenge id behind a payout change action; None for any other action."""
    if f"{action.system}.{action.operation}" != ACTION or not action.key.startswith("payout:"):
        return None
    return action.key.split(":", 1)[1]


def _settle(action, ctx, challenge_id: str, **outcome) -> None:
    """The change is finished: the full IBAN leaves the outbox row, ``outcome`` goes into the pending change."""
    _scrub(action, ctx)
    state = ctx.state(PLUGIN)
    state.set(_key(challenge_id), {**(state.get(_key(challenge_id)) or {}), **outcome})


def on_done(action, result: dict, ctx) -> None:
    challenge_id = _challenge_of(action)
    if challenge_id is None:
        return
    last4 = result.get("iban_last4") or str(action.payload.get("iban", ""))[-4:]
    _settle(action, ctx, challenge_id, status="done", bank_id=result.get("id"))
    ctx.audit(ACTOR, "payout.update", f"customer:{action.payload.get('customer_id')}", "ok",
              challenge=challenge_id, iban_last4=last4, bank_id=result.get("id"))
    _note(ctx, challenge_id, f"Payout details changed at the bank to the account ending {last4}, after the customer "
                             "verified their identity with a one-time code.", "done-note")


def on_dead(action, reason: str, ctx) -> None:
    challenge_id = _challenge_of(action)
    if challenge_id is None:
        return
    _settle(action, ctx, challenge_id, status="failed", reason=reason[:300])
    ctx.audit(ACTOR, "payout.update", f"customer:{action.payload.get('customer_id')}", "failed",
              challenge=challenge_id, reason=reason[:300])
    _note(ctx, challenge_id, f"The payout details change was refused by the bank: {reason[:200]}. Nothing was "
                             "changed; ask the customer to check the details and request it again.", "failed-note")
