"""The link table: which record in each system is the same canonical record, and the canonical records."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import clock
from hub.db import dumps
from hub.sync.models import SyncLink, SyncRecord


class Links:
    """Lookups and updates of links and canonical records inside one transaction."""

    def __init__(self, session: Session):
        self.session = session

    # -- links -------------------------------------------------------------------------------------------------
    def by_native(self, object: str, system: str, native_id: str) -> SyncLink | None:
        return self.session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.system == system, SyncLink.native_id == str(native_id))
        ).scalar_one_or_none()

    def by_canonical(self, object: str, canonical_id: str, system: str) -> SyncLink | None:
        return self.session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.canonical_id == canonical_id, SyncLink.system == system)
        ).scalar_one_or_none()

    def by_marker(self, object: str, system: str, marker: str) -> SyncLink | None:
        return self.session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.system == system, SyncLink.marker == marker)
        ).scalars().first()

    def all_of(self, object: str, canonical_id: str) -> dict[str, SyncLink]:
        rows = self.session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.canonical_id == canonical_id)).scalars()
        return {row.system: row for row in rows}

    def ensure(self, object: str, canonical_id: str, system: str, native_id: str | None = None,
               new: bool = False) -> SyncLink:
        """The link of ``canonical_id`` in ``system``, created if missing; a known native id is filled in.

        ``new``: the canonical record was created in this transaction, so there is nothing to look up.
        """
        link = None if new else self.by_canonical(object, canonical_id, system)
        if link is None:
            link = SyncLink(object=object, canonical_id=canonical_id, system=system, seen="{}",
                            updated_at=clock.now())
            self.session.add(link)
        if native_id is not None and link.native_id != str(native_id):
            link.native_id = str(native_id)
            link.updated_at = clock.now()
        return link

    def native_ids(self, object: str, canonical_id: str) -> dict[str, str]:
        """``{system: native id}`` of every system that has the record."""
        return {system: link.native_id for system, link in self.all_of(object, canonical_id).items()
                if link.native_id}

    # -- canonical records ---------------------------------------------------------------------------------------
    def record(self, object: str, canonical_id: str) -> SyncRecord | None:
        return self.session.execute(select(SyncRecord).where(
            SyncRecord.object == object, SyncRecord.canonical_id == canonical_id)).scalar_one_or_none()

    def record_by_email(self, object: str, email: str) -> SyncRecord | None:
        return self.session.execute(select(SyncRecord).where(
            SyncRecord.object == object, SyncRecord.email == email.lower(), SyncRecord.deleted.is_(False))
            .order_by(SyncRecord.id)).scalars().first()

    def create_record(self, object: str, canonical_id: str, origin: str, data: dict, stamps: dict) -> SyncRecord:
        now = clock.now()
        row = SyncRecord(object=object, canonical_id=canonical_id, origin=origin, data=dumps(data),
                         stamps=dumps(stamps), version=1, deleted=False, email=_email(data), created_at=now,
                         updated_at=now)
        self.session.add(row)
        self.session.flush()
        return row

    def save_record(self, row: SyncRecord, data: dict, stamps: dict) -> None:
        row.data = dumps(data)
        row.stamps = dumps(stamps)
        row.email = _email(data)
        row.version += 1
        row.updated_at = clock.now()


def data_of(row: SyncRecord) -> dict:
    return json.loads(row.data)


def stamps_of(row: SyncRecord) -> dict:
    return json.loads(row.stamps or "{}")


def _email(data: dict) -> str | None:
    email = data.get("email")
    return str(email).lower() if email else None
