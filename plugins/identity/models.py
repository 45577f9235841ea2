"""Tables of the identity plugin (created by the ``0004_trust`` migration)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import PK, Base


class Challenge(Base):
    """One one-time code sent to a customer for one action; only its HMAC is stored."""

    __tablename__ = "identity_challenges"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100))
    code_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    ticket_system: Mapped[str | None] = mapped_column(String(32))
    ticket_id: Mapped[str | None] = mapped_column(String(64))
    # pending -> verified -> consumed; or expired, locked, superseded
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    consumed_at: Mapped[datetime | None]
    requested_by: Mapped[str] = mapped_column(String(255))


class Attempt(Base):
    """Every code entry, right or wrong; failures in a window make the lockout."""

    __tablename__ = "identity_attempts"
    id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=True)
    challenge_id: Mapped[str | None] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime]
