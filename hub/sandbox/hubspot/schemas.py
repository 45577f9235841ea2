"""Custom object schemas: ``/crm-object-schemas/v3/schemas`` (the SDK's path) and ``/crm/v3/schemas``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

from hub.sandbox.hubspot import catalog, params
from hub.sandbox.hubspot.errors import HubSpotError, json_response, validation
from hub.sandbox.hubspot.properties import FIELD_TYPES, TYPES
from hub.sandbox.hubspot.values import iso_ms

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.hubspot import HubSpotEmulator
    from hub.sandbox.hubspot.store import PortalStore

FIRST_CUSTOM_TYPE = 2_100_001
ASSOCIABLE = {"CONTACT": "contacts", "COMPANY": "companies", "DEAL": "deals", "TICKET": "tickets"}


def create_schema(store: "PortalStore", payload: dict, now) -> dict:
    """Validate an ObjectSchemaEgg, register the type and return the ObjectSchema JSON."""
    name, labels, props = payload.get("name"), payload.get("labels") or {}, payload.get("properties")
    if not isinstance(name, str) or not name.isidentifier() or not labels.get("singular") or not labels.get("plural"):
        raise validation("name (letters, digits, underscores) and labels.singular/plural are required")
    if any(s["name"] == name for s in store.schemas.values()):
        raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"An object type with name {name} already exists")
    if not isinstance(props, list) or not props:
        raise validation("properties must be a non-empty list")
    names = [p.get("name") for p in props if isinstance(p, dict)]
    if len(names) != len(props) or not all(names) or len(set(names)) != len(names):
        raise validation("every property needs a distinct name")
    required = payload.get("requiredProperties") or []
    searchable = payload.get("searchableProperties") or []
    primary = payload.get("primaryDisplayProperty") or names[0]
    unknown = [n for n in [*required, *searchable, primary] if n not in names]
    if unknown:
        raise validation(f"Unknown properties referenced: {', '.join(unknown)}")
    associated = payload.get("associatedObjects") or []
    if any(a not in ASSOCIABLE for a in associated):
        raise validation(f"associatedObjects must be among {', '.join(ASSOCIABLE)}")

    stamp = iso_ms(now)
    number = FIRST_CUSTOM_TYPE + len(store.schemas)
    type_id = f"2-{number}"
    qualified = f"p{catalog.PORTAL_ID}_{name}"
    group = f"{name}_information"
    definitions = catalog.default_properties(type_id, stamp)
    for prop in props:
        kind, field_type = prop.get("type", "string"), prop.get("fieldType", "text")
        if kind not in TYPES or field_type not in FIELD_TYPES:
            raise validation(f"Invalid type/fieldType {kind}/{field_type} for {prop['name']}")
        options = tuple((str(o["value"]), str(o.get("label") or o["value"])) for o in prop.get("options") or [])
        definition = catalog.property_definition(
            prop["name"], prop.get("label") or prop["name"], kind, field_type, options,
            "unique" if prop.get("hasUniqueValue") else "", group=group, hubspot_defined=False,
            order=prop.get("displayOrder", -1), stamp=stamp)
        definitions[prop["name"]] = definition
    object_type = catalog.custom_type(type_id, name, tuple(required), tuple(searchable))
    store.add_type(object_type, definitions, [{"name": group, "label": f"{labels['singular']} information",
                                               "displayOrder": 0, "archived": False}], (name, qualified))
    associations = []
    for label in associated:
        other = ASSOCIABLE[label]
        type_id_forward = store.links.create_default_pair(type_id, other)
        associations.append({"id": str(type_id_forward), "fromObjectTypeId": type_id,
                             "toObjectTypeId": store.types[other].type_id,
                             "name": f"{name}_to_{store.types[other].singular}".upper(),
                             "createdAt": stamp, "updatedAt": stamp})
    schema = {"id": str(number), "objectTypeId": type_id, "fullyQualifiedName": qualified, "name": name,
              "labels": {"singular": labels["singular"], "plural": labels["plural"]},
              "description": payload.get("description", ""), "primaryDisplayProperty": primary,
              "requiredProperties": required, "searchableProperties": searchable,
              "secondaryDisplayProperties": payload.get("secondaryDisplayProperties") or [],
              "properties": list(definitions.values()), "associations": associations, "archived": False,
              "createdAt": stamp, "updatedAt": stamp, "createdByUserId": 9001, "updatedByUserId": 9001}
    store.schemas[type_id] = schema
    return schema


def register(bp: flask.Blueprint, emu: "HubSpotEmulator") -> None:
    store = emu.store

    def schema_of(object_type: str) -> dict:
        try:
            type_id = store.object_type(object_type).type_id
        except HubSpotError:
            type_id = None
        schema = store.schemas.get(type_id)
        if schema is None:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Unable to find object type {object_type}",
                               context={"objectType": [object_type]})
        return schema

    def current(schema: dict) -> dict:
        # Properties added later through the properties API show up in the schema, as in HubSpot.
        return schema | {"properties": [d for d in store.props[schema["objectTypeId"]].values() if not d["archived"]]}

    def list_schemas():
        with emu.lock:
            return json_response({"results": [current(s) for s in store.schemas.values()]})

    def create():
        payload = params.body()
        with emu.lock:
            return json_response(create_schema(store, payload, emu.now()), 201)

    def get_schema(object_type):
        with emu.lock:
            return json_response(current(schema_of(object_type)))

    for base in ("/crm-object-schemas/v3/schemas", "/crm/v3/schemas"):
        suffix = base.split("/")[1]
        bp.add_url_rule(base, f"schemas_list_{suffix}", list_schemas, methods=["GET"])
        bp.add_url_rule(base, f"schemas_create_{suffix}", create, methods=["POST"])
        bp.add_url_rule(f"{base}/<objtype:object_type>", f"schemas_get_{suffix}", get_schema, methods=["GET"])
