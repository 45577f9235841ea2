"""Tables of the console (users, sessions, login attempts, used form nonces) and of the analytics store.

The analytics plugin writes the ``analytics_*`` tables; the console and the admin API read them. Both import these
models from here, so the dependency runs plugin → hub as everywhere else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import PK, Base


class ConsoleUser(Base):
    __tablename__ = "console_users"
    id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class ConsoleSession(Base):
    """Server-side session: the cookie holds only ``id``; expiry and logout are decided here."""

    __tablename__ = "console_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's session token
    user_id: Mapped[int] = mapped_column(PK, index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(64))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(Base):
    __tablename__ = "console_login_attempts"
    __table_args__ = (Index("ix_console_attempts_user", "username", "at"), Index("ix_console_attempts_ip", "ip", "at"))
    id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class UsedFormNonce(Base):
    """One row per submitted form token, so a replayed POST is refused."""

    __tablename__ = "console_form_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(index=True)


class AnalyticsTicket(Base):
    """One row per ticket (keyed by the first record seen, ``<system>:<id>``) with its measured facts."""

    __tablename__ = "analytics_tickets"
    __table_args__ = (
        Index("ix_analytics_tickets_day", "created_day", "category"),
        Index("ix_analytics_tickets_status", "status"),
        Index("ix_analytics_tickets_sla", "sla_state"),
        Index("ix_analytics_tickets_created", "created_at"),
    )
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    system: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255), default="")
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    category: Mapped[str | None] = mapped_column(String(40))
    priority: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="new")
    created_at: Mapped[datetime]
    created_day: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    frt_seconds: Mapped[int | None] = mapped_column(Integer)
    solved_at: Mapped[datetime | None]
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    sla_state: Mapped[str] = mapped_column(String(16), default="running")  # running | at_risk | breached | met
    csat: Mapped[str | None] = mapped_column(String(8))  # good | bad
    csat_at: Mapped[datetime | None]
    links: Mapped[str] = mapped_column(Text, default="{}")


class AnalyticsAlias(Base):
    """``<system>:<id>`` or ``ext:<external id>`` of every linked record → the ticket's key."""

    __tablename__ = "analytics_aliases"
    alias: Mapped[str] = mapped_column(String(300), primary_key=True)
    ticket_key: Mapped[str] = mapped_column(String(160), index=True)


class AnalyticsEvent(Base):
    """What the analytics plugin saw, for timelines and for counts such as fraud alerts today."""

    __tablename__ = "analytics_events"
    __table_args__ = (Index("ix_analytics_events_type", "type", "at"),)
    id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=True)
    inbox_id: Mapped[int | None] = mapped_column(PK, index=True)
    ticket_key: Mapped[str | None] = mapped_column(String(160), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    summary: Mapped[str] = mapped_column(String(255), default="")


class AnalyticsDaily(Base):
    """Running sums per (creation day, category), kept in step with ``analytics_tickets`` by the analytics plugin
    in the same transaction, so the dashboard reads at most days × categories rows however many tickets exist."""

    __tablename__ = "analytics_daily"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)  # "" = uncategorised
    volume: Mapped[int] = mapped_column(BigInteger, default=0)
    responded: Mapped[int] = mapped_column(BigInteger, default=0)
    frt_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved: Mapped[int] = mapped_column(BigInteger, default=0)
    resolution_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    sla_met: Mapped[int] = mapped_column(BigInteger, default=0)
    sla_breached: Mapped[int] = mapped_column(BigInteger, default=0)
    csat_good: Mapped[int] = mapped_column(BigInteger, default=0)
    csat_bad: Mapped[int] = mapped_column(BigInteger, default=0)
