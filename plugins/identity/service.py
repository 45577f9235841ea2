"""Step-up verification: issue one-time codes, check them, and let a gated action consume a fresh result.

A code is 6 digits from the CSPRNG; only ``HMAC-SHA256(key, challenge id : code)`` is stored, with a key derived
from the hub's secret key. A challenge is bound to one customer and one action, expires after
``code_ttl_seconds``, and once verified can be consumed exactly once, within ``verified_ttl_seconds``, by that
action for that customer. Failures are counted per customer over ``lockout_seconds``; reaching ``max_failures``
locks the customer out. Every request, attempt, lockout and consumption is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from hub import clock
from hub.errors import DeskbridgeError
from plugins.identity.config import config_of
from plugins.identity.models import Attempt, Challenge
from plugins.identity.tickets import record_on_ticket

PLUGIN = "identity"
ACTOR = "plugin:identity"
FAILURES = ("wrong_code", "wrong_customer", "wrong_action")
CODE_TEMPLATE = "identity_code"
ACTION_NAMES = {
    "core_banking.freeze_card": "freeze your card", "core_banking.unfreeze_card": "unfreeze your card",
    "core_banking.create_refund": "issue a refund",
    "core_banking.update_contact_details": "change your contact details",
    "core_banking.update_payout_details": "change your payout details",
    "documents.customer_download": "download a document",
}
# Actions sent through this plugin's connector, gated as the bank action they carry out. A payout change goes out
# as ``identity.update_payout_details`` (the connector opens the encrypted details at send time) and consumes the
# verification of its own challenge (``challenge`` in the payload), for ``core_banking.update_payout_details``.
GATED_AS = {"identity.update_payout_details": "core_banking.update_payout_details"}
MESSAGES = {
    "ok": "Thank you, your identity is verified.",
    "wrong_code": "That code is not right. Check the latest message and try again.",
    "wrong_customer": "That code is not right. Check the latest message and try again.",
    "wrong_action": "That code is not right. Check the latest message and try again.",
    "expired": "This code has expired. Ask support for a new one.",
    "used": "This code has already been used. Ask support for a new one if you need it.",
    "superseded": "A newer code was sent. Use the code from the latest message.",
    "locked": "Too many wrong codes. Verification is locked for now; contact support.",
    "no_challenge": "There is no code waiting for this request. Ask support for a new one.",
}


class IdentityError(DeskbridgeError):
    """A verification request that cannot be served (unknown action, locked customer, bad link)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass
class Outcome:
    ok: bool
    outcome: str
    challenge_id: str | None = None

    @property
    def message(self) -> str:
        return MESSAGES.get(self.outcome, MESSAGES["wrong_code"])


def _secret(hub) -> str:
    from hub.app import secret_key
    return secret_key(hub.settings)


def code_key(hub) -> bytes:
    """The HMAC key for codes, derived from the hub's secret key (never the secret itself)."""
    return hmac.new(_secret(hub).encode(), b"deskbridge.identity.codes.v1", hashlib.sha256).digest()


def code_hash(key: bytes, challenge_id: str, code: str) -> str:
    return hmac.new(key, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _serializer(hub) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(hub), salt="deskbridge.identity.verify")


def link_token(hub, challenge_id: str) -> str:
    return _serializer(hub).dumps({"c": challenge_id})


def read_link(hub, token: str) -> str:
    """The challenge id a ``/s/verify/<token>`` link names; ``IdentityError`` when forged or expired."""
    try:
        body = _serializer(hub).loads(token, max_age=config_of(hub).code_ttl_seconds)
    except SignatureExpired:
        raise IdentityError("this link has expired; ask support for a new code", 410) from None
    except BadSignature:
        raise IdentityError("this link is not valid", 404) from None
    if not isinstance(body, dict) or not isinstance(body.get("c"), str):
        raise IdentityError("this link is not valid", 404)
    return body["c"]


def _for_update(ctx, query):
    return query if ctx.hub.db.is_sqlite else query.with_for_update()


def locked_until(ctx, customer_id: str):
    """When the customer's lockout ends, or None if not locked out."""
    config = config_of(ctx.hub)
    now = ctx.now()
    since = now - timedelta(seconds=config.lockout_seconds)
    last_ok = ctx.session.execute(select(func.max(Attempt.at)).where(
        Attempt.customer_id == customer_id, Attempt.outcome == "ok")).scalar()
    if last_ok is not None and last_ok > since:
        since = last_ok
    failures = ctx.session.execute(select(Attempt.at).where(
        Attempt.customer_id == customer_id, Attempt.outcome.in_(FAILURES), Attempt.at > since)
        .order_by(Attempt.at)).scalars().all()
    if len(failures) < config.max_failures:
        return None
    return failures[-config.max_failures] + timedelta(seconds=config.lockout_seconds)


def request_verification(ctx, customer_id: str, action: str, requested_by: str,
                         ticket_system: str | None = None, ticket_id: str | None = None) -> dict:
    """Create a challenge and send its code and link to the customer's registered channel (via the outbox)."""
    hub, config = ctx.hub, config_of(ctx.hub)
    customer_id, action = str(customer_id or "").strip(), str(action or "").strip()
    if not customer_id:
        raise IdentityError("a verification needs a customer_id")
    if action not in config.gated_actions:
        raise IdentityError(f"{action!r} is not a gated action (gated: {', '.join(config.gated_actions)})")
    until = locked_until(ctx, customer_id)
    if until is not None:
        ctx.audit(requested_by, "identity.request", f"customer:{customer_id}", "refused", gated_action=action,
                  reason="locked out", locked_until=clock.isoformat(until))
        raise IdentityError(f"customer {customer_id} is locked out of verification until "
                            f"{clock.isoformat(until)} after repeated wrong codes", 423)
    now = ctx.now()
    ctx.session.execute(update(Challenge).where(
        Challenge.customer_id == customer_id, Challenge.action == action, Challenge.status == "pending")
        .values(status="superseded"))
    challenge_id = secrets.token_hex(16)
    code = new_code()
    expires = now + timedelta(seconds=config.code_ttl_seconds)
    ctx.session.add(Challenge(
        id=challenge_id, customer_id=customer_id, action=action, code_hash=code_hash(code_key(hub), challenge_id, code),
        channel=config.channel, ticket_system=ticket_system, ticket_id=str(ticket_id) if ticket_id else None,
        status="pending", attempts=0, created_at=now, expires_at=expires, requested_by=requested_by[:255]))
    ctx.session.flush()
    link = hub.settings.public_url.rstrip("/") + "/s/verify/" + link_token(hub, challenge_id)
    minutes = max(1, config.code_ttl_seconds // 60)
    what = ACTION_NAMES.get(action, action)
    ctx.emit("core_banking", "send_notification", {
        "customer_id": customer_id, "channel": config.channel, "template": CODE_TEMPLATE,
        "message": f"Your verification code is {code}. Support asked to confirm it is you before they {what}. "
                   f"Enter it here within {minutes} minutes: {link} . Never share this code.",
    }, key=f"identity:{challenge_id}:code")
    ctx.audit(requested_by, "identity.request", f"customer:{customer_id}", "ok", gated_action=action,
              challenge=challenge_id, channel=config.channel, expires_at=clock.isoformat(expires),
              ticket=f"{ticket_system}:{ticket_id}" if ticket_id else None)
    return {"challenge_id": challenge_id, "customer_id": customer_id, "action": action,
            "channel": config.channel, "expires_at": clock.isoformat(expires)}


def _challenge_for(ctx, challenge_id: str | None, customer_id: str | None, action: str | None):
    if challenge_id:
        return ctx.session.execute(_for_update(ctx, select(Challenge).where(Challenge.id == challenge_id))
                                   ).scalar_one_or_none()
    return ctx.session.execute(_for_update(ctx, select(Challenge).where(
        Challenge.customer_id == customer_id, Challenge.action == action)
        .order_by(Challenge.created_at.desc()).limit(1))).scalar_one_or_none()


def verify_code(ctx, code: str, *, challenge_id: str | None = None, customer_id: str | None = None,
                action: str | None = None, source: str | None = None, actor: str = "customer") -> Outcome:
    """Check one code entry. Give ``challenge_id`` (the link) and/or ``customer_id`` + ``action`` (an agent
    typing what the customer read out); any of them not matching the challenge refuses the code."""
    challenge = _challenge_for(ctx, challenge_id, customer_id, action)
    subject = customer_id or (challenge.customer_id if challenge else "")
    wanted_action = action or (challenge.action if challenge else "")
    outcome = _judge(ctx, challenge, str(code or "").strip(), customer_id, action)
    now = ctx.now()
    ctx.session.add(Attempt(challenge_id=challenge.id if challenge else challenge_id, customer_id=subject,
                            action=wanted_action, outcome=outcome, source=(source or "")[:255] or None, at=now))
    ctx.session.flush()
    target = f"customer:{subject}"
    ctx.audit(f"{actor}:{subject}" if actor == "customer" else actor, "identity.verify", target,
              "ok" if outcome == "ok" else "refused", source=source, reason=outcome, gated_action=wanted_action,
              challenge=challenge.id if challenge else challenge_id)
    if challenge is None:
        return Outcome(False, outcome, challenge_id)
    if outcome == "ok":
        challenge.status, challenge.verified_at = "verified", now
        record_on_ticket(ctx, challenge, True)
        ctx.session.flush()
        from plugins.identity.payouts import on_verified
        on_verified(ctx, challenge)  # a pending payout change is carried out now, consuming this verification
    elif outcome in FAILURES:
        challenge.attempts += 1
        until = locked_until(ctx, challenge.customer_id)
        if until is not None:
            ctx.session.execute(update(Challenge).where(
                Challenge.customer_id == challenge.customer_id, Challenge.status == "pending")
                .values(status="locked"))
            ctx.audit(ACTOR, "identity.lockout", f"customer:{challenge.customer_id}", "locked",
                      gated_action=challenge.action, challenge=challenge.id, locked_until=clock.isoformat(until),
                      failures=config_of(ctx.hub).max_failures)
            record_on_ticket(ctx, challenge, False, until)
            return Outcome(False, "locked", challenge.id)
    return Outcome(outcome == "ok", outcome, challenge.id)


def _judge(ctx, challenge, code: str, customer_id: str | None, action: str | None) -> str:
    if challenge is None:
        return "no_challenge"
    if locked_until(ctx, challenge.customer_id) is not None or challenge.status == "locked":
        return "locked"
    if challenge.status in ("verified", "consumed"):
        return "used"
    if challenge.status == "superseded":
        return "superseded"
    if challenge.status == "undelivered":
        return "expired"
    if challenge.status == "expired" or challenge.expires_at <= ctx.now():
        challenge.status = "expired"
        return "expired"
    if customer_id is not None and customer_id != challenge.customer_id:
        return "wrong_customer"
    if action is not None and action != challenge.action:
        return "wrong_action"
    if not (len(code) == 6 and code.isdigit()):
        return "wrong_code"
    expected = code_hash(code_key(ctx.hub), challenge.id, code)
    return "ok" if hmac.compare_digest(expected, challenge.code_hash) else "wrong_code"


def consume(ctx, customer_id: str, action: str, challenge_id: str | None = None) -> str | None:
    """Use up the customer's fresh verification for ``action`` (that of ``challenge_id`` only, when given); a
    refusal reason when there is none."""
    config = config_of(ctx.hub)
    fresh_after = ctx.now() - timedelta(seconds=config.verified_ttl_seconds)
    query = select(Challenge.id).where(
        Challenge.customer_id == customer_id, Challenge.action == action, Challenge.status == "verified",
        Challenge.verified_at > fresh_after).order_by(Challenge.verified_at.desc())
    if challenge_id is not None:
        query = query.where(Challenge.id == challenge_id)
    candidates = ctx.session.execute(query).scalars().all()
    for challenge_id in candidates:
        # The conditional update is what makes a verification single-use under concurrent actions.
        done = ctx.session.execute(update(Challenge).where(
            Challenge.id == challenge_id, Challenge.status == "verified")
            .values(status="consumed", consumed_at=ctx.now()))
        if done.rowcount == 1:
            ctx.audit(ACTOR, "identity.consume", f"customer:{customer_id}", "ok", gated_action=action,
                      challenge=challenge_id)
            return None
    ctx.audit(ACTOR, "identity.consume", f"customer:{customer_id}", "refused", gated_action=action,
              reason="no fresh verification")
    return (f"identity not verified: {action} for customer {customer_id} needs a fresh one-time-code "
            f"verification (none unused in the last {config.verified_ttl_seconds // 60} minutes)")


def gate(system: str, operation: str, payload: dict, ctx) -> str | None:
    """``decide_action_allowed``: None for ungated or verified actions, else the refusal reason."""
    config = config_of(ctx.hub)
    sent_as = GATED_AS.get(f"{system}.{operation}")
    action = sent_as or f"{system}.{operation}"
    if action not in config.gated_actions:
        return None
    event = getattr(ctx, "event", None)
    if event is not None and event.type in config.exempt_events.get(action, []):
        return None
    customer_id = (payload or {}).get("customer_id")
    if not isinstance(customer_id, str) or not customer_id.strip():
        return f"identity not verified: {action} needs the customer_id of the verified customer in its payload"
    if ctx.session is None:
        return f"identity not verified: {action} cannot be checked outside a transaction"
    if sent_as is not None:
        challenge_id = (payload or {}).get("challenge")
        if not isinstance(challenge_id, str) or not challenge_id:
            return f"identity not verified: {action} needs the challenge the customer verified in its payload"
        return consume(ctx, customer_id.strip(), action, challenge_id)
    return consume(ctx, customer_id.strip(), action)
