"""Associations v4 routes: default and labelled pairs, listing, removal, batch create/read/archive, labels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from hub.sandbox.hubspot import params
from hub.sandbox.hubspot.errors import HubSpotError, json_response, validation
from hub.sandbox.hubspot.values import iso_ms

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.hubspot import HubSpotEmulator

OBJ = "/crm/v4/objects/<objtype:from_type>/<from_id>/associations"
PAIR = "/crm/v4/associations/<objtype:from_type>/<objtype:to_type>"
LIST_MAX = 500
BATCH_READ_PAGE = 500  # associations per input of a batch read; HubSpot pages each input on its own (``after``)


def _int_id(value: str):
    return int(value) if str(value).isdigit() else value


def register(bp: flask.Blueprint, emu: "HubSpotEmulator") -> None:
    store = emu.store

    def types_of(from_type: str, to_type: str) -> tuple[str, str]:
        return store.object_type(from_type).name, store.object_type(to_type).name

    def labels_pair(a: str, a_id: str, b: str, b_id: str) -> dict:
        type_ids = dict(store.links.targets(a, a_id, b)).get(b_id, [])
        return {"fromObjectTypeId": store.types[a].type_id, "fromObjectId": _int_id(a_id),
                "toObjectTypeId": store.types[b].type_id, "toObjectId": _int_id(b_id),
                "labels": sorted({store.links.kinds[t].label for t in type_ids if store.links.kinds[t].label})}

    def default_pair(a: str, a_id: str, b: str, b_id: str) -> list[dict]:
        kind = store.links.default_kind(a, b)
        store.links.add(a, a_id, b, b_id, [kind.type_id])
        return [{"from": {"id": a_id}, "to": {"id": b_id},
                 "associationSpec": {"associationCategory": kind.category, "associationTypeId": kind.type_id}},
                {"from": {"id": b_id}, "to": {"id": a_id},
                 "associationSpec": {"associationCategory": kind.category, "associationTypeId": kind.inverse_id}}]

    def spec_ids(a: str, b: str, specs) -> list[int]:
        if not isinstance(specs, list) or not specs:
            raise validation("Association types must be a non-empty list")
        return [store.links.kind((s or {}).get("associationTypeId"), a, b).type_id for s in specs]

    def batch_answer(results: list, errors: list, started, status: int) -> flask.Response:
        out = {"status": "COMPLETE", "results": results, "startedAt": iso_ms(started), "completedAt": iso_ms(emu.now())}
        if errors:
            out |= {"numErrors": len(errors), "errors": errors}
            status = 207
        return json_response(out, status)

    def create_default(from_type, from_id, to_type, to_id):
        started = emu.now()
        with emu.lock:
            a, b = types_of(from_type, to_type)
            store.find(a, from_id), store.find(b, to_id)
            results = default_pair(a, from_id, b, to_id)
        return batch_answer(results, [], started, 200)

    def create_labelled(from_type, from_id, to_type, to_id):
        specs = flask.request.get_json(silent=True)
        with emu.lock:
            a, b = types_of(from_type, to_type)
            store.find(a, from_id), store.find(b, to_id)
            store.links.add(a, from_id, b, to_id, spec_ids(a, b, specs))
            return json_response(labels_pair(a, from_id, b, to_id), 201)

    def list_associated(from_type, from_id, to_type):
        limit = params.query_int("limit", LIST_MAX, LIST_MAX)
        after = flask.request.args.get("after")
        with emu.lock:
            a, b = types_of(from_type, to_type)
            store.find(a, from_id)
            found = store.links.targets(a, from_id, b)
            rows = [(to_id, ids) for to_id, ids in found if not after or int(to_id) >= int(after)]
            out = {"results": [{"toObjectId": _int_id(to_id),
                                "associationTypes": [store.links.describe(t) for t in ids]} for to_id, ids in rows[:limit]]}
        if len(rows) > limit:
            following = rows[limit][0]
            out["paging"] = {"next": {"after": following, "link": params.next_link(following)}}
        return json_response(out)

    def remove_pair(from_type, from_id, to_type, to_id):
        with emu.lock:
            a, b = types_of(from_type, to_type)
            store.links.remove(a, from_id, b, to_id)
        return flask.Response(status=204)

    def batch_create(from_type, to_type):
        started, items = emu.now(), params.inputs(params.body(), 2000)
        with emu.lock:
            a, b = types_of(from_type, to_type)
            planned = []
            for item in items:
                from_id = str(((item or {}).get("from") or {}).get("id", ""))
                to_id = str(((item or {}).get("to") or {}).get("id", ""))
                store.find(a, from_id), store.find(b, to_id)
                planned.append((from_id, to_id, spec_ids(a, b, item.get("types"))))
            for from_id, to_id, type_ids in planned:
                store.links.add(a, from_id, b, to_id, type_ids)
            results = [labels_pair(a, f, b, t) for f, t, _ in planned]
        return batch_answer(results, [], started, 201)

    def batch_default(from_type, to_type):
        started, items = emu.now(), params.inputs(params.body(), 2000)
        with emu.lock:
            a, b = types_of(from_type, to_type)
            results = []
            for item in items:
                from_id = str(((item or {}).get("from") or {}).get("id", ""))
                to_id = str(((item or {}).get("to") or {}).get("id", ""))
                store.find(a, from_id), store.find(b, to_id)
                results.extend(default_pair(a, from_id, b, to_id)[:1])
        return batch_answer(results, [], started, 201)

    def batch_read(from_type, to_type):
        started, items = emu.now(), params.inputs(params.body(), 1000)
        with emu.lock:
            a, b = types_of(from_type, to_type)
            results, errors = [], []
            for item in items:
                from_id = str((item or {}).get("id", ""))
                after = str((item or {}).get("after") or "")
                if after and not after.isdigit():
                    raise validation(f"Invalid after token: {after}")
                found = store.links.targets(a, from_id, b) if store.lookup(a, from_id) else []
                found = [(t, ids) for t, ids in found if not after or int(t) >= int(after)]
                if not found:
                    errors.append(HubSpotError(
                        404, "OBJECT_NOT_FOUND", f"No {b} is associated with {store.types[a].singular} {from_id}.",
                        sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
                        context={"fromObjectId": [from_id]}).as_batch_error())
                    continue
                result = {"from": {"id": from_id},
                          "to": [{"toObjectId": _int_id(t), "associationTypes": [store.links.describe(i) for i in ids]}
                                 for t, ids in found[:BATCH_READ_PAGE]]}
                if len(found) > BATCH_READ_PAGE:  # present only when there are more; ``link`` is deprecated
                    following = found[BATCH_READ_PAGE][0]
                    result["paging"] = {"next": {"after": following, "link": (
                        f"{flask.request.host_url}crm/v4/objects/{a}/{from_id}/associations/{b}?after={following}")}}
                results.append(result)
        return batch_answer(results, errors, started, 200)

    def batch_archive(from_type, to_type):
        items = params.inputs(params.body(), 2000)
        with emu.lock:
            a, b = types_of(from_type, to_type)
            for item in items:
                from_id = str(((item or {}).get("from") or {}).get("id", ""))
                for target in (item or {}).get("to") or []:
                    store.links.remove(a, from_id, b, str((target or {}).get("id", "")))
        return flask.Response(status=204)

    def batch_archive_labels(from_type, to_type):
        items = params.inputs(params.body(), 2000)
        with emu.lock:
            a, b = types_of(from_type, to_type)
            for item in items:
                from_id = str(((item or {}).get("from") or {}).get("id", ""))
                to_id = str(((item or {}).get("to") or {}).get("id", ""))
                store.links.remove(a, from_id, b, to_id, spec_ids(a, b, item.get("types")))
        return flask.Response(status=204)

    def get_labels(from_type, to_type):
        with emu.lock:
            a, b = types_of(from_type, to_type)
            return json_response({"results": store.links.labels(a, b)})

    def create_label(from_type, to_type):
        payload = params.body()
        label = payload.get("label")
        if not label or not isinstance(label, str):
            raise validation("label is required")
        with emu.lock:
            a, b = types_of(from_type, to_type)
            return json_response({"results": store.links.create_label(a, b, label)}, 200)

    bp.add_url_rule(f"{OBJ}/default/<objtype:to_type>/<to_id>", "assoc_default", create_default, methods=["PUT"])
    bp.add_url_rule(f"{OBJ}/<objtype:to_type>/<to_id>", "assoc_create", create_labelled, methods=["PUT"])
    bp.add_url_rule(f"{OBJ}/<objtype:to_type>/<to_id>", "assoc_remove", remove_pair, methods=["DELETE"])
    bp.add_url_rule(f"{OBJ}/<objtype:to_type>", "assoc_list", list_associated, methods=["GET"])
    bp.add_url_rule(f"{PAIR}/batch/create", "assoc_batch_create", batch_create, methods=["POST"])
    bp.add_url_rule(f"{PAIR}/batch/associate/default", "assoc_batch_default", batch_default, methods=["POST"])
    bp.add_url_rule(f"{PAIR}/batch/read", "assoc_batch_read", batch_read, methods=["POST"])
    bp.add_url_rule(f"{PAIR}/batch/archive", "assoc_batch_archive", batch_archive, methods=["POST"])
    bp.add_url_rule(f"{PAIR}/batch/labels/archive", "assoc_batch_labels_archive", batch_archive_labels,
                    methods=["POST"])
    bp.add_url_rule(f"{PAIR}/labels", "assoc_labels", get_labels, methods=["GET"])
    bp.add_url_rule(f"{PAIR}/labels", "assoc_label_create", create_label, methods=["POST"])
