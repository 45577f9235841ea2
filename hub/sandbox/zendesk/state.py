"""In-memory state of one emulated Zendesk account: records, id sequences and change stamps."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import flask

from hub.clock import isoformat

ACCOUNT_ID = 21384752
SUBDOMAIN = "sandbox"
TICKET_FORM_ID = 360_050_000_001
BRAND_ID = 360_060_000_001

# Realistic id ranges: tickets count up per account from 1, everything else uses large global ids.
ID_BASES = {
    "ticket": 0, "user": 384_200_000_000, "organization": 371_500_000_000, "group": 360_010_000_000,
    "ticket_field": 360_040_000_000, "field_option": 360_090_000_000, "comment": 392_700_000_000,
    "audit": 392_700_000_000, "attachment": 387_100_000_000, "event": 392_710_000_000,
}
STATUS_ORDER = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_TYPES = ("problem", "incident", "question", "task")
# The default custom status per status category (Zendesk exposes ``custom_status_id`` on every ticket).
CUSTOM_STATUS_IDS = {"new": 360_070_000_001, "open": 360_070_000_002, "pending": 360_070_000_003,
                     "hold": 360_070_000_004, "solved": 360_070_000_005, "closed": 360_070_000_005}


def ts(value: datetime) -> str:
    return isoformat(value)


def from_micros(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, tz=timezone.utc)


@dataclass
class Upload:
    token: str
    expires_at: str
    attachment_ids: list[int]


@dataclass
class Job:
    id: str
    job_type: str
    total: int
    results: list[dict]
    message: str
    polled: bool = False


@dataclass
class ZendeskState:
    """Everything the account holds. Callers hold the sandbox lock while touching it."""

    clock: Callable[[], datetime]
    tickets: dict[int, dict] = field(default_factory=dict)
    comments: dict[int, list[dict]] = field(default_factory=dict)
    audits: dict[int, list[dict]] = field(default_factory=dict)
    users: dict[int, dict] = field(default_factory=dict)
    deleted_users: dict[int, dict] = field(default_factory=dict)
    # user id -> email identities beyond the primary ``email`` (those a user merge moved onto it)
    identities: dict[int, list[str]] = field(default_factory=dict)
    organizations: dict[int, dict] = field(default_factory=dict)
    groups: dict[int, dict] = field(default_factory=dict)
    ticket_fields: dict[int, dict] = field(default_factory=dict)
    attachments: dict[int, dict] = field(default_factory=dict)
    attachment_bytes: dict[int, bytes] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    webhooks: dict[str, dict] = field(default_factory=dict)
    webhook_secrets: dict[str, str] = field(default_factory=dict)
    # Idempotency-Key -> (request fingerprint, stored answer, when it was stored)
    idempotency: dict[str, tuple[str, dict, datetime]] = field(default_factory=dict)
    # (kind, id) -> microsecond change stamp; strictly increasing across writes so (stamp, id) cursors
    # never skip a record that changes while a client pages through an export.
    stamps: dict[tuple[str, int], int] = field(default_factory=dict)
    agent_id: int = 0
    changes: int = 0  # counts stamps handed out: export indexes are rebuilt only after a change
    _sequences: dict[str, itertools.count] = field(default_factory=dict)
    _last_stamp: int = 0

    def next_id(self, kind: str) -> int:
        seq = self._sequences.setdefault(kind, itertools.count(ID_BASES[kind] + 1))
        return next(seq)

    def touch(self, kind: str, record_id: int, at: datetime | None = None) -> datetime:
        """Stamp a change now (or at ``at`` for seeded history); returns the time to show as ``updated_at``."""
        if at is not None:
            micros = int(at.timestamp() * 1_000_000)
            self._last_stamp = max(self._last_stamp, micros)
        else:
            micros = max(int(self.clock().timestamp() * 1_000_000), self._last_stamp + 1)
            self._last_stamp = micros
        self.stamps[(kind, record_id)] = micros
        self.changes += 1
        return from_micros(micros)

    def stamp(self, kind: str, record_id: int) -> int:
        return self.stamps.get((kind, record_id), 0)

    def now(self) -> datetime:
        return self.clock()

    # -- lookups ---------------------------------------------------------------------------------------
    def live_ticket(self, ticket_id: int) -> dict | None:
        ticket = self.tickets.get(ticket_id)
        if ticket is None or ticket["status"] == "deleted":
            return None
        return ticket

    def user_by_email(self, email: str | None) -> dict | None:
        if not email:
            return None
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if (u.get("email") or "").lower() == wanted
                     or wanted in self.identities.get(u["id"], ())), None)

    def user_by_external_id(self, external_id: str | None) -> dict | None:
        if external_id is None:
            return None
        return next((u for u in self.users.values() if u.get("external_id") == str(external_id)), None)

    def org_by_external_id(self, external_id: str | None) -> dict | None:
        if external_id is None:
            return None
        return next((o for o in self.organizations.values() if o.get("external_id") == str(external_id)), None)

    def org_by_name(self, name: str | None) -> dict | None:
        if not name:
            return None
        return next((o for o in self.organizations.values() if o["name"].lower() == name.strip().lower()), None)

    def custom_fields(self) -> list[dict]:
        return [f for f in self.ticket_fields.values() if f["removable"] and f["active"]]


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(18).replace("-", "A").replace("_", "b")


def base_url() -> str:
    """The account's base URL as the client reached it (pagination and ``url`` fields point back here)."""
    if flask.has_request_context():
        return flask.request.host_url.rstrip("/")
    return f"https://{SUBDOMAIN}.zendesk.com"


def api_url(path: str) -> str:
    return f"{base_url()}/api/v2/{path}"


def with_url(record: dict, path: str) -> dict:
    out = dict(record)
    out["url"] = api_url(path)
    return out
