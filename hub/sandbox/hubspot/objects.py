"""Basic object routes: ``/crm/v3/objects/{type}[/{id}]`` and the contacts GDPR delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from hub.sandbox.hubspot import params
from hub.sandbox.hubspot.catalog import canonical_type_name
from hub.sandbox.hubspot.errors import json_response, not_found, validation

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.hubspot import HubSpotEmulator

BASE = "/crm/v3/objects/<objtype:object_type>"
LIST_MAX = 100


def register(bp: flask.Blueprint, emu: "HubSpotEmulator") -> None:
    store = emu.store

    def render(record, object_type: str) -> dict:
        out = store.render(record, params.query_list("properties") or None,
                           params.query_list("propertiesWithHistory") or None)
        wanted = [t for t in (canonical_type_name(a) for a in params.query_list("associations"))
                  if t in store.types]
        if wanted:
            block = store.links.v3_block(object_type, record.id, wanted)
            if block:
                out["associations"] = block
        return out

    def list_objects(object_type):
        with emu.lock:
            name = store.object_type(object_type).name
            limit = params.query_int("limit", 10, LIST_MAX)
            after = flask.request.args.get("after")
            if after is not None and not after.isdigit():
                raise validation(f"Invalid after cursor: {after}")
            records, next_after = store.page(name, after, limit, params.query_bool("archived"))
            out = {"results": [render(r, name) for r in records]}
        if next_after is not None:
            out["paging"] = {"next": {"after": next_after, "link": params.next_link(next_after)}}
        return json_response(out)

    def create_object(object_type):
        payload = params.body()
        with emu.lock:
            name = store.object_type(object_type).name
            record = store.create(name, payload.get("properties") or {}, payload.get("associations"))
            out = store.render(record, all_values=True)
        if payload.get("objectWriteTraceId"):
            out["objectWriteTraceId"] = payload["objectWriteTraceId"]
        return json_response(out, 201)

    def get_object(object_type, object_id):
        with emu.lock:
            name = store.object_type(object_type).name
            record = store.find(name, object_id, flask.request.args.get("idProperty"),
                                params.query_bool("archived"))
            return json_response(render(record, name))

    def update_object(object_type, object_id):
        payload = params.body()
        with emu.lock:
            name = store.object_type(object_type).name
            record = store.find(name, object_id, flask.request.args.get("idProperty"))
            store.update(record, payload.get("properties") or {})
            out = store.render(record, all_values=True)
        if payload.get("objectWriteTraceId"):
            out["objectWriteTraceId"] = payload["objectWriteTraceId"]
        return json_response(out)

    def archive_object(object_type, object_id):
        with emu.lock:
            name = store.object_type(object_type).name
            record = store.lookup(name, object_id)
            # HubSpot answers 204 whether or not the object existed: archiving is idempotent.
            if record is not None:
                store.archive(record)
        return flask.Response(status=204)

    def gdpr_delete():
        payload = params.body()
        object_id = payload.get("objectId")
        if not object_id:
            raise validation("objectId is required")
        id_property = payload.get("idProperty")
        with emu.lock:
            record = store.lookup("contacts", str(object_id), id_property)
            if record is None:
                record = store.lookup("contacts", str(object_id), id_property, archived=True)
            if record is not None:
                store.purge(record)
            elif id_property == "email":
                # HubSpot blocklists an unknown email so it can never be (re)used for a contact.
                store.blocklist.add(str(object_id).lower())
            else:
                raise not_found(str(object_id))
        return flask.Response(status=204)

    def merge_objects(object_type):
        payload = params.body()
        primary, other = payload.get("primaryObjectId"), payload.get("objectIdToMerge")
        if not primary or not other:
            raise validation("primaryObjectId and objectIdToMerge are required")
        with emu.lock:
            name = store.object_type(object_type).name
            return json_response(store.render(store.merge(name, str(primary), str(other)), all_values=True))

    bp.add_url_rule(f"{BASE}/merge", "merge_objects", merge_objects, methods=["POST"])
    bp.add_url_rule("/crm/v3/objects/contacts/gdpr-delete", "gdpr_delete", gdpr_delete, methods=["POST"])
    bp.add_url_rule(BASE, "list_objects", list_objects, methods=["GET"])
    bp.add_url_rule(BASE, "create_object", create_object, methods=["POST"])
    bp.add_url_rule(f"{BASE}/<object_id>", "get_object", get_object, methods=["GET"])
    bp.add_url_rule(f"{BASE}/<object_id>", "update_object", update_object, methods=["PATCH"])
    bp.add_url_rule(f"{BASE}/<object_id>", "archive_object", archive_object, methods=["DELETE"])
