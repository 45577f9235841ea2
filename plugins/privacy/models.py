"""Tables of the privacy plugin (created by the ``0004_trust`` migration)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import PK, Base


class ConsentRecord(Base):
    """An append-only consent ledger: the latest row per (customer, purpose) is the current state."""

    __tablename__ = "privacy_consents"
    id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    granted: Mapped[bool] = mapped_column(Boolean)
    text_version: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime]


class DsrRequest(Base):
    """One data-subject request with its per-system steps (JSON) and its one-month deadline."""

    __tablename__ = "privacy_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(320))  # the email; masked once an erasure completes
    subject_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # open | completed
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]
    warned_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    steps: Mapped[str] = mapped_column(Text, default="{}")
    report_path: Mapped[str | None] = mapped_column(String(1000))
