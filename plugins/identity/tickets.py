"""What the help desk shows of a verification: a field where the desk has one, and an internal note."""

from __future__ import annotations

from hub import clock
from plugins.identity.config import config_of

HELPDESKS = ("zendesk", "salesforce", "hubspot")

# Internal note per help desk: (operation, payload) as each connector names them.
NOTES = {
    "zendesk": lambda ticket_id, body: ("add_comment", {"ticket_id": ticket_id, "body": body, "public": False}),
    "salesforce": lambda ticket_id, body: ("add_case_comment", {"case_id": ticket_id, "body": body, "public": False}),
    "hubspot": lambda ticket_id, body: ("add_note", {"ticket_id": ticket_id, "body": body}),
}


def record_on_ticket(ctx, challenge, verified: bool, until=None) -> None:
    """The result on the challenge's ticket, if it names one in a connected help desk."""
    system, ticket_id = challenge.ticket_system, challenge.ticket_id
    if system not in HELPDESKS or not ticket_id or system not in ctx.hub.connectors:
        return
    config = config_of(ctx.hub)
    what = challenge.action
    if verified:
        body = (f"Identity verified: the customer entered the one-time code sent by {challenge.channel} for {what} "
                f"at {clock.isoformat(ctx.now())}. It allows that action once, within "
                f"{config.verified_ttl_seconds // 60} minutes.")
        if system == "zendesk":
            ctx.emit("zendesk", "update_ticket", {"ticket_id": ticket_id, "fields": {config.verified_field: True}},
                     key=f"identity:{challenge.id}:field")
        elif system == "hubspot":
            ctx.emit("hubspot", "update_ticket", {"ticket_id": ticket_id, "fields": {"identity_verified": "true"}},
                     key=f"identity:{challenge.id}:field")
    else:
        body = (f"Identity verification locked: {config.max_failures} wrong codes for {what}. No new code can be "
                f"sent before {clock.isoformat(until)}.")
    operation, payload = NOTES[system](ticket_id, body)
    ctx.emit(system, operation, payload, key=f"identity:{challenge.id}:{'verified' if verified else 'locked'}-note")
