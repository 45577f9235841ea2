"""Batch routes ``/crm/v3/objects/{type}/batch/{create,read,update,upsert,archive}`` (at most 100 inputs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from hub.sandbox.hubspot import params
from hub.sandbox.hubspot.errors import HubSpotError, json_response, validation
from hub.sandbox.hubspot.values import iso_ms

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.hubspot import HubSpotEmulator

BASE = "/crm/v3/objects/<objtype:object_type>/batch"


def register(bp: flask.Blueprint, emu: "HubSpotEmulator") -> None:
    store = emu.store

    def answer(results: list, errors: list, started, status: int = 200) -> flask.Response:
        out = {"status": "COMPLETE", "results": results, "startedAt": iso_ms(started),
               "completedAt": iso_ms(emu.now())}
        if errors:
            out |= {"numErrors": len(errors), "errors": errors}
            status = 207
        return json_response(out, status)

    def traced(out: dict, item: dict) -> dict:
        if item.get("objectWriteTraceId"):
            out["objectWriteTraceId"] = item["objectWriteTraceId"]
        return out

    def unique_within_batch(name: str, values_list: list[dict]) -> None:
        """Two inputs of one batch must not claim the same unique value (HubSpot refuses the batch)."""
        for prop in store.unique_props(name):
            seen: set[str] = set()
            for values in values_list:
                value = values.get(prop)
                key = value.lower() if value and prop == "email" else value
                if value and key in seen:
                    raise validation(f"Duplicate value {value} for unique property {prop} in batch input",
                                     sub_category="DUPLICATE_UNIQUE_VALUE")
                seen.add(key)

    def batch_create(object_type):
        payload, started = params.body(), emu.now()
        items = params.inputs(payload)
        with emu.lock:
            name = store.object_type(object_type).name
            checked = []
            for item in items:
                props = (item or {}).get("properties") or {}
                checked.append(store.check(name, props, creating=True))
                store.links.check_v3_inputs(name, (item or {}).get("associations") or [])
            unique_within_batch(name, checked)
            results = [traced(store.render(store.create(name, item.get("properties") or {}, item.get("associations")),
                                           all_values=True), item) for item in items]
            return answer(results, [], started, 201)

    def batch_read(object_type):
        payload, started = params.body(), emu.now()
        items = params.inputs(payload)
        id_property = payload.get("idProperty")
        properties = payload.get("properties") or None
        history = payload.get("propertiesWithHistory") or None
        archived = params.query_bool("archived")
        with emu.lock:
            object_type_ = store.object_type(object_type)
            results, missing = [], []
            for item in items:
                object_id = str((item or {}).get("id", ""))
                record = store.lookup(object_type_.name, object_id, id_property, archived)
                if record is None:
                    missing.append(object_id)
                else:
                    results.append(store.render(record, properties, history))
        errors = []
        if missing:
            errors.append(HubSpotError(
                404, "OBJECT_NOT_FOUND",
                f"Could not get some {object_type_.singular.upper()} objects, they may be deleted or not exist. "
                "Check that ids are valid.", context={"ids": missing}).as_batch_error())
        return answer(results, errors, started)

    def batch_update(object_type):
        payload, started = params.body(), emu.now()
        items = params.inputs(payload)
        with emu.lock:
            object_type_ = store.object_type(object_type)
            name = object_type_.name
            ids = [str((item or {}).get("id", "")) for item in items]
            if len(set(ids)) != len(ids):
                raise validation("Duplicate IDs found in batch input: " + ", ".join(sorted(
                    {i for i in ids if ids.count(i) > 1})))
            found, missing = [], []
            for item, object_id in zip(items, ids):
                record = store.lookup(name, object_id, item.get("idProperty"))
                if record is None:
                    missing.append(object_id)
                else:
                    store.check(name, item.get("properties") or {}, creating=False, record=record)
                    found.append((item, record))
            results = [traced(store.render(store.update(record, item.get("properties") or {}), all_values=True), item)
                       for item, record in found]
        errors = [HubSpotError(404, "OBJECT_NOT_FOUND", f"Object not found. objectId: {object_id}",
                               context={"ids": [object_id]}).as_batch_error() for object_id in missing]
        return answer(results, errors, started)

    def batch_upsert(object_type):
        payload, started = params.body(), emu.now()
        items = params.inputs(payload)
        with emu.lock:
            name = store.object_type(object_type).name
            plan, planned = [], []
            for item in items:
                id_property = (item or {}).get("idProperty")
                object_id = str((item or {}).get("id", ""))
                if not id_property or id_property not in store.unique_props(name) or not object_id:
                    raise validation("Each upsert input needs id and an idProperty that is a unique property "
                                     f"of {name}", sub_category="INVALID_ID_PROPERTY")
                props = dict(item.get("properties") or {})
                record = store.lookup(name, object_id, id_property)
                if record is None:
                    props[id_property] = object_id
                    planned.append(store.check(name, props, creating=True))
                else:
                    store.check(name, props, creating=False, record=record)
                plan.append((item, record, props))
            unique_within_batch(name, planned)
            results = []
            for item, record, props in plan:
                if record is None:
                    out = store.render(store.create(name, props), all_values=True) | {"new": True}
                else:
                    out = store.render(store.update(record, props), all_values=True) | {"new": False}
                results.append(traced(out, item))
            return answer(results, [], started)

    def batch_archive(object_type):
        payload = params.body()
        items = params.inputs(payload)
        with emu.lock:
            name = store.object_type(object_type).name
            for item in items:
                record = store.lookup(name, str((item or {}).get("id", "")))
                if record is not None:
                    store.archive(record)
        return flask.Response(status=204)

    for verb, view in (("create", batch_create), ("read", batch_read), ("update", batch_update),
                       ("upsert", batch_upsert), ("archive", batch_archive)):
        bp.add_url_rule(f"{BASE}/{verb}", f"batch_{verb}", view, methods=["POST"])
