"""The consent ledger: grant and withdraw through one call each, mirrored to the bank, enforced at emit time."""

from __future__ import annotations

import logging
from fnmatch import fnmatch

from sqlalchemy import select

from hub import clock
from hub.errors import DeskbridgeError
from plugins.privacy.config import Config
from plugins.privacy.models import ConsentRecord

log = logging.getLogger(__name__)
PLUGIN = "privacy"
CHANNELS = ("web", "app", "branch", "phone", "email", "sms", "support")


class ConsentError(DeskbridgeError):
    """A consent change that cannot be recorded (unknown purpose, bad channel, missing customer)."""


def config_of(hub) -> Config:
    config = hub.plugin_config(PLUGIN)
    return config if isinstance(config, Config) else Config.model_validate(config or {})


def _present(row: ConsentRecord) -> dict:
    return {"customer_id": row.customer_id, "purpose": row.purpose, "granted": row.granted,
            "text_version": row.text_version, "channel": row.channel, "at": clock.isoformat(row.at),
            "actor": row.actor}


def record_consent(ctx, customer_id: str, purpose: str, granted: bool, text_version: str, channel: str,
                   actor: str) -> dict:
    """Append one grant or withdrawal, send it to the bank's consent record, audit it. Same steps either way."""
    config = config_of(ctx.hub)
    customer_id = str(customer_id or "").strip()
    if not customer_id:
        raise ConsentError("customer_id: required")
    if purpose not in config.purposes:
        raise ConsentError(f"purpose: {purpose!r} is not a known purpose ({', '.join(config.purposes)})")
    if not isinstance(granted, bool):
        raise ConsentError("granted: must be true or false")
    if channel not in CHANNELS:
        raise ConsentError(f"channel: must be one of {', '.join(CHANNELS)}")
    text_version = str(text_version or "").strip()
    if not text_version:
        raise ConsentError("text_version: required (the version of the consent text the customer saw)")
    row = ConsentRecord(customer_id=customer_id, purpose=purpose, granted=granted, text_version=text_version[:64],
                        channel=channel, actor=actor[:255], at=ctx.now())
    ctx.session.add(row)
    ctx.session.flush()
    if "core_banking" in ctx.hub.connectors:
        ctx.emit("core_banking", "record_consent", {
            "customer_id": customer_id, "purpose": purpose, "action": "grant" if granted else "withdraw",
            "text_version": row.text_version, "channel": channel}, key=f"privacy:consent:{row.id}")
    ctx.audit(actor, "consent.grant" if granted else "consent.withdraw", f"customer:{customer_id}", "ok",
              purpose=purpose, text_version=row.text_version, channel=channel)
    return _present(row)


def current(session, customer_id: str) -> dict[str, dict]:
    """Purpose -> the latest record for the customer."""
    rows = session.execute(select(ConsentRecord).where(ConsentRecord.customer_id == customer_id)
                           .order_by(ConsentRecord.id)).scalars()
    latest: dict[str, dict] = {}
    for row in rows:
        latest[row.purpose] = _present(row)
    return latest


def history(session, customer_id: str) -> list[dict]:
    rows = session.execute(select(ConsentRecord).where(ConsentRecord.customer_id == customer_id)
                           .order_by(ConsentRecord.id)).scalars()
    return [_present(r) for r in rows]


def bank_consents(event, ctx) -> dict | None:
    """``enrich_event``: the bank's current consents of the event's customer, so a change made at the bank
    (in its app, at a branch) counts before any plugin acts. Network read, outside the write transaction."""
    config = config_of(ctx.hub)
    data = event.data if isinstance(event.data, dict) else {}
    customer_id = data.get("customer_id")
    bank = ctx.hub.connectors.get("core_banking")
    if not (config.read_bank_consents and config.consent_rules and isinstance(customer_id, str) and bank):
        return None
    from urllib.parse import quote
    try:
        answer = bank.client.get_optional(f"customers/{quote(customer_id, safe='')}/consents") or {}
    except Exception as exc:  # the ledger still decides; a bank outage must not hold up every event
        log.warning("bank consents of %s not read: %s", customer_id, exc)
        return None
    found = {c["purpose"]: c for c in answer.get("data") or [] if isinstance(c, dict) and c.get("purpose")}
    return {"bank_consents": {customer_id: found}}


def import_bank_consents(event, ctx) -> None:
    """``on_event``: bank consent changes newer than the ledger's are appended to it (actor ``bank``)."""
    known = (event.enrichment or {}).get("bank_consents") or {}
    for customer_id, purposes in known.items():
        latest = current(ctx.session, customer_id)
        for purpose, record in purposes.items():
            at = _time(record.get("at"))
            mine = latest.get(purpose)
            if at is None or (mine and (mine["granted"] == bool(record.get("granted"))
                                        or clock.parse_time(mine["at"]) >= at)):
                continue
            if mine is None and not record.get("granted"):
                continue  # never granted here, withdrawn there: nothing to record
            ctx.session.add(ConsentRecord(
                customer_id=customer_id, purpose=purpose, granted=bool(record.get("granted")),
                text_version=str(record.get("text_version") or "unknown")[:64],
                channel=str(record.get("channel") or "bank")[:32], actor="bank", at=at))
            ctx.audit("bank", "consent.grant" if record.get("granted") else "consent.withdraw",
                      f"customer:{customer_id}", "ok", source="core_banking", purpose=purpose, imported=True)


def _time(value):
    try:
        return clock.parse_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _bank_record(ctx, customer_id: str, purpose: str) -> dict | None:
    event = getattr(ctx, "event", None)
    known = ((event.enrichment or {}).get("bank_consents") or {}) if event is not None else {}
    return (known.get(customer_id) or {}).get(purpose)


def gate(system: str, operation: str, payload: dict, ctx) -> str | None:
    """``decide_action_allowed``: processing under consent is refused unless the purpose is granted now
    (the newest of the ledger's record and, when the event brought it, the bank's)."""
    action = f"{system}.{operation}"
    rules = [r for r in config_of(ctx.hub).consent_rules if r.action == action]
    if not rules:
        return None
    payload = payload or {}
    template = str(payload.get("template") or "")
    for rule in rules:
        if rule.templates and not any(fnmatch(template, pattern) for pattern in rule.templates):
            continue
        customer_id = payload.get("customer_id")
        if not customer_id:
            return f"consent required: {action} for purpose {rule.purpose} needs a customer_id"
        if ctx.session is None:
            return f"consent required: {action} cannot be checked outside a transaction"
        row = ctx.session.execute(select(ConsentRecord).where(
            ConsentRecord.customer_id == str(customer_id), ConsentRecord.purpose == rule.purpose)
            .order_by(ConsentRecord.id.desc()).limit(1)).scalar_one_or_none()
        latest = (row.granted, row.at) if row is not None else None
        bank = _bank_record(ctx, str(customer_id), rule.purpose)
        bank_at = _time(bank.get("at")) if bank else None
        if bank_at is not None and (latest is None or bank_at > latest[1]):
            latest = (bool(bank.get("granted")), bank_at)
        if latest is None:
            return f"consent required: customer {customer_id} never consented to {rule.purpose}"
        if not latest[0]:
            return (f"consent withdrawn: customer {customer_id} withdrew {rule.purpose} consent at "
                    f"{clock.isoformat(latest[1])}")
    return None
