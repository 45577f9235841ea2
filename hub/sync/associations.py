"""Associations between records: a ticket's requester (customer) and organisation, a customer's organisation.

Each system keeps them its own way — Zendesk ``ticket.requester_id`` / ``organization_id`` and
``user.organization_id``; Salesforce ``Case.ContactId`` / ``AccountId`` and ``Contact.AccountId``; HubSpot
association edges (ticket → contact, ticket → company, contact → company, the primary company mirrored in the
contact's ``associatedcompanyid``). The hub keeps them as canonical ids:

* in: a customer's organisation, as a system reports it, becomes the canonical ``organisation_id`` (a native
  id the hub has linked; an absent or unknown one says nothing, so a system that has no company for a person
  never clears it);
* out, in the record's own write: when the records it names already have native ids in a system, the create or
  update carries them (``payload["refs"]``, for operations the connector lists in ``carries_refs``) and they
  are remembered as written (``for_write``, ``carried``) — no extra call;
* out, the fallback: after a ticket or customer changes, its links are marked pending (``SyncLink.marker = "assoc"``). At the
  end of a pass ``sweep`` turns each pending link into one ``associate`` write ``{object, id, refs: {role:
  native id}}`` once every record it names has a native id in that system (a record still being created there
  waits for the next pass), and only if the system does not already show those associations (``seen["_assoc"]``
  holds what it reported or what the hub wrote). Connectors batch ``associate``: Salesforce composite
  collections, HubSpot v4 batch association calls, Zendesk ``update_many``.
"""

from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import select

from hub.db import dumps
from hub.sync import echo
from hub.sync.links import Links, data_of
from hub.sync.models import SyncLink

log = logging.getLogger(__name__)
PENDING = "assoc"  # SyncLink.marker of a ticket/customer link whose associations must be (re)checked
OBJECTS = ("ticket", "customer")
OPERATION = "associate"
SWEEP_CHUNK = 500
# (system, object) -> {role: native field naming the associated record}
NATIVE_REFS = {
    ("zendesk", "ticket"): {"customer": "requester_id", "organisation": "organization_id"},
    ("zendesk", "customer"): {"organisation": "organization_id"},
    ("salesforce", "ticket"): {"customer": "ContactId", "organisation": "AccountId"},
    ("salesforce", "customer"): {"organisation": "AccountId"},
    ("hubspot", "customer"): {"organisation": "associatedcompanyid"},
}


def _native_refs(system: str, object: str, native: dict) -> dict[str, str]:
    found = {}
    for role, path in NATIVE_REFS.get((system, object), {}).items():
        value = native.get(path)
        if value not in (None, "", 0):
            found[role] = str(value)
    return found


def reported(links: Links, system: str, object: str, native: dict) -> dict:
    """Canonical association fields ``native`` reports (only those naming a record the hub has linked)."""
    if object != "customer":
        return {}
    organisation = _native_refs(system, object, native).get("organisation")
    if not organisation:
        return {}
    link = links.by_native("organisation", system, organisation)
    return {"organisation_id": link.canonical_id} if link is not None else {}


def observe(link: SyncLink, system: str, object: str, native: dict) -> None:
    """Remember the associations the system reports for this record (so the hub does not write them again)."""
    refs = _native_refs(system, object, native)
    if not refs:
        return
    seen = echo.seen_of(link)
    current = dict(seen.get("_assoc") or {})
    if any(current.get(role) != value for role, value in refs.items()):
        current.update(refs)
        seen["_assoc"] = current
        link.seen = dumps(seen)


def touch(links: Links, object: str, canonical_id: str) -> None:
    """Mark every link of the record pending: its associations are checked at the end of the pass."""
    if object not in OBJECTS:
        return
    for link in links.all_of(object, canonical_id).values():
        link.marker = PENDING


# -- what each system should show -----------------------------------------------------------------------------

def _customer_of(links: Links, ticket: dict):
    requester = ticket.get("requester") or {}
    row = links.record("customer", requester["customer_id"]) if requester.get("customer_id") else None
    if row is None and requester.get("email"):
        row = links.record_by_email("customer", requester["email"])
    return row if row is not None and not row.deleted else None


def wanted(links: Links, object: str, canonical_id: str, system: str) -> tuple[dict[str, str], bool]:
    """``({role: native id in system}, waiting)``: waiting when a named record is still being created there."""
    row = links.record(object, canonical_id)
    if row is None or row.deleted:
        return {}, False
    return refs_for(links, object, data_of(row), system)


def refs_for(links: Links, object: str, data: dict, system: str) -> tuple[dict[str, str], bool]:
    """What the record ``data`` should be associated with in ``system``: ``({role: native id}, waiting)``."""
    targets: dict[str, tuple[str, str]] = {}  # role -> (object, canonical id)
    if object == "ticket":
        customer = _customer_of(links, data)
        if customer is not None:
            targets["customer"] = ("customer", customer.canonical_id)
            organisation = data_of(customer).get("organisation_id")
            if organisation:
                targets["organisation"] = ("organisation", organisation)
    elif object == "customer" and data.get("organisation_id"):
        targets["organisation"] = ("organisation", data["organisation_id"])
    refs, waiting = {}, False
    for role, (target_object, target_id) in targets.items():
        target = links.by_canonical(target_object, target_id, system)
        if target is None:
            continue  # the hub does not write that record there: nothing to associate with
        if target.native_id is None:
            waiting = True
        else:
            refs[role] = target.native_id
    return refs, waiting


# -- associations carried by the record's own write -----------------------------------------------------------

def for_write(connector, links: Links, object: str, data: dict, system: str, operation: str, link: SyncLink
              ) -> dict[str, str]:
    """The refs a record write should carry (``payload["refs"]``), or {} when the operation cannot carry them.

    A connector lists in ``carries_refs`` the operations whose payload may carry ``refs`` — ``"any"`` (the
    vendor takes the references on create and update: Salesforce ``ContactId``/``AccountId``, Zendesk
    ``requester_id``/``organization_id``) or ``"create"`` (only a create can: HubSpot batch create's
    ``associations``). Only records that already have a native id in ``system`` are named; the others are left
    to the sweep once they do.
    """
    if object not in OBJECTS:
        return {}
    mode = (getattr(connector, "carries_refs", None) or {}).get(operation)
    if mode is None or (mode == "create" and link.native_id):
        return {}
    refs, _ = refs_for(links, object, data, system)
    return refs


def carried(link: SyncLink, object: str, data: dict, refs: dict[str, str]) -> None:
    """The record's write carries ``refs``: the sweep must not write them again."""
    seen = echo.seen_of(link)
    seen["_assoc"] = {**(seen.get("_assoc") or {}), **refs}
    if object == "customer" and "organisation" in refs:
        # What the system will report back for the customer's organisation.
        seen["organisation_id"] = data.get("organisation_id")
    link.seen = dumps(seen)


# -- the end-of-pass sweep ------------------------------------------------------------------------------------

def sweep(hub, engine, systems=None) -> int:
    """Emit the association writes of every pending link that can be written now; returns how many."""
    from hub.sync.push import order_key
    systems = list(systems or engine.systems())
    writers = [s for s in systems if s in hub.connectors and OPERATION in _operations(hub.connectors[s])]
    if not writers:
        return 0
    sent, last_id = 0, 0
    while True:
        with hub.db.session() as session:
            rows = session.execute(select(SyncLink).where(
                SyncLink.marker == PENDING, SyncLink.object.in_(OBJECTS), SyncLink.system.in_(writers),
                SyncLink.id > last_id).order_by(SyncLink.id).limit(SWEEP_CHUNK)).scalars().all()
            if not rows:
                return sent
            last_id = rows[-1].id
            Links.start_cache(session)  # the chunk's records in one query; requesters looked up once each
            links = Links(session)
            links.prefetch_records((link.object, link.canonical_id) for link in rows)
            for link in rows:
                if link.native_id is None:
                    continue  # the record itself is still being written there
                refs, waiting = wanted(links, link.object, link.canonical_id, link.system)
                seen = echo.seen_of(link)
                current = seen.get("_assoc") or {}
                changed = {role: value for role, value in refs.items() if current.get(role) != value}
                if changed:
                    row = links.record(link.object, link.canonical_id)
                    payload = {"object": link.object, "id": link.native_id, "refs": dict(sorted(refs.items()))}
                    digest = hashlib.sha256(json.dumps(payload["refs"], sort_keys=True).encode()).hexdigest()[:8]
                    order = order_key(link.system, link.object, link.canonical_id)
                    key = f"{order}:v{row.version}:{OPERATION}:{digest}"
                    engine.pusher._emit(session, link.system, OPERATION, payload, key, order, kind=3)
                    carried(link, link.object, data_of(row), refs)
                    sent += 1
                if not waiting:
                    link.marker = None
            engine.pusher.flush(session)


def _operations(connector) -> set[str]:
    ops = set(getattr(connector, "batch_operations", {}) or {})
    ops |= set(getattr(connector, "operations", ()) or ())
    return ops
