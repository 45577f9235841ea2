"""Who else is on a ticket (Zendesk's CCs and followers experience): email CCs, followers, and the
``collaborator_ids`` Zendesk derives from them.

Writes, on ticket create and update:
- ``email_cc_ids`` / ``follower_ids``: the whole list (replaces it);
- ``email_ccs`` / ``followers``: relative edits, ``[{user_id | user_email [, user_name], action: put|delete}]``
  (``put`` is the default; an unknown ``user_email`` with ``put`` becomes a new end user, as Zendesk does);
- ``collaborator_ids`` (the legacy field): the whole set, end users becoming email CCs and agents followers.
The requester is never their own ticket's CC. ``collaborator_ids`` is then the email CCs followed by the
followers that are not also CCs.
"""

from __future__ import annotations

from hub.sandbox.zendesk import people
from hub.sandbox.zendesk.errors import invalid_attr
from hub.sandbox.zendesk.state import ZendeskState

WRITE_KEYS = ("collaborator_ids", "email_cc_ids", "follower_ids", "email_ccs", "followers")
ACTIONS = ("put", "delete")


def _ids(values, attribute: str) -> list[int]:
    out: list[int] = []
    for value in values or []:
        try:
            user_id = int(value)
        except (TypeError, ValueError) as exc:
            raise invalid_attr(attribute, f"{attribute}: {value!r} is not a valid id", "InvalidValue") from exc
        if user_id not in out:
            out.append(user_id)
    return out


def _user_of(state: ZendeskState, spec, attribute: str, action: str) -> int | None:
    """The user an ``email_ccs``/``followers`` entry names; None for a ``delete`` of an unknown address."""
    if not isinstance(spec, dict):
        raise invalid_attr(attribute, f"{attribute}: each entry must be an object with user_id or user_email")
    if spec.get("user_id") is not None:
        user_id = _ids([spec["user_id"]], attribute)[0]
        if user_id not in state.users:
            raise invalid_attr(attribute, f"{attribute}: user {user_id} does not exist", "InvalidValue")
        return user_id
    email = str(spec.get("user_email") or "").strip()
    if not email:
        raise invalid_attr(attribute, f"{attribute}: each entry needs user_id or user_email", "BlankValue")
    user = state.user_by_email(email)
    if user is None and action == "put":
        user = people.create_user(state, {"name": spec.get("user_name") or email.split("@")[0], "email": email})
    return user["id"] if user else None


def _edit(state: ZendeskState, current: list[int], entries, attribute: str) -> list[int]:
    if not isinstance(entries, list):
        raise invalid_attr(attribute, f"{attribute}: must be an array", "InvalidValue")
    out = list(current)
    for spec in entries:
        action = str((spec.get("action") if isinstance(spec, dict) else None) or "put").lower()
        if action not in ACTIONS:
            raise invalid_attr(attribute, f"{attribute}: action must be put or delete, not {action!r}")
        user_id = _user_of(state, spec, attribute, action)
        if action == "put" and user_id not in out:
            out.append(user_id)
        elif action == "delete" and user_id in out:
            out.remove(user_id)
    return out


def plan(state: ZendeskState, ticket: dict, data: dict) -> dict:
    """The participant fields after ``data``'s changes to ``ticket`` (validated before anything is written; an
    unknown address put as a CC is created as an end user)."""
    ccs, followers = list(ticket.get("email_cc_ids") or []), list(ticket.get("follower_ids") or [])
    if "collaborator_ids" in data:
        everyone = _ids(data["collaborator_ids"], "collaborator_ids")
        agents = {u for u in everyone if (state.users.get(u) or {}).get("role", "end-user") != "end-user"}
        ccs, followers = [u for u in everyone if u not in agents], [u for u in everyone if u in agents]
    if "email_cc_ids" in data:
        ccs = _ids(data["email_cc_ids"], "email_cc_ids")
    if "follower_ids" in data:
        followers = _ids(data["follower_ids"], "follower_ids")
    if data.get("email_ccs") is not None:
        ccs = _edit(state, ccs, data["email_ccs"], "email_ccs")
    if data.get("followers") is not None:
        followers = _edit(state, followers, data["followers"], "followers")
    ccs = [u for u in ccs if u != ticket.get("requester_id")]
    return {"email_cc_ids": ccs, "follower_ids": followers,
            "collaborator_ids": ccs + [u for u in followers if u not in ccs]}


def assign(ticket: dict, planned: dict) -> bool:
    """Writes ``plan``'s fields; True when the CCs or followers changed."""
    changed = any(ticket.get(key) != value for key, value in planned.items())
    ticket.update(planned)
    return changed


def tickets_with(state: ZendeskState, user_id: int, field: str) -> list[dict]:
    """Live tickets whose ``field`` (``email_cc_ids`` or ``follower_ids``) holds the user, by id."""
    return sorted((t for t in state.tickets.values() if t["status"] != "deleted" and user_id in t[field]),
                  key=lambda t: t["id"])
