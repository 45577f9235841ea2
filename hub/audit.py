"""Tamper-evident audit log: HMAC-chained entries plus anchors kept outside the database.

Each entry's hash is ``HMAC-SHA256(key, prev_hash || canonical entry)`` with a key that lives outside the
database, so someone who can write the database cannot recompute the chain. Every ``anchor_every`` entries the
head (id, hash) is appended to ``<data_dir>/audit-anchors.jsonl``; a truncated tail or a rewritten chain no
longer matches the anchors.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.orm import Session

from hub import clock
from hub.db import AuditAnchor, AuditEntry, dumps

GENESIS = "0" * 64


def load_key(settings) -> bytes:
    """The chain key: from config (``audit.hmac_key``) or a generated 0600 file in the data dir."""
    if settings.audit.hmac_key:
        return settings.audit.hmac_key.encode()
    path = Path(settings.data_dir) / "keys" / "audit.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def anchor_path(settings) -> Path:
    return Path(settings.data_dir) / "audit-anchors.jsonl"


def entry_hash(key: bytes, prev_hash: str, entry: AuditEntry) -> str:
    body = dumps({"id": entry.id, "at": clock.isoformat(entry.at), "actor": entry.actor, "action": entry.action,
                  "target": entry.target, "outcome": entry.outcome, "source": entry.source,
                  "detail": json.loads(entry.detail)})
    return hmac.new(key, (prev_hash + body).encode(), hashlib.sha256).hexdigest()


def append(hub, session: Session, actor: str, action: str, target: str, outcome: str,
           source: str | None = None, detail: dict | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (serialised on the chain head).

    Ids are given by the chain, not by a sequence: entry N+1 follows entry N under the chain lock, so a rolled-back
    transaction never leaves a gap (a PostgreSQL sequence would) that ``verify`` would report as a missing entry.
    The head is remembered for the rest of the transaction, so a batch of appends costs one head read, no flush
    per entry, and one multi-row insert at commit.
    """
    head_id, prev_hash = _head(session)
    from hub.logs import mask_pans
    actor, target = mask_pans(str(actor)), mask_pans(str(target))  # like detail: never a card number
    entry = AuditEntry(id=head_id + 1, at=clock.now(), actor=actor[:255], action=action[:100], target=target[:255],
                       outcome=outcome[:32], source=(source or "")[:255] or None,
                       detail=dumps(_scrub(detail or {})), prev_hash=prev_hash, hash="")
    entry.hash = entry_hash(hub.audit_key, prev_hash, entry)
    session.add(entry)
    session.info[_HEAD] = (session.get_transaction(), entry)
    every = hub.settings.audit.anchor_every
    if entry.id % every == 0:
        _anchor(hub, session, entry)
    return entry


_HEAD = "deskbridge.audit_head"


def _head(session: Session) -> tuple[int, str]:
    """(id, hash) of the chain's last entry as this transaction sees it; takes the chain lock on first use."""
    cached = session.info.get(_HEAD)
    if cached is not None:
        transaction, entry = cached
        # Same transaction and the entry still in it (a rolled-back savepoint expunges what it added).
        if transaction is session.get_transaction() and entry in session:
            return entry.id, entry.hash
        session.info.pop(_HEAD, None)
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(727274)"))
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    return (last.id, last.hash) if last else (0, GENESIS)


def _scrub(detail: dict) -> dict:
    """Audit entries never hold secrets or card numbers (the redaction filter masks values)."""
    from hub.logs import redact_value
    return redact_value(detail)


def _anchor(hub, session: Session, entry: AuditEntry) -> None:
    """Record the head as an anchor: a row now, the file line once the transaction has committed (an anchor for
    an entry that was rolled back would later read as a rewritten chain)."""
    session.add(AuditAnchor(entry_id=entry.id, hash=entry.hash, at=clock.now()))
    pending = session.info.setdefault("deskbridge.audit_anchors", [])
    pending.append((entry, entry.id, entry.hash))
    if len(pending) > 1:
        return  # the listener below is already waiting for this commit
    path = anchor_path(hub.settings)

    def write(_session) -> None:
        rows, pending[:] = list(pending), []
        lines = [{"entry_id": id, "hash": hash, "at": clock.isoformat(clock.now())}
                 for obj, id, hash in rows if inspect(obj).persistent]
        if lines:
            _write_anchor_lines(path, lines)

    event.listen(session, "after_commit", write, once=True)


def _write_anchor_lines(path: Path, lines: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def anchor_now(hub) -> None:
    """Anchor the current head (a scheduler job runs this so a quiet chain is anchored too)."""
    with hub.db.session() as session:
        last = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one_or_none()
        if last is None:
            return
        known = session.execute(select(func.max(AuditAnchor.entry_id))).scalar()
        if known != last.id:
            _anchor(hub, session, last)


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str = ""


def verify(hub, batch: int = 5000) -> VerifyResult:
    """Walk the chain; check every hash, link and anchor. Names the first bad entry."""
    key = hub.audit_key
    prev = GENESIS
    count = 0
    last_id = 0
    hashes: dict[int, str] = {}
    anchors = _read_anchors(hub.settings)
    wanted = {a["entry_id"] for a in anchors}
    with hub.db.session() as session:
        while True:
            rows = session.execute(select(AuditEntry).where(AuditEntry.id > last_id)
                                   .order_by(AuditEntry.id).limit(batch)).scalars().all()
            if not rows:
                break
            for row in rows:
                count += 1
                if row.id != last_id + 1:
                    return VerifyResult(False, count, last_id + 1, f"entry {last_id + 1} is missing")
                if row.prev_hash != prev:
                    return VerifyResult(False, count, row.id, "link to the previous entry is broken")
                if not hmac.compare_digest(entry_hash(key, prev, row), row.hash):
                    return VerifyResult(False, count, row.id, "entry content does not match its hash")
                if row.id in wanted:
                    hashes[row.id] = row.hash
                prev = row.hash
                last_id = row.id
    for anchor in anchors:
        if anchor["entry_id"] > last_id:
            return VerifyResult(False, count, last_id + 1,
                                f"chain ends at entry {last_id} but an anchor records entry {anchor['entry_id']}"
                                " (tail truncated)")
        if not hmac.compare_digest(hashes.get(anchor["entry_id"], ""), anchor["hash"]):
            return VerifyResult(False, count, anchor["entry_id"], "entry does not match its anchor (chain rewritten)")
    return VerifyResult(True, count)


def _read_anchors(settings) -> list[dict]:
    path = anchor_path(settings)
    if not path.exists():
        return []
    anchors = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            anchors.append(json.loads(line))
    return anchors
