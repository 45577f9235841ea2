"""Ticket writes: create, update, soft delete and tag changes, each with its audit and webhook events."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.sandbox.zendesk import participants, people
from hub.sandbox.zendesk.comments import AuditBuilder, new_comment, present_attachment, via
from hub.sandbox.zendesk.errors import invalid_attr, not_found, record_invalid, update_conflict
from hub.sandbox.zendesk.fields import coerce_value, field_tags
from hub.sandbox.zendesk.state import (BRAND_ID, CUSTOM_STATUS_IDS, PRIORITIES, STATUS_ORDER, TICKET_FORM_ID,
                                       TICKET_TYPES, ZendeskState, ts, with_url)

# (payload key, audit field name, webhook event suffix) for the plain scalar attributes.
SCALARS = (("subject", "subject", "subject_changed"), ("status", "status", "status_changed"),
           ("priority", "priority", "priority_changed"), ("type", "type", "type_changed"),
           ("assignee_id", "assignee_id", "agent_assignment_changed"),
           ("group_id", "group_id", "group_assignment_changed"),
           ("requester_id", "requester_id", "requester_changed"),
           ("organization_id", "organization_id", "organization_changed"),
           ("external_id", "external_id", "external_id_changed"), ("due_at", "due_at", "due_at_changed"),
           ("problem_id", "problem_id", "problem_link_changed"))


@dataclass
class WriteResult:
    ticket: dict
    audit: dict | None
    events: list[tuple[str, dict]] = field(default_factory=list)


def present_ticket(state: ZendeskState, ticket: dict) -> dict:
    out = {k: v for k, v in ticket.items() if not k.startswith("_")}
    values = ticket["_cf"]
    custom = [{"id": f["id"], "value": values.get(f["id"])} for f in state.custom_fields()]
    out["custom_fields"] = custom
    out["fields"] = [dict(c) for c in custom]
    out["custom_status_id"] = CUSTOM_STATUS_IDS.get(ticket["status"])
    return with_url(out, f"tickets/{ticket['id']}.json")


def get_live(state: ZendeskState, ticket_id: int) -> dict:
    ticket = state.live_ticket(ticket_id)
    if ticket is None:
        raise not_found()
    return ticket


def _resolve_requester(state: ZendeskState, data: dict, actor_id: int) -> int:
    if isinstance(data.get("requester"), dict):
        spec = data["requester"]
        user = state.user_by_email(spec.get("email"))
        if user is None:
            name = spec.get("name") or (spec.get("email") or "").split("@")[0]
            user = people.create_user(state, {"name": name, "email": spec.get("email"),
                                              "locale": spec.get("locale")})
        return user["id"]
    if data.get("requester_id") is not None:
        return int(data["requester_id"])
    return actor_id


def _validate(state: ZendeskState, values: dict) -> None:
    status = values.get("status")
    if status is not None and status not in STATUS_ORDER:
        raise invalid_attr("status", f"Status: {status} is not valid", "InvalidValue")
    priority = values.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise invalid_attr("priority", f"Priority: {priority} is not valid", "InvalidValue")
    kind = values.get("type")
    if kind is not None and kind not in TICKET_TYPES:
        raise invalid_attr("type", f"Type: {kind} is not valid", "InvalidValue")
    if values.get("requester_id") is not None and values["requester_id"] not in state.users:
        raise invalid_attr("requester", "Requester: is invalid", "InvalidValue")
    assignee = values.get("assignee_id")
    if assignee is not None:
        user = state.users.get(assignee)
        if user is None or user["role"] == "end-user":
            raise invalid_attr("assignee", "Assignee: is not an agent", "InvalidValue")
    if values.get("group_id") is not None and values["group_id"] not in state.groups:
        raise invalid_attr("group", "Group: is invalid", "InvalidValue")
    if values.get("organization_id") is not None and values["organization_id"] not in state.organizations:
        raise invalid_attr("organization", "Organization: is invalid", "InvalidValue")


def _custom_values(state: ZendeskState, data: dict) -> dict[int, object]:
    """Custom field values from ``custom_fields`` or its alias ``fields`` (unknown ids are ignored)."""
    raw = data.get("custom_fields") if data.get("custom_fields") is not None else data.get("fields")
    out: dict[int, object] = {}
    if isinstance(raw, dict):  # {"<id>": value} is accepted as well
        raw = [{"id": k, "value": v} for k, v in raw.items()]
    for item in raw or []:
        try:
            field_id = int(item["id"])
        except (KeyError, TypeError, ValueError):
            continue
        definition = state.ticket_fields.get(field_id)
        if definition is None or not definition["removable"]:
            continue
        out[field_id] = coerce_value(definition, item.get("value"))
    return out


def _int_or_none(value, attribute: str = "id"):
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise invalid_attr(attribute, f"{attribute}: {value!r} is not a valid id", "InvalidValue") from exc


def _subject_from(body: str) -> str:
    """Zendesk fills a missing subject from the start of the description."""
    lines = body.strip().splitlines()
    return lines[0][:100] if lines else ""


def create_ticket(state: ZendeskState, data: dict, actor_id: int, channel: str = "api", at=None,
                  notify: bool = True) -> WriteResult:
    comment_data = dict(data.get("comment") or {})
    if not comment_data and data.get("description"):
        comment_data = {"body": data["description"]}
    if not (comment_data.get("body") or comment_data.get("html_body")):
        raise invalid_attr("description", "Description: cannot be blank", "BlankValue")
    requester_id = _resolve_requester(state, data, actor_id)
    values = {"requester_id": requester_id, "status": data.get("status"), "priority": data.get("priority"),
              "type": data.get("type"), "assignee_id": _int_or_none(data.get("assignee_id")),
              "group_id": _int_or_none(data.get("group_id")),
              "organization_id": _int_or_none(data.get("organization_id"))}
    _validate(state, values)
    custom = _custom_values(state, data)
    people_on = participants.plan(state, {"requester_id": requester_id}, data)
    requester = state.users[requester_id]
    if values["organization_id"] is None:
        values["organization_id"] = requester.get("organization_id")
    if values["assignee_id"] is not None and values["group_id"] is None:
        values["group_id"] = state.users[values["assignee_id"]].get("default_group_id")
    status = values["status"] or ("open" if values["assignee_id"] else "new")
    if status in ("solved", "closed") and values["assignee_id"] is None:
        values["assignee_id"] = actor_id
    ticket_id = state.next_id("ticket")
    when = state.touch("ticket", ticket_id, at)
    audit = AuditBuilder(state, ticket_id, actor_id, channel, when)
    comment = new_comment(state, ticket_id, comment_data, actor_id, audit.id, channel, when)
    subject = data.get("subject") or _subject_from(comment["body"])
    tags = people.normalize_tags(data.get("tags"))
    for field_id, value in custom.items():
        tags += [t for t in field_tags(state.ticket_fields[field_id], value) if t not in tags]
    ticket = {
        "id": ticket_id, "external_id": None if data.get("external_id") is None else str(data["external_id"]),
        "via": via(channel, requester), "created_at": ts(when), "updated_at": ts(when),
        "generated_timestamp": int(when.timestamp()), "type": values["type"], "subject": subject,
        "raw_subject": subject, "description": comment["body"], "priority": values["priority"], "status": status,
        "recipient": data.get("recipient"), "requester_id": requester_id,
        "submitter_id": int(data.get("submitter_id") or actor_id), "assignee_id": values["assignee_id"],
        "organization_id": values["organization_id"], "group_id": values["group_id"],
        "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [],
        "forum_topic_id": None, "problem_id": _int_or_none(data.get("problem_id")), "has_incidents": False,
        "is_public": comment["public"], "due_at": data.get("due_at") if values["type"] == "task" else None,
        "tags": tags, "satisfaction_rating": None, "sharing_agreement_ids": [], "followup_ids": [],
        "ticket_form_id": TICKET_FORM_ID, "brand_id": BRAND_ID, "allow_channelback": False,
        "allow_attachments": True, "from_messaging_channel": False, "_cf": custom,
    }
    participants.assign(ticket, people_on)
    state.tickets[ticket_id] = ticket
    audit.comment(comment)
    for key in ("subject", "status", "priority", "type", "requester_id", "assignee_id", "group_id",
                "organization_id"):
        if ticket[key] is not None:
            audit.create(key, str(ticket[key]) if key.endswith("_id") else ticket[key])
    if tags:
        audit.create("tags", tags)
    for field_id, value in custom.items():
        audit.create(str(field_id), value)
    events = [("ticket.created", {})] if notify else []
    return WriteResult(ticket, audit.save(), events)


def update_ticket(state: ZendeskState, ticket_id: int, data: dict, actor_id: int, at=None,
                  via_of: dict | None = None) -> WriteResult:
    """``at``: when the change happened, for seeded history (default: now); ``via_of``: the audit's ``via``
    (a merge's, instead of the API's)."""
    ticket = get_live(state, ticket_id)
    if ticket["status"] == "closed":
        raise record_invalid({"status": [{"description": "Status: closed prevents ticket update",
                                          "error": "ClosedPrevention"}]})
    if data.get("safe_update") and data.get("updated_stamp") != ticket["updated_at"]:
        raise update_conflict()
    if data.get("comment") is not None and not isinstance(data["comment"], dict):
        raise invalid_attr("comment", "Comment: must be an object with a body", "InvalidValue")
    if data.get("status") == "new" and ticket["status"] != "new":
        raise invalid_attr("status", "Status: new is not valid for a ticket that is not new", "InvalidValue")
    values = {key: data[key] for key, _, _ in SCALARS if key in data}
    if isinstance(data.get("requester"), dict) or "requester_id" in data:
        values["requester_id"] = _resolve_requester(state, data, actor_id)
    for key in ("assignee_id", "group_id", "organization_id", "requester_id", "problem_id"):
        if key in values:
            values[key] = _int_or_none(values[key])
    if "external_id" in values and values["external_id"] is not None:
        values["external_id"] = str(values["external_id"])
    _validate(state, values)
    custom = _custom_values(state, data)
    people_on = participants.plan(state, {**ticket, **values}, data)
    if values.get("assignee_id") and "group_id" not in values and ticket["group_id"] is None:
        values["group_id"] = state.users[values["assignee_id"]].get("default_group_id")
    if values.get("status") in ("solved", "closed") and ticket["assignee_id"] is None and not values.get(
            "assignee_id"):
        values["assignee_id"] = actor_id
    if ticket["status"] == "new" and values.get("assignee_id") and "status" not in values:
        values["status"] = "open"

    audit = AuditBuilder(state, ticket_id, actor_id, at=at)
    if via_of is not None:
        audit.audit["via"] = via_of
    events: list[tuple[str, dict]] = []
    for key, field_name, suffix in SCALARS:
        if key in values and values[key] != ticket[key]:
            previous = ticket[key]
            ticket[key] = values[key]
            if key == "subject":
                ticket["raw_subject"] = values[key]
            audit.change(field_name, values[key], previous)
            events.append((f"ticket.{suffix}", _change_event(key, values[key], previous)))
    old_tags = list(ticket["tags"])
    new_tags = _next_tags(state, ticket, data, custom)
    for field_id, value in custom.items():
        previous = ticket["_cf"].get(field_id)
        if value != previous:
            ticket["_cf"][field_id] = value
            audit.change(str(field_id), value, previous)
            events.append(("ticket.custom_field_changed",
                           {"current": value, "previous": previous, "custom_field_id": str(field_id)}))
    if new_tags != old_tags:
        ticket["tags"] = new_tags
        audit.change("tags", new_tags, old_tags)
        events.append(("ticket.tags_changed", {"tags_added": [t for t in new_tags if t not in old_tags],
                                               "tags_removed": [t for t in old_tags if t not in new_tags]}))
    moved = participants.assign(ticket, people_on)
    comment_data = data.get("comment")
    if comment_data and (comment_data.get("body") or comment_data.get("html_body")):
        comment = new_comment(state, ticket_id, comment_data, actor_id, audit.id, at=at)
        audit.comment(comment)
        author = state.users.get(comment["author_id"]) or {}
        events.append(("ticket.comment_added", {"comment": {
            "id": str(comment["id"]), "body": comment["body"], "is_public": comment["public"],
            "author": {"id": str(comment["author_id"]), "is_staff": author.get("role") != "end-user",
                       "name": author.get("name")}}}))
    if audit.audit["events"] or moved:
        # A change of CCs or followers alone moves updated_at too (the emulator writes no audit event for it).
        when = state.touch("ticket", ticket_id, at)
        ticket["updated_at"] = ts(when)
        ticket["generated_timestamp"] = int(when.timestamp())
        audit.audit["created_at"] = ts(when)
        if audit.audit["events"]:
            return WriteResult(ticket, audit.save(), events)
    return WriteResult(ticket, audit.audit, [])


MERGED_TAG = "closed_by_merge"


def merge_tickets(state: ZendeskState, target_id: int, data: dict, actor_id: int) -> list[WriteResult]:
    """``POST tickets/{target}/merge``: each source is closed with a comment saying where it went and the tag
    ``closed_by_merge``; the target gets a comment naming the sources. Comments are private unless
    ``*_comment_is_public``; each audit's ``via`` is channel ``merge`` with the other ticket(s) in its source."""
    target = get_live(state, target_id)
    ids = [int(i) for i in data.get("ids") or []]
    if not ids:
        raise invalid_attr("ids", "Ids: must name the tickets to merge", "InvalidValue")
    sources = []
    for source_id in ids:
        source = get_live(state, source_id)
        if source_id == target_id or source["status"] == "closed" or target["status"] == "closed":
            raise record_invalid({"base": [{"description": f"Ticket {source_id} cannot be merged into {target_id}",
                                            "error": "MergeFailed"}]})
        sources.append(source)
    results = []
    for source in sources:
        body = data.get("source_comment") or (f'This request was closed and merged into request #{target_id} '
                                              f'"{target["subject"]}".')
        results.append(update_ticket(state, source["id"], {
            "status": "closed", "additional_tags": [MERGED_TAG],
            "comment": {"body": body, "public": bool(data.get("source_comment_is_public", False))}}, actor_id,
            via_of={"channel": "merge", "source": {"from": {}, "to": {"ticket_id": target_id,
                                                                     "subject": target["subject"]},
                                                   "rel": "merge"}}))
    names = ", ".join(f'#{s["id"]} "{s["subject"]}"' for s in sources)
    body = data.get("target_comment") or f"Request {names} was closed and merged into this request."
    results.append(update_ticket(state, target_id, {
        "comment": {"body": body, "public": bool(data.get("target_comment_is_public", False))}}, actor_id,
        via_of={"channel": "merge", "source": {"from": {"ticket_ids": ids, "subject": sources[0]["subject"]},
                                               "to": {}, "rel": "merge"}}))
    return results


def _next_tags(state: ZendeskState, ticket: dict, data: dict, custom: dict) -> list[str]:
    tags = people.normalize_tags(data["tags"]) if "tags" in data else list(ticket["tags"])
    tags += [t for t in people.normalize_tags(data.get("additional_tags")) if t not in tags]
    removed = set(people.normalize_tags(data.get("remove_tags")))
    tags = [t for t in tags if t not in removed]
    for field_id, value in custom.items():
        definition = state.ticket_fields[field_id]
        stale = field_tags(definition, ticket["_cf"].get(field_id))
        fresh = field_tags(definition, value)
        tags = [t for t in tags if t not in stale or t in fresh] + [t for t in fresh if t not in tags]
    return tags


def _change_event(key: str, current, previous) -> dict:
    if key in ("status", "priority", "type"):
        return {"current": current.upper() if current else current,
                "previous": previous.upper() if previous else previous}
    if key.endswith("_id") and key != "external_id":
        return {"current": None if current is None else str(current),
                "previous": None if previous is None else str(previous)}
    return {"current": current, "previous": previous}


def change_tags(state: ZendeskState, ticket_id: int, tags, mode: str, actor_id: int) -> WriteResult:
    """``mode``: ``add`` (PUT), ``set`` (POST) or ``remove`` (DELETE) on ``tickets/{id}/tags.json``."""
    if mode == "set":
        return update_ticket(state, ticket_id, {"tags": tags}, actor_id)
    key = "additional_tags" if mode == "add" else "remove_tags"
    return update_ticket(state, ticket_id, {key: tags}, actor_id)


def delete_ticket(state: ZendeskState, ticket_id: int, actor_id: int) -> WriteResult:
    ticket = get_live(state, ticket_id)
    audit = AuditBuilder(state, ticket_id, actor_id)
    audit.change("status", "deleted", ticket["status"])
    ticket["_previous_status"] = ticket["status"]
    ticket["status"] = "deleted"
    when = state.touch("ticket", ticket_id)
    ticket["updated_at"] = ts(when)
    ticket["generated_timestamp"] = int(when.timestamp())
    ticket["_deleted_at"] = ts(when)
    ticket["_deleted_by"] = actor_id
    return WriteResult(ticket, audit.save(), [("ticket.soft_deleted", {})])


def present_deleted(state: ZendeskState, ticket: dict) -> dict:
    actor = state.users.get(ticket["_deleted_by"]) or {}
    return {"id": ticket["id"], "subject": ticket["subject"], "description": ticket["description"],
            "actor": {"id": ticket["_deleted_by"], "name": actor.get("name")},
            "deleted_at": ticket["_deleted_at"], "previous_state": ticket["_previous_status"]}


def attachments_of(state: ZendeskState, ticket_id: int) -> list[dict]:
    return [present_attachment(a) for c in state.comments.get(ticket_id, []) for a in c["attachments"]]
