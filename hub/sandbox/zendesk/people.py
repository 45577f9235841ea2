"""Users, organizations and groups: building, validating and changing the records."""

from __future__ import annotations

import re

from hub.sandbox.zendesk.errors import invalid_attr, not_found, record_invalid
from hub.sandbox.zendesk.state import ZendeskState, ts, with_url

ROLES = ("end-user", "agent", "admin")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USER_WRITABLE = ("name", "email", "phone", "external_id", "organization_id", "role", "verified", "alias",
                 "details", "notes", "signature", "time_zone", "locale", "tags", "user_fields", "suspended",
                 "default_group_id", "ticket_restriction", "only_private_comments", "moderator", "shared_phone_number")
ORG_WRITABLE = ("name", "external_id", "domain_names", "details", "notes", "group_id", "shared_tickets",
                "shared_comments", "tags", "organization_fields")
GROUP_WRITABLE = ("name", "description", "default", "is_public")


def normalize_tags(tags) -> list[str]:
    """Zendesk stores tags lower-cased, splits on whitespace and drops duplicates."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = [tags]
    out: list[str] = []
    for tag in tags:
        for part in str(tag).lower().split():
            if part and part not in out:
                out.append(part)
    return out


# -- users -----------------------------------------------------------------------------------------------
def present_user(user: dict) -> dict:
    return with_url(user, f"users/{user['id']}.json")


def _check_user(state: ZendeskState, data: dict, existing: dict | None) -> None:
    name = data.get("name", existing["name"] if existing else None)
    if not name or not str(name).strip():
        raise invalid_attr("name", "Name: is too short (minimum one character)", "BlankValue")
    email = data.get("email")
    if email is not None and email != "":
        if not EMAIL_RE.match(str(email)):
            raise invalid_attr("email", f"Email: {email} is not properly formatted", "InvalidFormat")
        other = state.user_by_email(email)
        if other is not None and (existing is None or other["id"] != existing["id"]):
            raise record_invalid({"email": [{"description": f"Email: {email} is already being used by another user",
                                             "error": "DuplicateValue"}]})
    if "external_id" in data and data["external_id"] is not None:
        other = state.user_by_external_id(data["external_id"])
        if other is not None and (existing is None or other["id"] != existing["id"]):
            raise record_invalid({"external_id": [{"description": "External: has already been taken",
                                                   "error": "DuplicateValue"}]})
    role = data.get("role")
    if role is not None and role not in ROLES:
        raise invalid_attr("role", f"Role: {role} is not a valid role", "InvalidValue")
    org_id = data.get("organization_id")
    if org_id is not None and org_id not in state.organizations:
        raise invalid_attr("organization_id", "Organization: is invalid", "InvalidValue")


def create_user(state: ZendeskState, data: dict, at=None) -> dict:
    _check_user(state, data, None)
    user_id = state.next_id("user")
    when = state.touch("user", user_id, at)
    role = data.get("role") or "end-user"
    user = {
        "id": user_id, "name": str(data["name"]).strip(), "email": (data.get("email") or None),
        "created_at": ts(when), "updated_at": ts(when), "time_zone": data.get("time_zone") or "London",
        "iana_time_zone": "Europe/London", "phone": data.get("phone"), "shared_phone_number": None,
        "photo": None, "locale_id": 1, "locale": data.get("locale") or "en-gb",
        "organization_id": data.get("organization_id"), "role": role, "verified": bool(data.get("verified", False)),
        "external_id": None if data.get("external_id") is None else str(data["external_id"]),
        "tags": normalize_tags(data.get("tags")), "alias": data.get("alias") or "", "active": True,
        "shared": False, "shared_agent": False, "last_login_at": None, "two_factor_auth_enabled": None,
        "signature": data.get("signature"), "details": data.get("details") or "", "notes": data.get("notes") or "",
        "role_type": None, "custom_role_id": None, "moderator": role != "end-user",
        "ticket_restriction": "requested" if role == "end-user" else None,
        "only_private_comments": False, "restricted_agent": role == "end-user", "suspended": False,
        "default_group_id": data.get("default_group_id"), "report_csv": role == "admin",
        "user_fields": dict(data.get("user_fields") or {}),
    }
    if user["email"]:
        user["email"] = user["email"].strip().lower()
    state.users[user_id] = user
    return user


def update_user(state: ZendeskState, user: dict, data: dict) -> dict:
    _check_user(state, data, user)
    changed = False
    for key in USER_WRITABLE:
        if key not in data:
            continue
        value = data[key]
        if key == "tags":
            value = normalize_tags(value)
        elif key == "user_fields":
            value = {**user.get("user_fields", {}), **(value or {})}
        elif key == "email" and value:
            value = str(value).strip().lower()
        elif key == "external_id" and value is not None:
            value = str(value)
        if user.get(key) != value:
            user[key] = value
            changed = True
    if changed:
        user["updated_at"] = ts(state.touch("user", user["id"]))
    return user


def find_user_for_upsert(state: ZendeskState, data: dict) -> dict | None:
    """``create_or_update`` matches on email first, then on external_id (Zendesk's documented order)."""
    return state.user_by_email(data.get("email")) or state.user_by_external_id(data.get("external_id"))


def get_user(state: ZendeskState, user_id: int) -> dict:
    user = state.users.get(user_id)
    if user is None:
        raise not_found()
    return user


def soft_delete_user(state: ZendeskState, user: dict) -> dict:
    user["active"] = False
    user["updated_at"] = ts(state.touch("user", user["id"]))
    state.deleted_users[user["id"]] = state.users.pop(user["id"])
    return user


def permanently_delete_user(state: ZendeskState, user_id: int) -> dict:
    """GDPR erase: the record goes, and so does their personal data in tickets they requested. Their comments on
    other people's tickets stay as written (Zendesk's "Forgetting a user" guide has them redacted separately)."""
    user = state.deleted_users.pop(user_id, None)
    if user is None:
        if user_id in state.users:
            raise record_invalid({"base": [{"description": "User is not deleted. Delete the user first.",
                                            "error": "UserNotDeleted"}]})
        raise not_found()
    for ticket_id, comments in state.comments.items():
        if (state.tickets.get(ticket_id) or {}).get("requester_id") != user_id:
            continue
        for comment in comments:
            if comment["author_id"] == user_id:
                comment["body"] = comment["plain_body"] = "▇▇▇▇"
                comment["html_body"] = "<div class=\"zd-comment\"><p>▇▇▇▇</p></div>"
    return {"id": user_id, "name": "Permanently deleted user", "email": None,
            "created_at": user["created_at"], "updated_at": ts(state.now()), "time_zone": user["time_zone"],
            "phone": None, "photo": None, "locale_id": 1, "locale": user["locale"], "organization_id": None,
            "role": user["role"], "active": False}


# -- organizations -----------------------------------------------------------------------------------------
def present_org(org: dict) -> dict:
    return with_url(org, f"organizations/{org['id']}.json")


def _check_org(state: ZendeskState, data: dict, existing: dict | None) -> None:
    name = data.get("name", existing["name"] if existing else None)
    if not name or not str(name).strip():
        raise invalid_attr("name", "Name: cannot be blank", "BlankValue")
    other = state.org_by_name(data.get("name"))
    if other is not None and (existing is None or other["id"] != existing["id"]):
        raise record_invalid({"name": [{"description": "Name: has already been taken", "error": "DuplicateValue"}]})
    if data.get("external_id") is not None:
        other = state.org_by_external_id(data["external_id"])
        if other is not None and (existing is None or other["id"] != existing["id"]):
            raise record_invalid({"external_id": [{"description": "External: has already been taken",
                                                   "error": "DuplicateValue"}]})


def create_org(state: ZendeskState, data: dict, at=None) -> dict:
    _check_org(state, data, None)
    org_id = state.next_id("organization")
    when = state.touch("organization", org_id, at)
    org = {"id": org_id, "name": str(data["name"]).strip(), "shared_tickets": bool(data.get("shared_tickets")),
           "shared_comments": bool(data.get("shared_comments")),
           "external_id": None if data.get("external_id") is None else str(data["external_id"]),
           "created_at": ts(when), "updated_at": ts(when), "domain_names": list(data.get("domain_names") or []),
           "details": data.get("details") or "", "notes": data.get("notes") or "", "group_id": data.get("group_id"),
           "tags": normalize_tags(data.get("tags")), "organization_fields": dict(data.get("organization_fields") or {})}
    state.organizations[org_id] = org
    return org


def update_org(state: ZendeskState, org: dict, data: dict) -> dict:
    _check_org(state, data, org)
    changed = False
    for key in ORG_WRITABLE:
        if key in data:
            value = normalize_tags(data[key]) if key == "tags" else data[key]
            if key == "organization_fields":
                value = {**org["organization_fields"], **(value or {})}
            if org.get(key) != value:
                org[key] = value
                changed = True
    if changed:
        org["updated_at"] = ts(state.touch("organization", org["id"]))
    return org


# -- groups ------------------------------------------------------------------------------------------------
def present_group(group: dict) -> dict:
    return with_url(group, f"groups/{group['id']}.json")


def create_group(state: ZendeskState, data: dict, at=None) -> dict:
    name = data.get("name")
    if not name or not str(name).strip():
        raise invalid_attr("name", "Name: cannot be blank", "BlankValue")
    if any(g["name"].lower() == str(name).strip().lower() and not g["deleted"] for g in state.groups.values()):
        raise record_invalid({"name": [{"description": "Name: has already been taken", "error": "DuplicateValue"}]})
    group_id = state.next_id("group")
    when = state.touch("group", group_id, at)
    group = {"id": group_id, "name": str(name).strip(), "description": data.get("description") or "",
             "default": bool(data.get("default", False)), "deleted": False, "is_public": data.get("is_public", True),
             "created_at": ts(when), "updated_at": ts(when)}
    state.groups[group_id] = group
    return group


def update_group(state: ZendeskState, group: dict, data: dict) -> dict:
    changed = False
    for key in GROUP_WRITABLE:
        if key in data and group.get(key) != data[key]:
            group[key] = data[key]
            changed = True
    if changed:
        group["updated_at"] = ts(state.touch("group", group["id"]))
    return group


def merge_user(state: ZendeskState, source_id: int, target_id) -> dict:
    """``PUT users/{source}/merge.json {"user": {"id": target}}``: the end user ``source`` merged into ``target``.
    Its requested tickets name the target from now on (their ``updated_at`` moves), its email identities move
    to the target, and the source is deleted (``active: false`` in the user export). Only end users merge."""
    source = get_user(state, source_id)
    if target_id is None or not str(target_id).isdigit():
        raise invalid_attr("id", "User: the user to merge into is required", "InvalidValue")
    target = state.users.get(int(target_id))
    if target is None:
        raise not_found()
    if target["id"] == source["id"]:
        raise invalid_attr("base", "A user cannot be merged into itself", "InvalidValue")
    for user in (source, target):
        if user["role"] != "end-user":
            raise record_invalid({"base": [{"description": f"{user['name']} is an agent or admin: only end users "
                                                           "can be merged", "error": "InvalidValue"}]})
    for ticket in sorted(state.tickets.values(), key=lambda t: t["id"]):
        if ticket["requester_id"] == source["id"] and ticket["status"] != "deleted":
            ticket["requester_id"] = target["id"]
            ticket["updated_at"] = ts(state.touch("ticket", ticket["id"]))
    moved = [e for e in (source.get("email"), *state.identities.pop(source["id"], ())) if e]
    kept = state.identities.setdefault(target["id"], [])
    kept.extend(e for e in moved if e != target.get("email") and e not in kept)
    if not kept:
        state.identities.pop(target["id"], None)
    source["email"] = None
    soft_delete_user(state, source)
    target["updated_at"] = ts(state.touch("user", target["id"]))
    return target
