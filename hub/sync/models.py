"""Tables of the sync engine: canonical records, the link table, cursors and per-record failures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import PK, Base


class SyncRecord(Base):
    """One canonical record: its data, the vendor timestamp of each field's last accepted change, a version."""

    __tablename__ = "sync_records"
    __table_args__ = (UniqueConstraint("object", "canonical_id", name="uq_sync_records_id"),
                      Index("ix_sync_records_email", "object", "email"))
    id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=True)
    object: Mapped[str] = mapped_column(String(16))
    canonical_id: Mapped[str] = mapped_column(String(128))
    origin: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text)
    stamps: Mapped[str] = mapped_column(Text, default="{}")
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SyncLink(Base):
    """A canonical record's counterpart in one system, and what the hub last saw of (or wrote to) it."""

    __tablename__ = "sync_links"
    __table_args__ = (UniqueConstraint("object", "canonical_id", "system", name="uq_sync_links_canonical"),
                      UniqueConstraint("object", "system", "native_id", name="uq_sync_links_native"),
                      Index("ix_sync_links_marker", "object", "system", "marker"))
    id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=True)
    object: Mapped[str] = mapped_column(String(16))
    canonical_id: Mapped[str] = mapped_column(String(128))
    system: Mapped[str] = mapped_column(String(32))
    native_id: Mapped[str | None] = mapped_column(String(128))
    marker: Mapped[str | None] = mapped_column(String(16))  # comments the hub added: their [db:…] tag
    seen: Mapped[str] = mapped_column(Text, default="{}")  # canonical projection last seen / expected
    seen_hash: Mapped[str | None] = mapped_column(String(32))
    written_hash: Mapped[str | None] = mapped_column(String(32))  # projection the hub last wrote
    written_stamp: Mapped[str | None] = mapped_column(String(40))  # vendor updated_at of the hub's last write
    seen_stamp: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime]


class SyncCursor(Base):
    __tablename__ = "sync_cursors"
    system: Mapped[str] = mapped_column(String(32), primary_key=True)
    object: Mapped[str] = mapped_column(String(16), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class SyncFailure(Base):
    """A record that could not be synced, with the reason (cleared when it later syncs)."""

    __tablename__ = "sync_failures"
    __table_args__ = (UniqueConstraint("system", "object", "native_id", name="uq_sync_failures_record"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=True)
    system: Mapped[str] = mapped_column(String(32))
    object: Mapped[str] = mapped_column(String(16))
    native_id: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[datetime]
