"""Owners (``/crm/v3/owners/``): the portal's support agents, referenced by ``hubspot_owner_id``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from hub.sandbox.hubspot import params
from hub.sandbox.hubspot.errors import HubSpotError, json_response, validation

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.hubspot import HubSpotEmulator

# (owner id, user id, first name, last name, email, team id, team name): one per escalation tier.
OWNERS = (
    ("80001", 9001, "Alex", "Morgan", "alex.morgan@sandbox.test", "501", "Support tier 1"),
    ("80002", 9002, "Priya", "Shah", "priya.shah@sandbox.test", "501", "Support tier 1"),
    ("80003", 9003, "Sam", "Okafor", "sam.okafor@sandbox.test", "502", "Support tier 2"),
    ("80004", 9004, "Lena", "Fischer", "lena.fischer@sandbox.test", "503", "Fraud and disputes"),
)
LIST_MAX = 500


def owner_ids() -> set[str]:
    return {row[0] for row in OWNERS}


def owner_json(row: tuple, stamp: str) -> dict:
    owner_id, user_id, first, last, email, team_id, team = row
    return {"id": owner_id, "email": email, "type": "PERSON", "firstName": first, "lastName": last,
            "userId": user_id, "userIdIncludingInactive": user_id, "createdAt": stamp, "updatedAt": stamp,
            "archived": False, "teams": [{"id": team_id, "name": team, "primary": True}]}


def register(bp: flask.Blueprint, emu: "HubSpotEmulator") -> None:
    def stamp() -> str:
        return emu.store.portal_created

    def list_owners():
        limit = params.query_int("limit", 100, LIST_MAX)
        email = flask.request.args.get("email")
        after = flask.request.args.get("after")
        if params.query_bool("archived"):
            return json_response({"results": []})
        rows = [r for r in OWNERS if (not email or r[4].lower() == email.lower()) and (not after or r[0] >= after)]
        out = {"results": [owner_json(r, stamp()) for r in rows[:limit]]}
        if len(rows) > limit:
            out["paging"] = {"next": {"after": rows[limit][0], "link": params.next_link(rows[limit][0])}}
        return json_response(out)

    def get_owner(owner_id):
        id_property = flask.request.args.get("idProperty", "id")
        if id_property not in ("id", "userId"):
            raise validation("idProperty must be id or userId")
        column = 0 if id_property == "id" else 1
        for row in OWNERS:
            if str(row[column]) == owner_id:
                return json_response(owner_json(row, stamp()))
        raise HubSpotError(404, "OBJECT_NOT_FOUND", f"No owner found with {id_property} {owner_id}",
                           context={"id": [owner_id]})

    bp.add_url_rule("/crm/v3/owners/", "owners_list", list_owners, methods=["GET"])
    bp.add_url_rule("/crm/v3/owners/<owner_id>", "owners_get", get_owner, methods=["GET"])
