"""Routes for tickets, their comments, audits and tags, bulk ticket jobs and job statuses."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import TYPE_CHECKING

import flask

from hub.sandbox.zendesk import jobs, tickets
from hub.sandbox.zendesk.comments import present_audit, present_comment
from hub.sandbox.zendesk.errors import ZendeskApiError, invalid_value, not_found, parameter_missing
from hub.sandbox.zendesk.incremental import sideloads
from hub.sandbox.zendesk.pagination import cursor_page, list_page
from hub.sandbox.zendesk.state import STATUS_ORDER, api_url, ts

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.zendesk.emulator import ZendeskEmulator

SORTABLE = ("id", "created_at", "updated_at", "status")
IDEMPOTENCY_TTL = timedelta(hours=2)  # Zendesk keeps idempotency keys for two hours


def _sort_key(sort: str):
    field = sort.lstrip("-")
    if field not in SORTABLE:
        raise invalid_value(f"sort must be one of {', '.join(SORTABLE)}")
    if field == "status":
        return lambda t: [STATUS_ORDER.index(t["status"]), t["id"]]
    if field == "id":
        return lambda t: [t["id"]]
    return lambda t: [t[field] or "", t["id"]]


def sorted_tickets(items: list[dict]) -> tuple[list[dict], object]:
    """Apply CBP ``sort=[-]field`` or offset ``sort_by``/``sort_order``; returns items and the cursor key."""
    args = flask.request.args
    sort = args.get("sort") or args.get("sort_by") or "id"
    if args.get("sort_order") == "desc" and not sort.startswith("-"):
        sort = "-" + sort
    key = _sort_key(sort)
    ordered = sorted(items, key=key, reverse=sort.startswith("-"))
    if sort.startswith("-"):
        # Cursor comparisons run on the negated order so "after" stays "greater than".
        return ordered, lambda t: [_neg(v) for v in key(t)]
    return ordered, key


def _neg(value):
    # Sort values are ints or fixed-width RFC 3339 strings, so negating per character keeps the order.
    if isinstance(value, (int, float)):
        return -value
    return [-ord(ch) for ch in value]


def register(bp: flask.Blueprint, emu: "ZendeskEmulator") -> None:
    route, state = emu.route, (lambda: emu.state)

    def present(ticket):
        return tickets.present_ticket(emu.state, ticket)

    def write_result(result, status=200):
        emu.deliver(result)
        body = {"ticket": present(result.ticket), "audit": present_audit(result.audit)}
        return body, status

    @route(bp, "/api/v2/tickets.json", methods=["GET"])
    def list_tickets():
        items = [t for t in state().tickets.values() if t["status"] != "deleted"]
        if "external_id" in flask.request.args:
            items = [t for t in items if t["external_id"] == flask.request.args["external_id"]]
        ordered, key = sorted_tickets(items)
        page = list_page(ordered, key, "tickets", present=present)
        page.update(sideloads(state(), page["tickets"]))
        return page

    @route(bp, "/api/v2/tickets/count.json", methods=["GET"])
    def count_tickets():
        total = sum(1 for t in state().tickets.values() if t["status"] != "deleted")
        return {"count": {"value": total, "refreshed_at": ts(state().now())}}

    @route(bp, "/api/v2/tickets.json", methods=["POST"])
    def create_ticket():
        key = flask.request.headers.get("Idempotency-Key")
        fingerprint = hashlib.sha256(flask.request.get_data()).hexdigest()
        if key:
            stored = state().idempotency.get(key)
            if stored is not None and state().now() - stored[2] < IDEMPOTENCY_TTL:
                if stored[0] != fingerprint:
                    raise ZendeskApiError(400, {"error": "IdempotentRequestError", "description":
                                                "Request parameters do not match the original request "
                                                "made with this idempotency key"})
                answer = stored[1]
                return flask.jsonify(answer), 201, {
                    "Location": api_url(f"tickets/{answer['ticket']['id']}.json"), "x-idempotency-lookup": "hit"}
        result = tickets.create_ticket(state(), emu.body("ticket"), state().agent_id)
        body, status = write_result(result, 201)
        headers = {"Location": api_url(f"tickets/{result.ticket['id']}.json")}
        if key:
            # Only a ticket actually created is remembered; a refused request may be retried as is.
            state().idempotency[key] = (fingerprint, json.loads(json.dumps(body)), state().now())
            headers["x-idempotency-lookup"] = "miss"
        return flask.jsonify(body), status, headers

    @route(bp, "/api/v2/tickets/<int:ticket_id>.json", methods=["GET"])
    def show_ticket(ticket_id):
        ticket = present(tickets.get_live(state(), ticket_id))
        return {"ticket": ticket, **sideloads(state(), [ticket])}

    @route(bp, "/api/v2/tickets/<int:ticket_id>.json", methods=["PUT"])
    def update_ticket(ticket_id):
        return write_result(tickets.update_ticket(state(), ticket_id, emu.body("ticket"), state().agent_id))

    @route(bp, "/api/v2/tickets/<int:ticket_id>.json", methods=["DELETE"])
    def delete_ticket(ticket_id):
        emu.deliver(tickets.delete_ticket(state(), ticket_id, state().agent_id))
        return flask.Response(status=204)

    @route(bp, "/api/v2/tickets/show_many.json", methods=["GET"])
    def show_many():
        args = flask.request.args
        if "external_ids" in args:
            wanted = [x for x in args["external_ids"].split(",") if x]
            jobs.check_bulk(wanted, "external_ids")
            found = [t for t in state().tickets.values() if t["status"] != "deleted" and t["external_id"] in wanted]
        else:
            ids = jobs.parse_ids(args.get("ids"))
            found = [t for i in ids if (t := state().live_ticket(i)) is not None]
        shown = [present(t) for t in found]
        return {"tickets": shown, "next_page": None, "previous_page": None, "count": len(found),
                **sideloads(state(), shown)}

    def job_answer(job):
        return {"job_status": jobs.present_job(job, fresh=True)}

    @route(bp, "/api/v2/tickets/create_many.json", methods=["POST"])
    def create_many():
        items = emu.body("tickets", list)
        jobs.check_bulk(items, "tickets")

        def work(item):
            result = tickets.create_ticket(state(), item, state().agent_id)
            emu.deliver(result)
            return result.ticket["id"], None

        return job_answer(jobs.run_job(state(), "bulk_create_tickets", "create", items, work))

    @route(bp, "/api/v2/tickets/update_many.json", methods=["PUT"])
    def update_many():
        args, data = flask.request.args, emu.raw_body()
        if "tickets" in data:
            items = data["tickets"]
            if not isinstance(items, list):
                raise invalid_value("tickets must be an array")
            jobs.check_bulk(items, "tickets")
            if "external_ids" in args:
                for item in items:
                    match = next((t for t in state().tickets.values() if t["status"] != "deleted"
                                  and t["external_id"] == str(item.get("external_id"))), None)
                    item["id"] = match["id"] if match else None
            pairs = [(item.get("id"), item) for item in items]
        elif "ticket" in data and "ids" in args:
            pairs = [(i, dict(data["ticket"])) for i in jobs.parse_ids(args["ids"])]
        else:
            raise parameter_missing("tickets")

        def work(item):
            if item["id"] is None:
                raise not_found()
            result = tickets.update_ticket(state(), int(item["id"]), item["change"], state().agent_id)
            emu.deliver(result)
            return int(item["id"]), None

        items = [{"id": ticket_id, "change": change} for ticket_id, change in pairs]
        return job_answer(jobs.run_job(state(), "bulk_update", "update", items, work))

    @route(bp, "/api/v2/tickets/<int:ticket_id>/merge.json", methods=["POST"])
    def merge(ticket_id):
        data = emu.raw_body()

        def work(item):
            for result in tickets.merge_tickets(state(), ticket_id, item, state().agent_id):
                emu.deliver(result)
            return ticket_id, None

        return job_answer(jobs.run_job(state(), "merge", "update", [data], work))

    @route(bp, "/api/v2/tickets/destroy_many.json", methods=["DELETE"])
    def destroy_many():
        ids = jobs.parse_ids(flask.request.args.get("ids"))
        if not ids:
            raise parameter_missing("ids")

        def work(ticket_id):
            emu.deliver(tickets.delete_ticket(state(), ticket_id, state().agent_id))
            return ticket_id, None

        return job_answer(jobs.run_job(state(), "bulk_delete", "delete", ids, work))

    @route(bp, "/api/v2/deleted_tickets.json", methods=["GET"])
    def deleted_tickets():
        gone = sorted((t for t in state().tickets.values() if t["status"] == "deleted"), key=lambda t: t["id"])
        return list_page([tickets.present_deleted(state(), t) for t in gone], lambda t: [t["id"]],
                         "deleted_tickets")

    def deleted_ticket(ticket_id):
        ticket = state().tickets.get(ticket_id)
        if ticket is None or ticket["status"] != "deleted":
            raise not_found()
        return ticket

    def erase(ticket_id):
        deleted_ticket(ticket_id)
        for store in (state().tickets, state().comments, state().audits):
            store.pop(ticket_id, None)
        state().stamps.pop(("ticket", ticket_id), None)
        return ticket_id, None

    @route(bp, "/api/v2/deleted_tickets/<int:ticket_id>.json", methods=["DELETE"])
    def erase_ticket(ticket_id):
        deleted_ticket(ticket_id)  # 404 before a job is queued, as Zendesk answers
        return job_answer(jobs.run_job(state(), "ticket_deletion", "delete", [ticket_id], erase))

    @route(bp, "/api/v2/deleted_tickets/destroy_many.json", methods=["DELETE"])
    def erase_many():
        ids = jobs.parse_ids(flask.request.args.get("ids"))
        if not ids:
            raise parameter_missing("ids")
        return job_answer(jobs.run_job(state(), "ticket_deletion", "delete", ids, erase))

    @route(bp, "/api/v2/deleted_tickets/<int:ticket_id>/restore.json", methods=["PUT"])
    def restore(ticket_id):
        ticket = deleted_ticket(ticket_id)
        ticket["status"] = ticket.pop("_previous_status")
        ticket.pop("_deleted_at", None)
        ticket.pop("_deleted_by", None)
        when = state().touch("ticket", ticket_id)
        ticket["updated_at"] = ts(when)
        ticket["generated_timestamp"] = int(when.timestamp())
        return flask.Response(status=200)

    @route(bp, "/api/v2/tickets/<int:ticket_id>/comments.json", methods=["GET"])
    def comments(ticket_id):
        tickets.get_live(state(), ticket_id)
        items = [present_comment(c) for c in state().comments.get(ticket_id, [])]
        if flask.request.args.get("sort_order") == "desc":
            items.reverse()
            return list_page(items, lambda c: [-c["id"]], "comments")
        return list_page(items, lambda c: [c["id"]], "comments")

    @route(bp, "/api/v2/tickets/<int:ticket_id>/comments/count.json", methods=["GET"])
    def comments_count(ticket_id):
        tickets.get_live(state(), ticket_id)
        return {"count": {"value": len(state().comments.get(ticket_id, [])), "refreshed_at": ts(state().now())}}

    @route(bp, "/api/v2/tickets/<int:ticket_id>/audits.json", methods=["GET"])
    def audits(ticket_id):
        if ticket_id not in state().tickets:
            raise not_found()
        items = [present_audit(a) for a in state().audits.get(ticket_id, [])]
        return list_page(items, lambda a: [a["id"]], "audits")

    @route(bp, "/api/v2/ticket_audits.json", methods=["GET"])
    def all_audits():
        # Newest first, cursor-paginated only, as Zendesk serves this account-wide list.
        items = sorted((a for audits in state().audits.values() for a in audits), key=lambda a: -a["id"])
        return cursor_page(items, lambda a: [-a["id"]], "audits", present=present_audit)

    @route(bp, "/api/v2/tickets/<int:ticket_id>/audits/<int:audit_id>.json", methods=["GET"])
    def audit(ticket_id, audit_id):
        for item in state().audits.get(ticket_id, []):
            if item["id"] == audit_id:
                return {"audit": present_audit(item)}
        raise not_found()

    @route(bp, "/api/v2/tickets/<int:ticket_id>/tags.json", methods=["GET"])
    def get_tags(ticket_id):
        return {"tags": list(tickets.get_live(state(), ticket_id)["tags"])}

    @route(bp, "/api/v2/tickets/<int:ticket_id>/tags.json", methods=["PUT", "POST", "DELETE"])
    def change_tags(ticket_id):
        data = emu.raw_body()
        if "tags" not in data:
            raise parameter_missing("tags")
        mode = {"PUT": "add", "POST": "set", "DELETE": "remove"}[flask.request.method]
        result = tickets.change_tags(state(), ticket_id, data["tags"], mode, state().agent_id)
        emu.deliver(result)
        return {"tags": list(result.ticket["tags"])}, 201 if mode == "set" else 200

    @route(bp, "/api/v2/job_statuses/<job_id>.json", methods=["GET"])
    def job_status(job_id):
        return {"job_status": jobs.present_job(jobs.get_job(state(), job_id))}

    @route(bp, "/api/v2/job_statuses/show_many.json", methods=["GET"])
    def job_statuses_many():
        wanted = [x for x in flask.request.args.get("ids", "").split(",") if x]
        found = [jobs.present_job(j) for i in wanted if (j := state().jobs.get(i)) is not None]
        return {"job_statuses": found}

    @route(bp, "/api/v2/job_statuses.json", methods=["GET"])
    def job_statuses():
        return {"job_statuses": [jobs.present_job(j) for j in reversed(list(state().jobs.values()))]}
