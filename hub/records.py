"""Canonical records: the hub's own shape of a ticket, comment, customer and organisation.

Mappings (``mappings/<system>/<object>.yaml``) translate each system's native record to and from these. A
canonical field name is a top-level attribute, or a dotted path into ``fields`` (custom fields by title) or
``requester``: ``fields.Risk score``, ``requester.email``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CATEGORIES = ("payments", "cards", "disputes", "fees", "kyc_verification", "account_management",
              "account_access", "compliance_fraud")
STATUSES = ("new", "open", "pending", "solved")
PRIORITIES = ("low", "normal", "high", "urgent")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None  # canonical id


class Requester(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    name: str | None = None
    customer_id: str | None = None


class Ticket(_Record):
    external_id: str | None = None
    subject: str | None = None
    description: str | None = None
    status: str | None = None
    priority: str | None = None
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    fields: dict[str, Any] = Field(default_factory=dict)
    requester: Requester = Field(default_factory=Requester)
    channel: str | None = None
    segment: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Comment(_Record):
    ticket_id: str | None = None  # canonical ticket id
    body: str | None = None
    public: bool = True
    author_email: str | None = None
    author_role: str | None = None
    created_at: str | None = None


class Customer(_Record):
    external_id: str | None = None  # the bank's customer id (CUST-…)
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    segment: str | None = None
    kyc_status: str | None = None
    organisation: str | None = None  # organisation name
    updated_at: str | None = None


class Organisation(_Record):
    external_id: str | None = None  # ORG-…
    name: str | None = None
    domain: str | None = None
    segment: str | None = None
    updated_at: str | None = None


MODELS: dict[str, type[_Record]] = {"ticket": Ticket, "comment": Comment, "customer": Customer,
                                    "organisation": Organisation}
OBJECTS = tuple(MODELS)
NESTED = {"fields": None, "requester": set(Requester.model_fields)}  # None: any key (custom field titles)


def known_field(object: str, name: str) -> bool:
    """True if ``name`` is a canonical field of ``object`` (``fields.<title>`` and ``requester.<x>`` included)."""
    model = MODELS.get(object)
    if model is None or not name:
        return False
    head, _, rest = name.partition(".")
    if head not in model.model_fields:
        return False
    if not rest:
        return True
    allowed = NESTED.get(head, set())
    return allowed is None or rest in allowed


def get_path(data: dict, name: str) -> Any:
    """The value at a dotted canonical path (``fields.Risk score``), None when absent."""
    head, _, rest = name.partition(".")
    value = data.get(head) if isinstance(data, dict) else None
    if not rest:
        return value
    return value.get(rest) if isinstance(value, dict) else None


def set_path(data: dict, name: str, value: Any) -> None:
    head, _, rest = name.partition(".")
    if not rest:
        data[head] = value
        return
    inner = data.get(head)
    if not isinstance(inner, dict):
        inner = data[head] = {}
    inner[rest] = value


def blank(object: str) -> dict:
    """An empty canonical record of ``object`` as a plain dict."""
    return MODELS[object]().model_dump()
