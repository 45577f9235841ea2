"""Bulk writes (≤100 per call): ``create_many``/``update_many``/``create_or_update_many`` with job-status polling.

Each function takes the connector and a chunk of payloads and returns one outcome per payload, in order: a
result dict or the exception for that item alone. Creates look up every external id first (one
``show_many`` call), so a retry after a timeout updates what the vendor already committed instead of
duplicating it.
"""

from __future__ import annotations

from zenpy.lib.api_objects import User

from hub.errors import PermanentError, RetryableError


# refs {role: id} a ticket/user write may carry → the record's own fields
REFERENCE_FIELDS = {"ticket": {"customer": "requester_id", "organisation": "organization_id"},
                    "customer": {"organisation": "organization_id"}}


def reference_fields(object: str, refs: dict | None) -> dict[str, int]:
    """``refs`` {role: id} → ``requester_id`` / ``organization_id`` of a ticket or user."""
    return {name: int(refs[role]) for role, name in REFERENCE_FIELDS.get(object, {}).items()
            if (refs or {}).get(role)}

MAX_BATCH = 100


def _item_error(result: dict) -> Exception:
    text = f"zendesk bulk item failed: {result.get('error') or result.get('status')}: {result.get('details', '')}"
    if str(result.get("error", "")).lower() in ("internalerror", "timeout"):
        return RetryableError(text[:300])
    return PermanentError(text[:300], status=422)


def _prepare(connector, payloads: list[dict], build) -> tuple[list, list[dict | Exception | None]]:
    """Build each item's body; a payload that cannot be built fails alone."""
    bodies, outcomes = [], []
    for payload in payloads:
        try:
            bodies.append(build(payload))
            outcomes.append(None)
        except Exception as exc:
            bodies.append(None)
            outcomes.append(exc)
    return bodies, outcomes


def _updated_at(connector, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    body = connector.client.get_json("tickets/show_many.json", {"ids": ",".join(str(i) for i in ids)})
    return {t["id"]: t.get("updated_at") for t in body.get("tickets") or []}


def _run(connector, call, count: int) -> list[dict]:
    job = connector.client.call(call)
    results = connector.client.wait_job(job.id)
    by_index = {r.get("index", i): r for i, r in enumerate(results)}
    return [by_index.get(i, {"success": False, "error": "missing from job results"}) for i in range(count)]


def upsert_ticket(connector, payloads: list[dict]) -> list[dict | Exception]:
    wanted = [str(p.get("external_id") or "") for p in payloads]
    existing: dict[str, dict] = {}
    named = sorted({w for w in wanted if w})
    if named:
        body = connector.client.get_json("tickets/show_many.json", {"external_ids": ",".join(named)})
        for ticket in sorted(body.get("tickets") or [], key=lambda t: t["id"]):
            if ticket.get("status") != "deleted":
                existing.setdefault(str(ticket.get("external_id")), ticket)

    def build(payload):
        external_id = str(payload.get("external_id") or "")
        if not external_id:
            raise PermanentError("zendesk: upsert_ticket needs an external_id")
        found = existing.get(external_id)
        body = connector.ticket_body(payload.get("ticket"), creating=found is None, refs=payload.get("refs"))
        if found is None:
            body["external_id"] = external_id
        else:
            body["id"] = found["id"]
        return body

    bodies, outcomes = _prepare(connector, payloads, build)
    creates, updates, first_of = [], [], {}
    for index, body in enumerate(bodies):
        if body is None:
            continue
        if "id" in body:
            updates.append(index)
        elif body["external_id"] in first_of:  # the same record twice in one chunk: create it once
            outcomes[index] = ("same", first_of[body["external_id"]])
        else:
            first_of[body["external_id"]] = index
            creates.append(index)
    tickets = connector.client.zenpy.tickets
    written: dict[int, int] = {}
    for indices, created in ((creates, True), (updates, False)):
        if not indices:
            continue
        objects = [connector.to_ticket(bodies[i]) for i in indices]
        call = (lambda o=objects: tickets.create(o)) if created else (lambda o=objects: tickets.update(o))
        try:
            results = _run(connector, call, len(indices))
        except Exception as exc:
            for i in indices:
                outcomes[i] = exc
            continue
        for i, result in zip(indices, results):
            if result.get("success"):
                written[i] = int(result["id"])
                outcomes[i] = {"id": str(result["id"]), "created": created}
            else:
                outcomes[i] = _item_error(result)
    stamps = _updated_at(connector, sorted(set(written.values())))
    for i, ticket_id in written.items():
        outcomes[i]["updated_at"] = stamps.get(ticket_id)
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, tuple):
            first = outcomes[outcome[1]]
            outcomes[i] = dict(first, created=False) if isinstance(first, dict) else first
    return outcomes


def update_ticket(connector, payloads: list[dict]) -> list[dict | Exception]:
    refs = [str(p["external_id"]) for p in payloads if p.get("ticket_id") is None and p.get("external_id")]
    by_external: dict[str, int] = {}
    if refs:
        body = connector.client.get_json("tickets/show_many.json", {"external_ids": ",".join(sorted(set(refs)))})
        for ticket in sorted(body.get("tickets") or [], key=lambda t: t["id"]):
            if ticket.get("status") != "deleted":
                by_external.setdefault(str(ticket.get("external_id")), ticket["id"])

    following = {}
    wanting = [int(p["ticket_id"]) for p in payloads if p.get("followers_add") and p.get("ticket_id") is not None]
    wanting += [by_external[str(p["external_id"])] for p in payloads
                if p.get("followers_add") and p.get("ticket_id") is None and str(p.get("external_id")) in by_external]
    if wanting:
        body = connector.client.get_json("tickets/show_many.json", {"ids": ",".join(map(str, sorted(set(wanting))))})
        following = {t["id"]: t.get("follower_ids") or [] for t in body.get("tickets") or []}

    def build(payload):
        if payload.get("ticket_id") is not None:
            ticket_id = int(payload["ticket_id"])
        elif payload.get("external_id") and str(payload["external_id"]) in by_external:
            ticket_id = by_external[str(payload["external_id"])]
        else:
            raise PermanentError(f"zendesk answered 404: no ticket for {payload.get('external_id')!r}", status=404)
        body = {"id": ticket_id, **connector.update_changes(payload)}
        if payload.get("followers_add"):
            merged = connector.followers(payload, following.get(ticket_id, []))
            if merged is not None:
                body["follower_ids"] = merged
        # Bulk updates take tag deltas inline; the per-ticket tags endpoint would cost one call per ticket.
        if payload.get("tags_add"):
            body["additional_tags"] = list(payload["tags_add"])
        if payload.get("tags_remove"):
            body["remove_tags"] = list(payload["tags_remove"])
        return body

    bodies, outcomes = _prepare(connector, payloads, build)
    indices = [i for i, body in enumerate(bodies) if body is not None]
    if indices:
        objects = [connector.to_ticket(bodies[i]) for i in indices]
        try:
            results = _run(connector, lambda: connector.client.zenpy.tickets.update(objects), len(indices))
        except Exception as exc:
            results = [exc] * len(indices)
        done = []
        for i, result in zip(indices, results):
            if isinstance(result, Exception):
                outcomes[i] = result
            elif result.get("success"):
                outcomes[i] = {"id": str(bodies[i]["id"])}
                done.append(i)
            else:
                outcomes[i] = _item_error(result)
        stamps = _updated_at(connector, sorted({bodies[i]["id"] for i in done}))
        for i in done:
            outcomes[i]["updated_at"] = stamps.get(bodies[i]["id"])
    return outcomes


def upsert_user(connector, payloads: list[dict]) -> list[dict | Exception]:
    def build(payload):
        user = dict(payload.get("user") or {})
        user.update(reference_fields("customer", payload.get("refs")))
        if payload.get("external_id"):
            user["external_id"] = str(payload["external_id"])
        if not (user.get("external_id") or user.get("email")):
            raise PermanentError("zendesk: upsert_user needs an external_id or an email")
        return user

    bodies, outcomes = _prepare(connector, payloads, build)
    indices = [i for i, body in enumerate(bodies) if body is not None]
    if indices:
        users = [User(**bodies[i]) for i in indices]
        try:
            results = _run(connector, lambda: connector.client.zenpy.users.create_or_update(users), len(indices))
        except Exception as exc:
            results = [exc] * len(indices)
        for i, result in zip(indices, results):
            if isinstance(result, Exception):
                outcomes[i] = result
            elif result.get("success"):
                outcomes[i] = {"id": str(result["id"]), "created": result.get("action") == "create"}
            else:
                outcomes[i] = _item_error(result)
    return outcomes
