"""Ticket fields: the system fields every account has, custom fields, and custom-field value rules."""

from __future__ import annotations

import re
from datetime import date

import flask

from hub.sandbox.zendesk.errors import invalid_attr, not_found, record_invalid
from hub.sandbox.zendesk.pagination import list_page
from hub.sandbox.zendesk.state import BRAND_ID, TICKET_FORM_ID, ZendeskState, ts, with_url

SYSTEM_FIELDS = (
    ("subject", "Subject", "Subject"), ("description", "Description", "Description"),
    ("status", "Status", "Request status"), ("tickettype", "Type", "Type"),
    ("priority", "Priority", "Priority"), ("group", "Group", "Group"), ("assignee", "Assignee", "Assignee"),
)
CUSTOM_TYPES = ("text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "tagger", "multiselect",
                "partialcreditcard", "lookup")
OPTION_TYPES = ("tagger", "multiselect")
FIELD_WRITABLE = ("title", "description", "position", "active", "required", "collapsed_for_agents",
                  "regexp_for_validation", "title_in_portal", "visible_in_portal", "editable_in_portal",
                  "required_in_portal", "tag", "agent_description")
SYSTEM_OPTIONS = {
    "status": [("Open", "open"), ("Pending", "pending"), ("Solved", "solved")],
    "tickettype": [("Question", "question"), ("Incident", "incident"), ("Problem", "problem"), ("Task", "task")],
    "priority": [("Low", "low"), ("Normal", "normal"), ("High", "high"), ("Urgent", "urgent")],
}


def present_field(field: dict) -> dict:
    return with_url(field, f"ticket_fields/{field['id']}.json")


def _base_field(state: ZendeskState, field_type: str, title: str, position: int, removable: bool, at=None) -> dict:
    field_id = state.next_id("ticket_field")
    when = state.touch("ticket_field", field_id, at)
    return {"id": field_id, "type": field_type, "title": title, "raw_title": title, "description": "",
            "raw_description": "", "position": position, "active": True, "required": False,
            "collapsed_for_agents": False, "regexp_for_validation": None, "title_in_portal": title,
            "raw_title_in_portal": title, "visible_in_portal": not removable, "editable_in_portal": not removable,
            "required_in_portal": False, "agent_can_edit": True, "tag": None, "created_at": ts(when),
            "updated_at": ts(when), "removable": removable, "key": None, "agent_description": None}


def install_system_fields(state: ZendeskState, at=None) -> None:
    for position, (field_type, title, portal_title) in enumerate(SYSTEM_FIELDS):
        field = _base_field(state, field_type, title, position, removable=False, at=at)
        field["title_in_portal"] = field["raw_title_in_portal"] = portal_title
        if field_type in SYSTEM_OPTIONS:
            field["system_field_options"] = [{"name": n, "value": v} for n, v in SYSTEM_OPTIONS[field_type]]
        if field_type == "status":
            field["sub_type_id"] = 0
            field["custom_statuses"] = []
        if field_type in ("subject", "description"):
            field["required"] = True
            field["required_in_portal"] = True
        state.ticket_fields[field["id"]] = field


def _options(state: ZendeskState, raw, current: list[dict] | None = None) -> list[dict]:
    known = {o["id"]: o for o in current or []}
    options = []
    for item in raw or []:
        if item.get("id") in known:  # an existing option may be sent by id alone
            item = {**known[item["id"]], **{k: v for k, v in item.items() if v is not None}}
        name = item.get("name")
        value = item.get("value")
        if not name or not value:
            raise invalid_attr("custom_field_options", "Field options: each option needs a name and a value",
                               "BlankValue")
        options.append({"id": item.get("id") or state.next_id("field_option"), "name": name, "raw_name": name,
                        "value": str(value).lower().replace(" ", "_"), "default": bool(item.get("default"))})
    return options


def create_field(state: ZendeskState, data: dict, at=None) -> dict:
    field_type, title = data.get("type"), data.get("title")
    if field_type not in CUSTOM_TYPES:
        raise invalid_attr("type", f"Type: {field_type} is not a valid field type", "InvalidValue")
    if not title or not str(title).strip():
        raise invalid_attr("title", "Title: cannot be blank", "BlankValue")
    position = 10_000 + len(state.ticket_fields)
    field = _base_field(state, field_type, str(title).strip(), data.get("position", position), True, at)
    for key in FIELD_WRITABLE:
        if key in data and key not in ("title", "position"):
            field[key] = data[key]
    if field_type in OPTION_TYPES:
        field["custom_field_options"] = _options(state, data.get("custom_field_options"))
        if not field["custom_field_options"]:
            raise invalid_attr("custom_field_options", "Field options: must have at least one option",
                               "BlankValue")
    if field_type == "regexp" and not field.get("regexp_for_validation"):
        raise invalid_attr("regexp_for_validation", "Regular expression: cannot be blank", "BlankValue")
    state.ticket_fields[field["id"]] = field
    return field


def update_field(state: ZendeskState, field: dict, data: dict) -> dict:
    if "type" in data and data["type"] != field["type"]:
        raise invalid_attr("type", "Type: cannot be changed", "InvalidValue")
    for key in FIELD_WRITABLE:
        if key in data:
            field[key] = data[key]
            if key == "title":
                field["raw_title"] = data[key]
    if "custom_field_options" in data and field["type"] in OPTION_TYPES:
        field["custom_field_options"] = _options(state, data["custom_field_options"],
                                                 field["custom_field_options"])
    field["updated_at"] = ts(state.touch("ticket_field", field["id"]))
    return field


def get_field(state: ZendeskState, field_id: int) -> dict:
    field = state.ticket_fields.get(field_id)
    if field is None:
        raise not_found()
    return field


def delete_field(state: ZendeskState, field_id: int) -> None:
    field = get_field(state, field_id)
    if not field["removable"]:
        raise record_invalid({"base": [{"description": "System fields cannot be deleted", "error": "InvalidValue"}]})
    del state.ticket_fields[field_id]


def _field_error(field: dict, message: str) -> Exception:
    return record_invalid({"base": [{"description": f"{field['title']}: {message}", "error": "InvalidValue",
                                     "ticket_field_id": field["id"], "ticket_field_type": field["type"]}]})


def coerce_value(field: dict, value):
    """Validate one custom field value the way Zendesk does; returns the value to store."""
    if value is None or value == "":
        return None
    kind = field["type"]
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes"):
            return True
        if str(value).lower() in ("false", "0", "no"):
            return False
        raise _field_error(field, "is not a checkbox value")
    if kind == "integer":
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value)):
            raise _field_error(field, "is not a number")
        return value
    if kind == "decimal":
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+(\.\d+)?", str(value)):
            raise _field_error(field, "is not a number")
        return value
    if kind == "date":
        try:
            date.fromisoformat(str(value))
        except ValueError as exc:
            raise _field_error(field, "is not a valid date (YYYY-MM-DD)") from exc
        return str(value)
    if kind == "regexp":
        if not re.fullmatch(field.get("regexp_for_validation") or ".*", str(value)):
            raise _field_error(field, "is invalid")
        return str(value)
    if kind in OPTION_TYPES:
        allowed = {o["value"] for o in field.get("custom_field_options", [])}
        values = value if isinstance(value, list) else [value]
        if kind == "tagger" and isinstance(value, list):
            raise _field_error(field, "takes one option")
        for item in values:
            if item not in allowed:
                raise _field_error(field, f"'{item}' is not a valid option")
        return value
    return value if isinstance(value, str) else str(value)


def field_tags(field: dict, value) -> list[str]:
    """Tags Zendesk adds for a field value (option values of taggers, the ``tag`` of a ticked checkbox)."""
    if value is None:
        return []
    if field["type"] in OPTION_TYPES:
        return list(value) if isinstance(value, list) else [value]
    if field["type"] == "checkbox" and value is True and field.get("tag"):
        return [field["tag"]]
    return []


def register(bp: flask.Blueprint, emu) -> None:
    """``ticket_fields.json`` CRUD."""
    route = emu.route

    @route(bp, "/api/v2/ticket_fields.json", methods=["GET"])
    def list_fields():
        ordered = sorted(emu.state.ticket_fields.values(), key=lambda f: (f["position"], f["id"]))
        return list_page([present_field(f) for f in ordered], lambda f: [f["position"], f["id"]], "ticket_fields")

    @route(bp, "/api/v2/ticket_fields.json", methods=["POST"])
    def create():
        return {"ticket_field": present_field(create_field(emu.state, emu.body("ticket_field")))}, 201

    @route(bp, "/api/v2/ticket_fields/<int:field_id>.json", methods=["GET"])
    def show(field_id):
        return {"ticket_field": present_field(get_field(emu.state, field_id))}

    @route(bp, "/api/v2/ticket_fields/<int:field_id>.json", methods=["PUT"])
    def update(field_id):
        field = update_field(emu.state, get_field(emu.state, field_id), emu.body("ticket_field"))
        return {"ticket_field": present_field(field)}

    @route(bp, "/api/v2/ticket_fields/<int:field_id>.json", methods=["DELETE"])
    def delete(field_id):
        delete_field(emu.state, field_id)
        return flask.Response(status=204)

    @route(bp, "/api/v2/ticket_fields/<int:field_id>/options.json", methods=["GET"])
    def options(field_id):
        field = get_field(emu.state, field_id)
        return {"custom_field_options": field.get("custom_field_options", []), "next_page": None,
                "previous_page": None, "count": len(field.get("custom_field_options", []))}

    def account_created() -> str:
        return min(f["created_at"] for f in emu.state.ticket_fields.values())

    def brand() -> dict:
        created = account_created()
        return with_url({"id": BRAND_ID, "name": "Sandbox", "brand_url": "https://sandbox.zendesk.com",
                         "subdomain": "sandbox", "host_mapping": None, "has_help_center": True,
                         "help_center_state": "enabled", "active": True, "default": True, "is_deleted": False,
                         "logo": None, "ticket_form_ids": [TICKET_FORM_ID],
                         "signature_template": "{{agent.signature}}", "created_at": created,
                         "updated_at": created}, f"brands/{BRAND_ID}.json")

    def form() -> dict:
        created = account_created()
        ids = [f["id"] for f in sorted(emu.state.ticket_fields.values(), key=lambda f: (f["position"], f["id"]))
               if f["active"]]
        return with_url({"id": TICKET_FORM_ID, "name": "Default Ticket Form", "raw_name": "Default Ticket Form",
                         "display_name": "Default Ticket Form", "raw_display_name": "Default Ticket Form",
                         "position": 1, "active": True, "end_user_visible": True, "default": True,
                         "in_all_brands": True, "restricted_brand_ids": [], "ticket_field_ids": ids,
                         "agent_conditions": [], "end_user_conditions": [], "created_at": created,
                         "updated_at": created, "brand_ids": [BRAND_ID]}, f"ticket_forms/{TICKET_FORM_ID}.json")

    @route(bp, "/api/v2/brands.json", methods=["GET"])
    def brands():
        return {"brands": [brand()], "next_page": None, "previous_page": None, "count": 1}

    @route(bp, "/api/v2/brands/<int:brand_id>.json", methods=["GET"])
    def show_brand(brand_id):
        if brand_id != brand()["id"]:
            raise not_found()
        return {"brand": brand()}

    @route(bp, "/api/v2/ticket_forms.json", methods=["GET"])
    def forms():
        return {"ticket_forms": [form()], "next_page": None, "previous_page": None, "count": 1}

    @route(bp, "/api/v2/ticket_forms/<int:form_id>.json", methods=["GET"])
    def show_form(form_id):
        if form_id != form()["id"]:
            raise not_found()
        return {"ticket_form": form()}
