"""Properties (``/crm/v3/properties/{type}``, groups) and pipelines (``/crm/v3/pipelines/{type}``) routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from hub.sandbox.hubspot import params
from hub.sandbox.hubspot.catalog import property_definition
from hub.sandbox.hubspot.errors import HubSpotError, json_response, validation
from hub.sandbox.hubspot.values import iso_ms

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.hubspot import HubSpotEmulator

PROPS = "/crm/v3/properties/<objtype:object_type>"
PIPES = "/crm/v3/pipelines/<objtype:object_type>"
TYPES = ("string", "number", "date", "datetime", "enumeration", "bool")
FIELD_TYPES = ("text", "textarea", "number", "date", "select", "radio", "checkbox", "booleancheckbox",
               "phonenumber", "html", "file", "calculation_equation")
UPDATABLE = ("label", "description", "groupName", "options", "displayOrder", "hidden", "fieldType", "formField")


def _missing(kind: str, name: str) -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", f"Unable to find {kind} {name}", context={"name": [name]})


def register(bp: flask.Blueprint, emu: "HubSpotEmulator") -> None:
    store = emu.store

    def definitions(object_type: str) -> tuple[str, dict]:
        name = store.object_type(object_type).name
        return name, store.props[name]

    def options_of(raw) -> tuple:
        if raw is None:
            return ()
        if not isinstance(raw, list) or any(not isinstance(o, dict) or "value" not in o for o in raw):
            raise validation("options must be a list of {label, value} objects")
        return tuple((str(o["value"]), str(o.get("label") or o["value"])) for o in raw)

    def group_names(type_name: str) -> set[str]:
        return {g["name"] for g in store.groups[type_name] if not g["archived"]}

    def list_properties(object_type):
        archived = params.query_bool("archived")
        with emu.lock:
            _, defs = definitions(object_type)
            return json_response({"results": [d for d in defs.values() if d["archived"] == archived]})

    def create_one(type_name: str, defs: dict, payload: dict) -> dict:
        if not isinstance(payload, dict):
            raise validation("Each property must be an object")
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not payload.get(k)]
        if missing:
            raise validation(f"Missing required fields: {', '.join(missing)}")
        name = payload["name"]
        if name in defs and not defs[name]["archived"]:
            raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"Property named '{name}' already exists.",
                               context={"name": [name]})
        if payload["type"] not in TYPES or payload["fieldType"] not in FIELD_TYPES:
            raise validation(f"Invalid type/fieldType {payload['type']}/{payload['fieldType']}")
        if payload["groupName"] not in group_names(type_name):
            raise validation(f"Property group {payload['groupName']} does not exist")
        flags = "unique" if payload.get("hasUniqueValue") else ""
        definition = property_definition(
            name, payload["label"], payload["type"], payload["fieldType"], options_of(payload.get("options")),
            flags, group=payload["groupName"], hubspot_defined=False, order=payload.get("displayOrder", -1),
            stamp=iso_ms(emu.now()))
        definition["description"] = payload.get("description", "")
        definition["hidden"] = bool(payload.get("hidden", False))
        defs[name] = definition
        return definition

    def create_property(object_type):
        payload = params.body()
        with emu.lock:
            type_name, defs = definitions(object_type)
            return json_response(create_one(type_name, defs, payload), 201)

    def batch_answer(results: list, errors: list, started, status: int) -> flask.Response:
        out = {"status": "COMPLETE", "results": results, "startedAt": iso_ms(started),
               "completedAt": iso_ms(emu.now())}
        if errors:
            out |= {"numErrors": len(errors), "errors": errors}
            status = 207
        return json_response(out, status)

    def batch_create(object_type):
        started, items = emu.now(), params.inputs(params.body())
        with emu.lock:
            type_name, defs = definitions(object_type)
            results, errors = [], []
            for item in items:
                try:
                    results.append(create_one(type_name, defs, item))
                except HubSpotError as exc:
                    errors.append(exc.as_batch_error())
        return batch_answer(results, errors, started, 201)

    def batch_read(object_type):
        started, payload = emu.now(), params.body()
        items, archived = params.inputs(payload), bool(payload.get("archived", False))
        with emu.lock:
            _, defs = definitions(object_type)
            names = [str((item or {}).get("name", "")) for item in items]
            found = [defs[n] for n in names if n in defs and defs[n]["archived"] == archived]
            missing = [n for n in names if n not in defs or defs[n]["archived"] != archived]
        errors = [_missing("property", n).as_batch_error() for n in missing]
        return batch_answer(found, errors, started, 200)

    def batch_archive(object_type):
        items = params.inputs(params.body())
        with emu.lock:
            _, defs = definitions(object_type)
            for item in items:
                definition = defs.get(str((item or {}).get("name", "")))
                if definition is not None and definition["modificationMetadata"]["archivable"]:
                    definition["archived"] = True
                    definition["archivedAt"] = iso_ms(emu.now())
        return flask.Response(status=204)

    def get_property(object_type, property_name):
        with emu.lock:
            _, defs = definitions(object_type)
            definition = defs.get(property_name)
            if definition is None or definition["archived"] != params.query_bool("archived"):
                raise _missing("property", property_name)
            return json_response(definition)

    def update_property(object_type, property_name):
        payload = params.body()
        with emu.lock:
            _, defs = definitions(object_type)
            definition = defs.get(property_name)
            if definition is None or definition["archived"]:
                raise _missing("property", property_name)
            if definition["modificationMetadata"]["readOnlyDefinition"]:
                raise validation(f"Property {property_name} is HubSpot-defined and its definition is read-only")
            for key in UPDATABLE:
                if key == "options" and key in payload:
                    definition["options"] = property_definition(
                        property_name, "", definition["type"], "", options_of(payload["options"]), "",
                        group="", hubspot_defined=False, order=0, stamp="")["options"]
                elif key in payload:
                    definition[key] = payload[key]
            definition["updatedAt"] = iso_ms(emu.now())
            return json_response(definition)

    def archive_property(object_type, property_name):
        with emu.lock:
            _, defs = definitions(object_type)
            definition = defs.get(property_name)
            if definition is None or definition["archived"]:
                raise _missing("property", property_name)
            if not definition["modificationMetadata"]["archivable"]:
                raise validation(f"Property {property_name} is HubSpot-defined and cannot be archived")
            definition["archived"] = True
            definition["archivedAt"] = iso_ms(emu.now())
        return flask.Response(status=204)

    def list_groups(object_type):
        with emu.lock:
            type_name = store.object_type(object_type).name
            return json_response({"results": [g for g in store.groups[type_name] if not g["archived"]]})

    def create_group(object_type):
        payload = params.body()
        with emu.lock:
            type_name = store.object_type(object_type).name
            if not payload.get("name") or not payload.get("label"):
                raise validation("Missing required fields: name, label")
            if payload["name"] in group_names(type_name):
                raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"Group named '{payload['name']}' already exists.")
            group = {"name": payload["name"], "label": payload["label"],
                     "displayOrder": payload.get("displayOrder", -1), "archived": False}
            store.groups[type_name].append(group)
            return json_response(group, 201)

    def get_group(object_type, group_name):
        with emu.lock:
            type_name = store.object_type(object_type).name
            for group in store.groups[type_name]:
                if group["name"] == group_name and not group["archived"]:
                    return json_response(group)
        raise _missing("group", group_name)

    def pipelines_of(object_type) -> dict:
        type_name = store.object_type(object_type).name
        if type_name not in store.pipelines:
            raise validation(f"Pipelines are not supported for {type_name}")
        return store.pipelines[type_name]

    def list_pipelines(object_type):
        with emu.lock:
            return json_response({"results": list(pipelines_of(object_type).values())})

    def get_pipeline(object_type, pipeline_id):
        with emu.lock:
            pipeline = pipelines_of(object_type).get(pipeline_id)
            if pipeline is None:
                raise _missing("pipeline", pipeline_id)
            return json_response(pipeline)

    def list_stages(object_type, pipeline_id):
        with emu.lock:
            pipeline = pipelines_of(object_type).get(pipeline_id)
            if pipeline is None:
                raise _missing("pipeline", pipeline_id)
            return json_response({"results": pipeline["stages"]})

    def get_stage(object_type, pipeline_id, stage_id):
        with emu.lock:
            pipeline = pipelines_of(object_type).get(pipeline_id)
            stage = next((s for s in (pipeline or {}).get("stages", []) if s["id"] == stage_id), None)
            if stage is None:
                raise _missing("stage", stage_id)
            return json_response(stage)

    bp.add_url_rule(PROPS, "props_list", list_properties, methods=["GET"])
    bp.add_url_rule(PROPS, "props_create", create_property, methods=["POST"])
    bp.add_url_rule(f"{PROPS}/batch/create", "props_batch_create", batch_create, methods=["POST"])
    bp.add_url_rule(f"{PROPS}/batch/read", "props_batch_read", batch_read, methods=["POST"])
    bp.add_url_rule(f"{PROPS}/batch/archive", "props_batch_archive", batch_archive, methods=["POST"])
    bp.add_url_rule(f"{PROPS}/groups", "groups_list", list_groups, methods=["GET"])
    bp.add_url_rule(f"{PROPS}/groups", "groups_create", create_group, methods=["POST"])
    bp.add_url_rule(f"{PROPS}/groups/<group_name>", "groups_get", get_group, methods=["GET"])
    bp.add_url_rule(f"{PROPS}/<property_name>", "props_get", get_property, methods=["GET"])
    bp.add_url_rule(f"{PROPS}/<property_name>", "props_update", update_property, methods=["PATCH"])
    bp.add_url_rule(f"{PROPS}/<property_name>", "props_archive", archive_property, methods=["DELETE"])
    bp.add_url_rule(PIPES, "pipelines_list", list_pipelines, methods=["GET"])
    bp.add_url_rule(f"{PIPES}/<pipeline_id>", "pipelines_get", get_pipeline, methods=["GET"])
    bp.add_url_rule(f"{PIPES}/<pipeline_id>/stages", "stages_list", list_stages, methods=["GET"])
    bp.add_url_rule(f"{PIPES}/<pipeline_id>/stages/<stage_id>", "stages_get", get_stage, methods=["GET"])
