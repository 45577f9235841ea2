"""Merge propagation: records merged in one system are merged (or closed and relinked) in the others.

How each system shows a merge (the loser comes through the change stream as deleted):

* Salesforce: the merged-away Contact/Account/Case is deleted with ``MasterRecordId`` = the survivor;
* HubSpot: ``POST /crm/v3/objects/{type}/merge`` archives the merged-away record and its id keeps resolving to
  the survivor (``GET`` by the old id answers the survivor), so an archived record whose id now reads as another
  record was merged into it;
* Zendesk (tickets): ``POST tickets/{target}/merge.json`` closes each source with the tag ``closed_by_merge``;
  its merge audit's ``via`` (channel ``merge``) names the target in ``source.to.ticket_id`` (``merged_away``);
* Zendesk (users): ``PUT users/{source}/merge.json`` deletes the source and moves its tickets and email
  identities to the target, so a deleted user whose email an active user now holds was merged into that user.

What the hub does (``apply``, inside the page's transaction):

1. the loser's canonical record ``A`` becomes a tombstone (``deleted``, ``data.merged_into = B``): a later read
   or edit of the loser anywhere maps to it and is ignored, so it is never recreated or duplicated, and nothing
   is deleted anywhere;
2. the survivor ``B`` (the canonical record linked to the survivor's native id; when the hub does not know the
   survivor, the loser's link simply moves to the survivor's id and ``A`` lives on);
3. in each other system: if it has both ``A`` and ``B``, they are merged there — HubSpot's merge endpoint; a
   Zendesk ticket or Salesforce Case is closed with an internal note naming the survivor (``merge_fallback``);
   Zendesk end users are merged (``merge_users``; a pair with an agent or admin is listed with the sync failures
   instead); Salesforce people and organisations and Zendesk organisations are left as they are (their REST APIs
   have no merge the hub can use safely) and the reason is listed with the sync failures; if it has only ``A``, that copy becomes
   ``B``'s (the link is repointed), so ``B``'s later edits reach it by its native id.
"""

from __future__ import annotations

import logging

from hub import clock
from hub.db import dumps
from hub.sync.links import Links, data_of

log = logging.getLogger(__name__)
NOTE = "Merged into {survivor} ({system} merge of {loser} into {survivor_native}); continue there."
# object -> HubSpot object type for its merge endpoint
HUBSPOT_TYPES = {"ticket": "tickets", "customer": "contacts", "organisation": "companies"}


ZENDESK_MERGED_TAG = "closed_by_merge"  # what Zendesk tags a ticket merged into another with (and closes it)


def merged_away(engine, session, links: Links, system: str, object: str, link, native: dict) -> str | None:
    """A live-looking record that was in fact merged away (a Zendesk ticket closed by a merge): the merge is
    applied and its outcome returned; None for everything else (the record is applied as usual)."""
    if link is None or system != "zendesk" or object != "ticket":
        return None
    if native.get("status") != "closed" or ZENDESK_MERGED_TAG not in (native.get("tags") or []):
        return None
    row = links.record(object, link.canonical_id)
    if row is None or row.deleted:
        return None
    connector = engine.hub.connectors.get(system)
    try:
        survivor = connector.merged_into(link.native_id) if connector is not None else None
    except Exception as exc:  # not knowing is not a merge: the ticket syncs as a closed one
        log.warning("zendesk: could not tell where ticket %s was merged: %s", link.native_id, exc)
        return None
    if not survivor:
        return None
    return apply(engine, session, links, system, object, link, survivor)


def survivor_of(engine, system: str, object: str, native: dict, native_id: str,
                known: dict | None = None) -> str | None:
    """The survivor's native id when the deleted ``native`` record was merged away, else None (``known``: the
    hub's canonical data of the record)."""
    if system == "zendesk" and object == "customer":
        connector = engine.hub.connectors.get(system)
        emails = [native.get("email"), (known or {}).get("email")]
        if connector is None or not any(emails) or not hasattr(connector, "user_merged_into"):
            return None
        try:
            return connector.user_merged_into(native_id, emails)
        except Exception as exc:  # not knowing is not a merge: the delete goes ahead as before
            log.warning("zendesk: could not tell whether user %s was merged: %s", native_id, exc)
            return None
    if system == "salesforce":
        master = native.get("MasterRecordId")
        return str(master) if master and str(master) != native_id else None
    if system == "hubspot":
        connector = engine.hub.connectors.get(system)
        if connector is None or object not in HUBSPOT_TYPES:
            return None
        try:
            current = connector.get(object, native_id)  # a merged-away id answers the survivor
        except Exception as exc:  # not knowing is not a merge: the delete goes ahead as before
            log.warning("hubspot: could not tell whether %s %s was merged: %s", object, native_id, exc)
            return None
        found = str((current or {}).get("id") or "")
        return found if found and found != native_id and not (current or {}).get("archived") else None
    return None


def apply(engine, session, links: Links, system: str, object: str, loser_link, survivor_native: str) -> str:
    """Repoint the hub's links to the survivor and emit the merge in the other systems; returns the outcome."""
    loser = links.record(object, loser_link.canonical_id)
    if loser is None or loser.deleted:
        return "unchanged"
    survivor_link = links.by_native(object, system, survivor_native)
    survivor = links.record(object, survivor_link.canonical_id) if survivor_link is not None else None
    if survivor is None or survivor.deleted:
        # The hub does not know the survivor here: it is the loser's record from now on.
        if survivor_link is not None:
            session.delete(survivor_link)
            session.flush()
        loser_link.native_id = str(survivor_native)
        loser_link.updated_at = clock.now()
        return "merged"
    if survivor.canonical_id == loser.canonical_id:
        return "unchanged"
    for other, link in links.all_of(object, loser.canonical_id).items():
        if other == system:
            continue
        kept = links.by_canonical(object, survivor.canonical_id, other)
        if kept is None:
            link.canonical_id = survivor.canonical_id  # the only copy there now belongs to the survivor
            link.updated_at = clock.now()
        elif link.native_id and kept.native_id:
            _merge_in(engine, session, other, object, loser.canonical_id, link.native_id, kept.native_id,
                      survivor.canonical_id, system)
    data = data_of(loser)
    data["merged_into"] = survivor.canonical_id
    loser.data = dumps(data)
    loser.deleted = True
    loser.version += 1
    loser.updated_at = clock.now()
    # Plugins see the loser go away (``ticket.deleted``, SLA timers stop), with ``merged_into`` naming the survivor.
    engine._event(session, links, object, "deleted", loser, dict(data), system, loser_link.native_id)
    log.info("sync: %s %s merged into %s (from %s)", object, loser.canonical_id, survivor.canonical_id, system)
    return "merged"


def _merge_in(engine, session, system: str, object: str, loser_id: str, loser_native: str, survivor_native: str,
              survivor_id: str, source: str) -> None:
    from hub.sync.push import order_key
    order = order_key(system, object, loser_id)
    key = f"{order}:merge"
    emit = engine.pusher._emit
    if system == "hubspot":
        emit(session, system, "merge", {"object": object, "primary_id": survivor_native, "merged_id": loser_native},
             f"{key}:merge", order, kind=3)
        return
    if system == "zendesk" and object == "customer":
        _merge_zendesk_users(engine, session, loser_id, loser_native, survivor_native, survivor_id, source,
                             f"{key}:merge_users", order)
        return
    if object != "ticket":
        engine.record_failure(session, system, object, loser_native,
                              f"merged in {source} into {survivor_id}: {system} has no API merge for this record; "
                              f"merge {loser_native} into {survivor_native} there by hand")
        return
    note = NOTE.format(survivor=survivor_id, system=source, loser=loser_id, survivor_native=survivor_native)
    if system == "zendesk":
        emit(session, system, "add_comment", {"ticket_id": loser_native, "body": note, "public": False},
             f"{key}:note", order, kind=3)
        emit(session, system, "update_ticket", {"ticket_id": loser_native, "status": "solved"},
             f"{key}:close", order, kind=3)
    elif system == "salesforce":
        emit(session, system, "add_case_comment", {"case_id": loser_native, "body": note, "public": False},
             f"{key}:note", order, kind=3)
        emit(session, system, "update_case", {"case_id": loser_native, "fields": {"Status": "Closed"}},
             f"{key}:close", order, kind=3)


def _merge_zendesk_users(engine, session, loser_id: str, loser_native: str, survivor_native: str, survivor_id: str,
                         source: str, key: str, order: str) -> None:
    """Zendesk merges end users only (``merge_users``); a pair with an agent or admin stays a listed failure."""
    connector = engine.hub.connectors.get("zendesk")
    roles = {}
    for native_id in (loser_native, survivor_native):
        try:
            user = connector.get("customer", native_id) if connector is not None else None
        except Exception as exc:  # not knowing the role: the merge write checks it again (and refuses agents)
            log.warning("zendesk: could not read user %s before merging: %s", native_id, exc)
            user = None
        roles[native_id] = (user or {}).get("role") or "end-user"
    staff = {n: r for n, r in roles.items() if r != "end-user"}
    if staff:
        who = ", ".join(f"{n} is an {r}" for n, r in sorted(staff.items()))
        engine.record_failure(session, "zendesk", "customer", loser_native,
                              f"merged in {source} into {survivor_id}: zendesk merges end users only ({who}); "
                              f"merge {loser_native} into {survivor_native} there by hand")
        return
    loser = Links(session).record("customer", loser_id)
    email = data_of(loser).get("email") if loser is not None else None
    emails = [str(email).strip().lower()] if email else []  # how the merge write knows it is done already
    engine.pusher._emit(session, "zendesk", "merge_users",
                        {"source_id": loser_native, "target_id": survivor_native, "emails": emails},
                        key, order, kind=3)
