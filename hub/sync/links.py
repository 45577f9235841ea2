"""The link table: which record in each system is the same canonical record, and the canonical records."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import clock
from hub.db import dumps
from hub.sync.models import SyncLink, SyncRecord


CACHE = "sync_links_cache"


class PageCache:
    """What a page's transaction has looked up or written of links and records, so each is read once.

    Only a page's own transaction holds one (``Links.start_cache``): every link and record written in it goes
    through ``Links`` (``ensure``, ``create_record``, ``save_record``), which keeps the cache current. A record
    that fails drops it (``Links.drop_cache``): its rolled-back writes must not be remembered.
    """

    def __init__(self):
        self.native: dict[tuple, SyncLink | None] = {}
        self.canonical: dict[tuple, SyncLink | None] = {}
        self.all: dict[tuple, dict[str, SyncLink]] = {}  # (object, canonical id) -> every link, when complete
        self.records: dict[tuple, SyncRecord | None] = {}
        self.emails: dict[tuple, SyncRecord | None] = {}
        self.markers: dict[tuple, SyncLink | None] = {}  # (object, system, marker) -> the hub's own comment

    def link(self, link: SyncLink) -> None:
        self.canonical[(link.object, link.canonical_id, link.system)] = link
        if link.native_id is not None:
            self.native[(link.object, link.system, link.native_id)] = link
        known = self.all.get((link.object, link.canonical_id))
        if known is not None:
            known[link.system] = link


class Links:
    """Lookups and updates of links and canonical records inside one transaction."""

    def __init__(self, session: Session):
        self.session = session
        self.cache: PageCache | None = session.info.get(CACHE)

    # -- the page cache ------------------------------------------------------------------------------------------
    @staticmethod
    def start_cache(session: Session) -> PageCache:
        cache = session.info[CACHE] = PageCache()
        return cache

    @staticmethod
    def drop_cache(session: Session) -> None:
        session.info.pop(CACHE, None)

    def prefetch(self, object: str, system: str, native_ids) -> None:
        """Links of these native records and, for those linked, every link and the canonical record: 3 queries."""
        cache = self.cache
        if cache is None:
            return
        wanted = sorted({str(n) for n in native_ids if n is not None} - {k[2] for k in cache.native
                                                                          if k[:2] == (object, system)})
        if not wanted:
            return
        found = {link.native_id: link for link in self.session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.system == system, SyncLink.native_id.in_(wanted))).scalars()}
        for native_id in wanted:
            cache.native[(object, system, native_id)] = found.get(native_id)
        canonical = sorted({link.canonical_id for link in found.values()})
        if not canonical:
            return
        self.prefetch_canonical(object, canonical)
        records = {row.canonical_id: row for row in self.session.execute(select(SyncRecord).where(
            SyncRecord.object == object, SyncRecord.canonical_id.in_(canonical))).scalars()}
        for canonical_id in canonical:
            cache.records[(object, canonical_id)] = records.get(canonical_id)

    def prefetch_canonical(self, object: str, canonical_ids) -> None:
        """Every link of these canonical records (what ``by_canonical`` and ``all_of`` answer): one query."""
        cache = self.cache
        if cache is None:
            return
        wanted = sorted({str(c) for c in canonical_ids} - {k[1] for k in cache.all if k[0] == object})
        if not wanted:
            return
        every: dict[str, dict[str, SyncLink]] = {c: {} for c in wanted}
        for link in self.session.execute(select(SyncLink).where(
                SyncLink.object == object, SyncLink.canonical_id.in_(wanted))).scalars():
            every[link.canonical_id][link.system] = link
            cache.canonical[(object, link.canonical_id, link.system)] = link
            if link.native_id is not None:
                cache.native.setdefault((object, link.system, link.native_id), link)
        for canonical_id, links in every.items():
            cache.all[(object, canonical_id)] = links

    def prefetch_records(self, keys) -> None:
        """The canonical records of these ``(object, canonical id)`` pairs: one query per object."""
        cache = self.cache
        if cache is None:
            return
        wanted: dict[str, set[str]] = {}
        for object, canonical_id in keys:
            if (object, canonical_id) not in cache.records:
                wanted.setdefault(object, set()).add(canonical_id)
        for object, ids in wanted.items():
            found = {row.canonical_id: row for row in self.session.execute(select(SyncRecord).where(
                SyncRecord.object == object, SyncRecord.canonical_id.in_(sorted(ids)))).scalars()}
            for canonical_id in ids:
                cache.records[(object, canonical_id)] = found.get(canonical_id)

    def prefetch_emails(self, object: str, emails) -> None:
        """The first live record with each address (what ``record_by_email`` answers): one query."""
        cache = self.cache
        if cache is None:
            return
        wanted = sorted({str(e).lower() for e in emails if e} - {k[1] for k in cache.emails if k[0] == object})
        if not wanted:
            return
        found: dict[str, SyncRecord] = {}
        for row in self.session.execute(select(SyncRecord).where(
                SyncRecord.object == object, SyncRecord.email.in_(wanted), SyncRecord.deleted.is_(False))
                .order_by(SyncRecord.id)).scalars():
            found.setdefault(row.email, row)
        for email in wanted:
            cache.emails[(object, email)] = found.get(email)

    # -- links -------------------------------------------------------------------------------------------------
    def by_native(self, object: str, system: str, native_id: str) -> SyncLink | None:
        key = (object, system, str(native_id))
        if self.cache is not None and key in self.cache.native:
            return self.cache.native[key]
        link = self.session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.system == system, SyncLink.native_id == str(native_id))
        ).scalar_one_or_none()
        if self.cache is not None:
            self.cache.native[key] = link
        return link

    def by_canonical(self, object: str, canonical_id: str, system: str) -> SyncLink | None:
        key = (object, canonical_id, system)
        if self.cache is not None:
            if key in self.cache.canonical:
                return self.cache.canonical[key]
            known = self.cache.all.get((object, canonical_id))
            if known is not None:
                return known.get(system)
        link = self.session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.canonical_id == canonical_id, SyncLink.system == system)
        ).scalar_one_or_none()
        if self.cache is not None:
            self.cache.canonical[key] = link
        return link

    def prefetch_markers(self, object: str, system: str, markers) -> None:
        """The links of the hub's own comments carrying these ``[db:…]`` markers: one query."""
        cache = self.cache
        if cache is None:
            return
        wanted = sorted({m for m in markers if m} - {k[2] for k in cache.markers if k[:2] == (object, system)})
        if not wanted:
            return
        found: dict[str, SyncLink] = {}
        for link in self.session.execute(select(SyncLink).where(
                SyncLink.object == object, SyncLink.system == system, SyncLink.marker.in_(wanted))
                .order_by(SyncLink.id)).scalars():
            found.setdefault(link.marker, link)
            cache.link(link)
        for marker in wanted:
            cache.markers[(object, system, marker)] = found.get(marker)

    def by_marker(self, object: str, system: str, marker: str) -> SyncLink | None:
        key = (object, system, marker)
        if self.cache is not None and key in self.cache.markers:
            return self.cache.markers[key]
        link = self.session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.system == system, SyncLink.marker == marker)
        ).scalars().first()
        if self.cache is not None:
            self.cache.markers[key] = link
        return link

    def set_marker(self, link: SyncLink, marker: str) -> None:
        """The ``[db:…]`` marker of a comment the hub is adding (its echo is then only linked)."""
        link.marker = marker
        if self.cache is not None and self.cache.markers.get((link.object, link.system, marker)) is None:
            self.cache.markers[(link.object, link.system, marker)] = link

    def all_of(self, object: str, canonical_id: str) -> dict[str, SyncLink]:
        if self.cache is not None and (object, canonical_id) in self.cache.all:
            return dict(self.cache.all[(object, canonical_id)])
        rows = self.session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.canonical_id == canonical_id)).scalars()
        found = {row.system: row for row in rows}
        if self.cache is not None:
            self.cache.all[(object, canonical_id)] = dict(found)
            for link in found.values():
                self.cache.link(link)
        return found

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
            if self.cache is not None and new:
                self.cache.all.setdefault((object, canonical_id), {})
        if native_id is not None and link.native_id != str(native_id):
            if self.cache is not None and link.native_id is not None:
                self.cache.native.pop((object, system, link.native_id), None)
            link.native_id = str(native_id)
            link.updated_at = clock.now()
        if self.cache is not None:
            self.cache.link(link)
        return link

    def set_native(self, link: SyncLink, native_id) -> None:
        """The vendor's id for a link the hub created the record of (its write's result)."""
        if self.cache is not None and link.native_id is not None:
            self.cache.native.pop((link.object, link.system, link.native_id), None)
        link.native_id = str(native_id)
        if self.cache is not None:
            self.cache.link(link)

    def native_ids(self, object: str, canonical_id: str) -> dict[str, str]:
        """``{system: native id}`` of every system that has the record."""
        return {system: link.native_id for system, link in self.all_of(object, canonical_id).items()
                if link.native_id}

    # -- canonical records ---------------------------------------------------------------------------------------
    def record(self, object: str, canonical_id: str) -> SyncRecord | None:
        key = (object, canonical_id)
        if self.cache is not None and key in self.cache.records:
            return self.cache.records[key]
        row = self.session.execute(select(SyncRecord).where(
            SyncRecord.object == object, SyncRecord.canonical_id == canonical_id)).scalar_one_or_none()
        if self.cache is not None:
            self.cache.records[key] = row
        return row

    def record_by_email(self, object: str, email: str) -> SyncRecord | None:
        key = (object, email.lower())
        if self.cache is not None and key in self.cache.emails:
            row = self.cache.emails[key]
            if row is None or (not row.deleted and row.email == key[1]):
                return row
        row = self.session.execute(select(SyncRecord).where(
            SyncRecord.object == object, SyncRecord.email == email.lower(), SyncRecord.deleted.is_(False))
            .order_by(SyncRecord.id)).scalars().first()
        if self.cache is not None:
            self.cache.emails[key] = row
        return row

    def create_record(self, object: str, canonical_id: str, origin: str, data: dict, stamps: dict) -> SyncRecord:
        now = clock.now()
        row = SyncRecord(object=object, canonical_id=canonical_id, origin=origin, data=dumps(data),
                         stamps=dumps(stamps), version=1, deleted=False, email=_email(data), created_at=now,
                         updated_at=now)
        self.session.add(row)
        if self.cache is not None:
            self.cache.records[(object, canonical_id)] = row
            if row.email and self.cache.emails.get((object, row.email), False) is None:
                self.cache.emails[(object, row.email)] = row  # the first live record with that address
        return row

    def save_record(self, row: SyncRecord, data: dict, stamps: dict) -> None:
        email = _email(data)
        if self.cache is not None and email != row.email:
            self.cache.emails.pop((row.object, row.email), None)
            self.cache.emails.pop((row.object, email), None)
        row.data = dumps(data)
        row.stamps = dumps(stamps)
        row.email = email
        row.version += 1
        row.updated_at = clock.now()


def data_of(row: SyncRecord) -> dict:
    return json.loads(row.data)


def stamps_of(row: SyncRecord) -> dict:
    return json.loads(row.stamps or "{}")


def _email(data: dict) -> str | None:
    email = data.get("email")
    return str(email).lower() if email else None
