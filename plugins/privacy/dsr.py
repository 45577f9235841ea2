"""Data-subject requests (GDPR Art. 15/17/20): ``run_dsr`` fans one request out to every connected system and
the hub's own tables, applies the retention exceptions, and writes a JSON report per system.

A request is recorded first (received time, one-month deadline); each system's step is saved as it finishes,
so a run that fails part-way is resumed by running the same command again, and finished steps are skipped.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from hub import clock
from hub.db import dumps
from hub.errors import DeskbridgeError
from hub.pipeline import EventContext
from plugins.privacy import hubdata, hubtables
from plugins.privacy.consents import config_of
from plugins.privacy.copies import COMMENT_COPIES, CommentCopies
from plugins.privacy.models import DsrRequest
from plugins.privacy.systems import ADAPTERS, ORDER, TICKETS_OF_OTHERS, Subject

log = logging.getLogger(__name__)
KINDS = ("export", "erase")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACTOR = "cli:dsr"


class DsrError(DeskbridgeError):
    """A data-subject request that cannot be run as given."""


class DsrIncomplete(DeskbridgeError):
    """Some systems failed; the report (``report``, JSON) was saved and the same command resumes the request."""

    def __init__(self, message: str, report: str):
        super().__init__(message)
        self.report = report


def one_month_after(at: datetime) -> datetime:
    """Art. 12(3) "within one month": the same day next month, or that month's last day."""
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def subject_hash(hub, email: str) -> str:
    from hub.app import secret_key
    key = hmac.new(secret_key(hub.settings).encode(), b"deskbridge.privacy.subject", hashlib.sha256).digest()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def _audit(hub, session, action: str, target: str, outcome: str, **detail) -> None:
    EventContext(hub, session).audit(ACTOR, action, target, outcome, source="cli", **detail)


def record_request(hub, kind: str, email: str, actor: str = ACTOR) -> DsrRequest:
    """The open request of this kind for this subject, or a new one; its deadline starts now."""
    if kind not in KINDS:
        raise DsrError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    email = (email or "").strip()
    if not EMAIL_RE.match(email):
        raise DsrError(f"--email: {email!r} is not an e-mail address")
    digest = subject_hash(hub, email)
    with hub.db.session() as session:
        found = session.execute(select(DsrRequest).where(
            DsrRequest.kind == kind, DsrRequest.subject_hash == digest, DsrRequest.status == "open")
            .order_by(DsrRequest.received_at)).scalars().first()
        if found is None:
            now = clock.now()
            found = DsrRequest(id=secrets.token_hex(8), kind=kind, subject=email, subject_hash=digest,
                               status="open", received_at=now, due_at=one_month_after(now), steps="{}")
            session.add(found)
            session.flush()
            EventContext(hub, session).audit(actor, f"dsr.{kind}.received", f"dsr:{found.id}", "ok",
                                             due_at=clock.isoformat(found.due_at))
        session.expunge(found)
        return found


def _subject(hub, email: str, steps: dict) -> Subject:
    known = steps.get("_subject") or {}
    subject = Subject(email=email, customer_id=known.get("customer_id"), ids=dict(known.get("ids") or {}),
                      records=dict(known.get("records") or {}), comments=list(known.get("comments") or []),
                      retained=dict(known.get("retained") or {}))
    if not subject.customer_id and "core_banking" in hub.connectors:
        found = hub.connectors["core_banking"].find_customer_by_email(email)
        subject.customer_id = found["id"] if found else None
    # Tickets the sync engine copied between systems (erased from the hub's tables only in the last step), and the
    # subject's comments on tickets of others it copied (their records scrubbed then: a resumed run has them from
    # the saved steps).
    with hub.db.session() as session:
        subject.linked = hubtables.linked_tickets(session, email, subject.customer_id)
        for canonical_id in hubtables.subject_comments(session, email, subject.customer_id):
            if canonical_id not in subject.comments:
                subject.comments.append(canonical_id)
    return subject


def _checkpoint(hub, request_id: str, steps: dict, system: str):
    """Saves a system's in-flight progress (e.g. tickets being purged) so a resumed run can finish it."""
    def save(data: dict) -> None:
        steps[system] = {**(steps.get(system) or {}), "status": "running", **data}
        with hub.db.session() as session:
            session.get(DsrRequest, request_id).steps = dumps(steps)
    return save


def _ids_in(result: dict) -> list[str]:
    ids = []
    for group in ("erased", "kept"):
        value = result.get(group)
        items = value.values() if isinstance(value, dict) else [value] if value else []
        for item in items:
            if isinstance(item, list):
                ids += [str(i) for i in item if isinstance(i, (str, int))]
    for kept in result.get("kept") or []:
        # Another customer's tickets, and the copies of the subject's comments on them, are not the subject's.
        if isinstance(kept, dict) and kept.get("records") not in (TICKETS_OF_OTHERS, COMMENT_COPIES):
            ids += [str(i) for i in kept.get("ids") or []]
    return ids


# The adapters' report groups -> the sync engine's object of those records.
OBJECTS = {"users": "customer", "contacts": "customer", "tickets": "ticket", "cases": "ticket", "notes": "comment"}


def _records_in(result: dict) -> dict[str, list[str]]:
    """The sync's object -> native ids of the records a system's erasure step erased or kept as the subject's
    (another customer's tickets and the copies of the subject's comments on them are not among them)."""
    found: dict[str, list[str]] = {}
    erased = result.get("erased") if isinstance(result.get("erased"), dict) else {}
    groups = [(name, value) for name, value in erased.items()]
    groups += [(kept.get("records"), kept.get("ids")) for kept in result.get("kept") or [] if isinstance(kept, dict)]
    for name, ids in groups:
        if name in OBJECTS and isinstance(ids, list):
            found.setdefault(OBJECTS[name], []).extend(str(i) for i in ids if isinstance(i, (str, int)))
    return {object: list(dict.fromkeys(ids)) for object, ids in found.items()}


def _retained_in(result: dict) -> dict[str, dict[str, str]]:
    """The sync's object -> native id -> reason of the records a system's erasure step kept as the subject's (by a
    retention rule, or kept with those: their requester, contact, notes)."""
    found: dict[str, dict[str, str]] = {}
    for kept in result.get("kept") or []:
        if isinstance(kept, dict) and kept.get("records") in OBJECTS and isinstance(kept.get("ids"), list):
            for native_id in kept["ids"]:
                if isinstance(native_id, (str, int)):
                    found.setdefault(OBJECTS[kept["records"]], {}).setdefault(str(native_id), kept.get("reason"))
    return found


def run_dsr(hub, kind: str, email: str, out: Path | str | None = None) -> str:
    """Run (or resume) an export or erasure for ``email``; returns the printed report and saves it."""
    request = record_request(hub, kind, email)
    config = config_of(hub)
    steps = json.loads(request.steps or "{}")
    subject = _subject(hub, request.subject, steps)
    copies = CommentCopies(hub, subject, config.retention)
    exported: dict = {}
    for system in ORDER:
        connector = hub.connectors.get(system)
        if connector is None:
            steps[system] = {"status": "not_connected"}
            continue
        if kind == "erase" and (steps.get(system) or {}).get("status") == "done":
            continue
        adapter = ADAPTERS[system](connector)
        try:
            if kind == "export":
                result = adapter.export(subject)
                exported[system] = result.pop("data")
                copies.export(system, result, exported[system])
            elif system == "zendesk":
                result = adapter.erase(subject, config.retention, f"dsr:{request.id}:{system}",
                                       progress=steps.get(system),
                                       checkpoint=_checkpoint(hub, request.id, steps, system))
                copies.erase(system, result, f"dsr:{request.id}:{system}")
            else:
                result = adapter.erase(subject, config.retention, f"dsr:{request.id}:{system}")
                copies.erase(system, result, f"dsr:{request.id}:{system}")
            if kind == "erase":
                subject.ids[system] = _ids_in(result)
                subject.records[system] = _records_in(result)
                subject.retained[system] = _retained_in(result)
            steps[system] = {"status": "done", **result}
            outcome = "ok"
        except Exception as exc:  # one system failing must not stop the others; the step is retried next run
            steps[system] = {**(steps.get(system) or {}), "status": "failed",
                             "error": (str(exc) if isinstance(exc, DeskbridgeError)
                                       else f"{type(exc).__name__}: {exc}")[:300]}
            outcome = "failed"
            log.warning("dsr %s: %s %s failed: %s", request.id, kind, system, steps[system]["error"])
        steps["_subject"] = {"customer_id": subject.customer_id, "ids": subject.ids, "records": subject.records,
                             "comments": subject.comments, "retained": subject.retained}
        with hub.db.session() as session:
            session.get(DsrRequest, request.id).steps = dumps(steps)
            _audit(hub, session, f"dsr.{kind}", f"dsr:{request.id}:{system}", outcome,
                   counts=steps[system].get("exported") or steps[system].get("erased"),
                   kept=len(steps[system].get("kept") or []))
    with hub.db.session() as session:
        if kind == "export":
            result = hubdata.export(session, subject)
            exported["hub"] = result.pop("data")
        else:
            result = hubdata.erase(session, subject, request.id, config.retention)
        steps["hub"] = {"status": "done", **result}
        row = session.get(DsrRequest, request.id)
        row.steps = dumps(steps)
        failed = [s for s in (*ORDER, "hub") if (steps.get(s) or {}).get("status") == "failed"]
        if not failed:
            row.status, row.completed_at = "completed", clock.now()
            if kind == "erase":
                row.subject = mask_email(request.subject)
        _audit(hub, session, f"dsr.{kind}", f"dsr:{request.id}:hub", "ok",
               counts=result.get("exported") or result.get("erased"))
        report = _report(row, steps, request.subject if kind == "export" else mask_email(request.subject))
        path = _write(hub, config, report, exported, kind, out)
        row.report_path = str(path)
        _audit(hub, session, f"dsr.{kind}.completed" if not failed else f"dsr.{kind}.partial", f"dsr:{request.id}",
               "ok" if not failed else "failed", failed=failed, report=str(path))
    report["report_file"] = str(path)
    text = json.dumps(report, indent=2, sort_keys=False, default=str)
    if failed:
        reasons = "; ".join(f"{s}: {steps[s].get('error')}" for s in failed)
        raise DsrIncomplete(f"{kind} request {request.id} incomplete ({reasons}); report saved to {path}; "
                            f"run the same command again to resume", text)
    return text


def _report(row: DsrRequest, steps: dict, subject: str) -> dict:
    return {"request_id": row.id, "kind": row.kind, "subject": subject, "status": row.status,
            "received_at": clock.isoformat(row.received_at), "due_at": clock.isoformat(row.due_at),
            "completed_at": clock.isoformat(row.completed_at) if row.completed_at else None,
            "systems": {name: step for name, step in steps.items() if not name.startswith("_")}}


def _write(hub, config, report: dict, exported: dict, kind: str, out) -> Path:
    """The report (and, for an export, the subject's data) as a 0600 JSON file under the data dir."""
    folder = Path(hub.settings.data_dir) / config.reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    body = dict(report, data=exported) if kind == "export" else report
    text = json.dumps(body, indent=2, default=str)
    path = folder / f"{report['request_id']}-{kind}-{clock.now().strftime('%Y%m%dT%H%M%SZ')}.json"
    for target in [path] + ([Path(out)] if out else []):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    return path


def check_deadlines(hub) -> dict:
    """Scheduler job: warn about open requests at ``warn_day`` and escalate at ``escalate_day``."""
    config = config_of(hub)
    now = clock.now()
    counts = {"warned": 0, "escalated": 0}
    with hub.db.session() as session:
        ctx = EventContext(hub, session)
        rows = session.execute(select(DsrRequest).where(DsrRequest.status == "open")).scalars().all()
        for row in rows:
            age = now - row.received_at
            for stage, day, column in (("escalated", config.escalate_day, "escalated_at"),
                                       ("warning", config.warn_day, "warned_at")):
                if age < timedelta(days=day) or getattr(row, column) is not None:
                    continue
                setattr(row, column, now)
                counts["escalated" if stage == "escalated" else "warned"] += 1
                text = (f"Data-subject request {row.id} ({row.kind}) received {clock.isoformat(row.received_at)} "
                        f"is still open after {age.days} days; the legal deadline is "
                        f"{clock.isoformat(row.due_at)}. Run: deskbridge dsr {row.kind} --email <subject>")
                (log.error if stage == "escalated" else log.warning)(text)
                ctx.audit("plugin:privacy", f"dsr.deadline.{stage}", f"dsr:{row.id}", stage,
                          due_at=clock.isoformat(row.due_at), age_days=age.days)
                _notify(ctx, config, row, stage, text)
    return counts


def _notify(ctx, config, row: DsrRequest, stage: str, text: str) -> None:
    if "notify" not in ctx.hub.connectors:
        return
    if config.escalation_webhook:
        ctx.emit("notify", "notify_webhook", {"url": config.escalation_webhook, "json": {"text": text}},
                 key=f"dsr:{row.id}:{stage}:webhook")
    if config.dpo_email and stage == "escalated":
        ctx.emit("notify", "send_email", {"to": config.dpo_email, "subject": f"DSR {row.id} deadline at risk",
                                          "body": text}, key=f"dsr:{row.id}:{stage}:email")


def list_requests(hub, include_done: bool = False) -> list[dict]:
    with hub.db.session() as session:
        query = select(DsrRequest).order_by(DsrRequest.received_at)
        if not include_done:
            query = query.where(DsrRequest.status == "open")
        return [{"id": r.id, "kind": r.kind, "subject": mask_email(r.subject), "status": r.status,
                 "received_at": clock.isoformat(r.received_at), "due_at": clock.isoformat(r.due_at),
                 "warned_at": clock.isoformat(r.warned_at) if r.warned_at else None,
                 "escalated_at": clock.isoformat(r.escalated_at) if r.escalated_at else None,
                 "report_path": r.report_path} for r in session.execute(query).scalars()]
