"""Change of payout details: asked for by support, carried out only after the customer's fresh verification.

1. ``request_change`` (``POST /api/v1/identity/payout-changes``) checks the IBAN (shape and ISO 13616 mod-97),
   keeps the pending change in plugin state under the new challenge's id — holder, IBAN and BIC only encrypted
   (``sealing.py``), the IBAN's last 4 in clear — and sends the customer a one-time code for
   ``core_banking.update_payout_details``.
2. When that code is verified (customer page or agent API, ``verify_code``), ``on_verified`` emits
   ``identity.update_payout_details {customer_id, challenge, iban_last4}`` in the same transaction; the identity
   gate consumes that challenge's verification for it, so one verification changes the details once. The outbox
   row never holds the IBAN, not even encrypted.
3. ``PayoutSender`` (this plugin's ``identity`` connector) sends it: it checks the change is the one the customer
   verified (challenge consumed, same customer), opens the sealed details and calls
   ``core_banking.update_payout_details`` with the action's key ``payout:<challenge id>``, which the bank honours
   as ``Idempotency-Key``: a retry or a replay never makes a second change.
4. Done: audited (``payout.update`` ok, IBAN last 4 only), a note on the ticket, the sealed details deleted.
   Dead: audited failed, noted on the ticket; the sealed details stay so the dead letter can be replayed
   (``deskbridge dlq replay``) — the same verified change, same key — for ``payout_replay_days`` after it was
   first dead-lettered. Then the hourly purge deletes them, and a later replay fails saying so.
A change whose code expires or is superseded is never carried out; the purge deletes its details, and a new
request starts over.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from hub import clock
from hub.db import OutboxAction, dumps
from hub.errors import PermanentError
from hub.pipeline import EventContext
from plugins.identity.config import config_of
from plugins.identity.models import Challenge
from plugins.identity.sealing import SealError, payout_key, seal, unseal
from plugins.identity.tickets import NOTES

ACTION = "core_banking.update_payout_details"
SYSTEM, OPERATION = "identity", "update_payout_details"  # how the change is sent (service.GATED_AS)
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
    """Validate, keep the change pending (sealed), and send the customer a code for it (raises ``PayoutError`` or
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
    challenge_id, customer_id = created["challenge_id"], created["customer_id"]
    details = {"account_holder": holder.strip(), "iban": iban, "bic": bic.strip().upper() if bic else None}
    ctx.state(PLUGIN).set(_key(challenge_id), {
        "status": "awaiting_verification", "customer_id": customer_id, "iban_last4": iban[-4:],
        "sealed": seal(payout_key(ctx.hub), challenge_id, customer_id, details), "requested_by": requested_by,
        "requested_at": clock.isoformat(ctx.now())})
    ctx.audit(requested_by, "payout.request", f"customer:{customer_id}", "ok", challenge=challenge_id,
              iban_last4=iban[-4:])
    return {**created, "status": "awaiting_verification", "iban_last4": iban[-4:]}


def on_verified(ctx, challenge) -> None:
    """Called by ``verify_code`` on a successful code for this action: the pending change goes out now."""
    if challenge.action != ACTION:
        return
    state = ctx.state(PLUGIN)
    pending = state.get(_key(challenge.id))
    if not pending or pending.get("status") != "awaiting_verification" or not pending.get("sealed"):
        return  # a verification asked for by another path (API request without a change): nothing to carry out
    ctx.emit(SYSTEM, OPERATION, {"customer_id": challenge.customer_id, "challenge": challenge.id,
                                 "iban_last4": pending["iban_last4"]}, key=_key(challenge.id))
    state.set(_key(challenge.id), {**pending, "status": "sent", "ticket_system": challenge.ticket_system,
                                   "ticket_id": challenge.ticket_id})


def _replay_until(hub, pending: dict):
    """When a dead-lettered change stops being replayable (None while it has not been dead-lettered)."""
    if not pending.get("dead_at"):
        return None
    return clock.parse_time(pending["dead_at"]) + timedelta(days=config_of(hub).payout_replay_days)


def _past_window(hub, pending: dict) -> str | None:
    """Why a dead-lettered change may no longer be replayed, or None."""
    until = _replay_until(hub, pending)
    if until is None or clock.now() < until:
        return None
    days = f"{config_of(hub).payout_replay_days:g}"
    return (f"dead-lettered at {pending['dead_at']}, more than {days} days ago: its encrypted details were purged "
            "and it can no longer be replayed; ask the customer to request the change again and verify it")


class PayoutSender:
    """The ``identity`` connector: ``update_payout_details {customer_id, challenge}`` opens the sealed change at
    send time and hands it to ``core_banking``."""

    name = SYSTEM
    batch_operations: dict[str, int] = {}

    def __init__(self, hub):
        self.hub = hub

    def execute(self, operation: str, payload: dict, idempotency_key: str) -> dict:
        if operation != OPERATION:
            raise PermanentError(f"{SYSTEM}: unknown operation {operation!r}")
        bank = self.hub.connectors.get("core_banking")
        if bank is None:
            raise PermanentError(f"{SYSTEM}: a payout change needs the core_banking connector")
        challenge_id, customer_id = str(payload.get("challenge") or ""), str(payload.get("customer_id") or "")
        if not challenge_id or idempotency_key != _key(challenge_id):
            raise PermanentError(f"{SYSTEM}: a payout change is sent under its own key payout:<challenge>")
        with self.hub.db.session() as session:
            pending = EventContext(self.hub, session).state(PLUGIN).get(_key(challenge_id))
            challenge = session.get(Challenge, challenge_id)
            problem = self._refusal(pending, challenge, customer_id)
        if problem:
            raise PermanentError(f"{SYSTEM}: payout change {challenge_id}: {problem}")
        try:
            details = unseal(payout_key(self.hub), challenge_id, customer_id, pending["sealed"])
        except SealError as exc:
            raise PermanentError(f"{SYSTEM}: payout change {challenge_id}: {exc}") from None
        body = {"customer_id": customer_id, "account_holder": details["account_holder"], "iban": details["iban"]}
        if details.get("bic"):
            body["bic"] = details["bic"]
        answer = bank.execute("update_payout_details", body, idempotency_key)
        # Kept as the action's result: the bank's id and the last 4 only, never the IBAN.
        return {"id": answer.get("id"), "status": answer.get("status"),
                "iban_last4": answer.get("iban_last4") or details["iban"][-4:]}

    def _refusal(self, pending: dict | None, challenge, customer_id: str) -> str | None:
        """Why this change may not be sent (None: it is the change the customer verified, still sendable)."""
        if not pending:
            return "no such change was requested"
        if (challenge is None or challenge.action != ACTION or challenge.customer_id != customer_id
                or pending.get("customer_id") != customer_id):
            return "it is not the change the customer verified"
        if challenge.status != "consumed":
            return f"the customer's verification was not used for it (verification {challenge.status})"
        if pending.get("status") == "done":
            return "it was already carried out"
        late = _past_window(self.hub, pending)
        if late:
            return late
        if not pending.get("sealed"):
            return "its encrypted details are gone; ask the customer to request the change again"
        return None

    def check(self) -> dict:
        # Nothing of its own to reach (core_banking's check covers the bank): never what makes the hub unready.
        if "core_banking" in self.hub.connectors:
            return {"ok": True, "detail": "sends verified payout changes to core_banking"}
        return {"ok": True, "detail": "idle: core_banking is not connected, payout changes cannot be sent"}

    def close(self) -> None:
        pass


def _scrub_legacy(action, ctx) -> None:
    """A change queued before the details were sealed (``core_banking`` row with the IBAN): the IBAN leaves it."""
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
    if (action.system, action.operation) not in ((SYSTEM, OPERATION), ("core_banking", OPERATION)):
        return None
    if not action.key.startswith("payout:"):
        return None
    return action.key.split(":", 1)[1]


def _without_details(pending: dict) -> dict:
    return {k: v for k, v in pending.items() if k not in ("sealed", "iban")}


def on_done(action, result: dict, ctx) -> None:
    challenge_id = _challenge_of(action)
    if challenge_id is None:
        return
    _scrub_legacy(action, ctx)
    state = ctx.state(PLUGIN)
    pending = state.get(_key(challenge_id)) or {}
    last4 = result.get("iban_last4") or pending.get("iban_last4") or str(action.payload.get("iban", ""))[-4:]
    state.set(_key(challenge_id), {**_without_details(pending), "status": "done", "bank_id": result.get("id")})
    ctx.audit(ACTOR, "payout.update", f"customer:{action.payload.get('customer_id')}", "ok",
              challenge=challenge_id, iban_last4=last4, bank_id=result.get("id"))
    _note(ctx, challenge_id, f"Payout details changed at the bank to the account ending {last4}, after the customer "
                             "verified their identity with a one-time code.", "done-note")


def on_dead(action, reason: str, ctx) -> None:
    """Audited and noted; the sealed details stay for a replay within ``payout_replay_days`` of the first
    dead-lettering (deleted here already if that has passed)."""
    challenge_id = _challenge_of(action)
    if challenge_id is None:
        return
    _scrub_legacy(action, ctx)
    state = ctx.state(PLUGIN)
    pending = state.get(_key(challenge_id)) or {}
    failed = {**pending, "status": "failed", "reason": reason[:300],
              "dead_at": pending.get("dead_at") or clock.isoformat(ctx.now())}
    if _past_window(ctx.hub, failed):
        failed = {**_without_details(failed), "purged_at": failed.get("purged_at") or clock.isoformat(ctx.now())}
    state.set(_key(challenge_id), failed)
    ctx.audit(ACTOR, "payout.update", f"customer:{action.payload.get('customer_id')}", "failed",
              challenge=challenge_id, reason=reason[:300])
    until = _replay_until(ctx.hub, failed)
    replay = (f" If the failure was temporary, an admin can replay it from the dead-letter queue until "
              f"{clock.isoformat(until)} (the customer's verification covers that one change only)."
              if failed.get("sealed") else "")
    _note(ctx, challenge_id, f"The payout details change was refused by the bank: {reason[:200]}. Nothing was "
                             f"changed; ask the customer to check the details and request it again.{replay}",
          "failed-note")


def purge(hub) -> int:
    """Hourly: delete the sealed details of changes that can no longer be sent — dead-lettered longer ago than
    ``payout_replay_days``, or never verified (code expired, superseded, locked, undelivered). How many."""
    now = clock.now()
    purged = 0
    with hub.db.session() as session:
        ctx = EventContext(hub, session)
        state = ctx.state(PLUGIN)
        for key, pending in state.items("payout:"):
            if not pending.get("sealed") or pending.get("status") not in ("failed", "awaiting_verification"):
                continue
            state.lock(key)  # a verification or a send of this change in flight: decide on what it committed
            pending = state.get(key)
            challenge_id = key.split(":", 1)[1]
            if pending.get("status") == "failed":
                why = "replay window over" if _past_window(hub, pending) else None
            elif pending.get("status") == "awaiting_verification":
                challenge = session.get(Challenge, challenge_id)
                open_ = challenge is not None and challenge.status == "pending" and challenge.expires_at > now
                why = None if open_ else "never verified"
            else:
                why = None
            if why is None:
                continue
            state.set(key, {**_without_details(pending), "purged_at": clock.isoformat(now),
                            **({"status": "not_verified"} if why == "never verified" else {})})
            ctx.audit(ACTOR, "payout.purge", f"customer:{pending.get('customer_id')}", "ok", challenge=challenge_id,
                      reason=why)
            purged += 1
    return purged
