"""Routes for users (incl. GDPR permanent delete), organizations and groups."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import flask

from hub.sandbox.zendesk import jobs, participants, people, search, tickets, webhooks
from hub.sandbox.zendesk.errors import invalid_value, not_found, parameter_missing
from hub.sandbox.zendesk.pagination import list_page

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.zendesk.emulator import ZendeskEmulator


def _by_id(items: list[dict]) -> list[dict]:
    return sorted(items, key=lambda r: r["id"])


def _id_key(record: dict) -> list:
    return [record["id"]]


def register(bp: flask.Blueprint, emu: "ZendeskEmulator") -> None:
    route = emu.route

    def st():
        return emu.state

    def job_answer(job):
        return {"job_status": jobs.present_job(job, fresh=True)}

    def make_user(data):
        user = people.create_user(st(), data)
        webhooks.deliver_user(emu, user, webhooks.user_events(None, user))
        return user

    def change_user(user, data):
        before = copy.deepcopy(user)
        people.update_user(st(), user, data)
        webhooks.deliver_user(emu, user, webhooks.user_events(before, user))
        return user

    # -- users -------------------------------------------------------------------------------------------
    @route(bp, "/api/v2/users.json", methods=["GET"])
    def list_users():
        args = flask.request.args
        users = _by_id(list(st().users.values()))
        roles = args.getlist("role[]") or args.getlist("role")
        if roles:
            users = [u for u in users if u["role"] in roles]
        if "external_id" in args:
            users = [u for u in users if u["external_id"] == args["external_id"]]
        return list_page(users, _id_key, "users", present=people.present_user)

    @route(bp, "/api/v2/users.json", methods=["POST"])
    def create_user():
        return {"user": people.present_user(make_user(emu.body("user")))}, 201

    @route(bp, "/api/v2/users/me.json", methods=["GET"])
    def me():
        return {"user": people.present_user(st().users[st().agent_id])}

    @route(bp, "/api/v2/users/<int:user_id>.json", methods=["GET"])
    def show_user(user_id):
        user = st().users.get(user_id) or st().deleted_users.get(user_id)
        if user is None:
            raise not_found()
        return {"user": people.present_user(user)}

    @route(bp, "/api/v2/users/<int:user_id>.json", methods=["PUT"])
    def update_user(user_id):
        user = people.get_user(st(), user_id)
        return {"user": people.present_user(change_user(user, emu.body("user")))}

    @route(bp, "/api/v2/users/<int:user_id>.json", methods=["DELETE"])
    def delete_user(user_id):
        user = people.get_user(st(), user_id)
        if user_id == st().agent_id:
            raise invalid_value("You cannot delete yourself")
        people.soft_delete_user(st(), user)
        webhooks.deliver_user(emu, user, [("user.deleted", {})])
        return {"user": people.present_user(user)}

    @route(bp, "/api/v2/users/<int:user_id>/merge.json", methods=["PUT"])
    def merge_user(user_id):
        target = people.merge_user(st(), user_id, emu.body("user").get("id"))
        webhooks.deliver_user(emu, st().deleted_users[user_id], [("user.deleted", {})])
        return {"user": people.present_user(target)}

    @route(bp, "/api/v2/users/show_many.json", methods=["GET"])
    def show_many_users():
        args = flask.request.args
        if "external_ids" in args:
            wanted = [x for x in args["external_ids"].split(",") if x]
            jobs.check_bulk(wanted, "external_ids")
            found = [u for u in _by_id(list(st().users.values())) if u["external_id"] in wanted]
        else:
            found = [u for i in jobs.parse_ids(args.get("ids")) if (u := st().users.get(i)) is not None]
        return {"users": [people.present_user(u) for u in found], "next_page": None, "previous_page": None,
                "count": len(found)}

    def upsert_user(data):
        existing = people.find_user_for_upsert(st(), data)
        if existing is None:
            return make_user(data), True
        return change_user(existing, data), False

    @route(bp, "/api/v2/users/create_or_update.json", methods=["POST"])
    def create_or_update_user():
        user, created = upsert_user(emu.body("user"))
        return {"user": people.present_user(user)}, 201 if created else 200

    @route(bp, "/api/v2/users/create_many.json", methods=["POST"])
    def create_many_users():
        items = emu.body("users", list)
        jobs.check_bulk(items, "users")
        return job_answer(jobs.run_job(st(), "bulk_create_users", "create", items,
                                       lambda item: (make_user(item)["id"], None)))

    @route(bp, "/api/v2/users/create_or_update_many.json", methods=["POST"])
    def create_or_update_many_users():
        items = emu.body("users", list)
        jobs.check_bulk(items, "users")

        def work(item):
            user, created = upsert_user(item)
            return user["id"], "create" if created else "update"

        return job_answer(jobs.run_job(st(), "bulk_create_or_update_users", "create_or_update", items, work))

    @route(bp, "/api/v2/users/update_many.json", methods=["PUT"])
    def update_many_users():
        data = emu.raw_body()
        if "users" in data:
            items = data["users"]
            jobs.check_bulk(items, "users")
        elif "user" in data:
            items = [dict(data["user"], id=i) for i in jobs.parse_ids(flask.request.args.get("ids"))]
        else:
            raise parameter_missing("users")

        def work(item):
            user = people.get_user(st(), int(item.get("id") or 0))
            return change_user(user, item)["id"], None

        return job_answer(jobs.run_job(st(), "bulk_update_users", "update", items, work))

    @route(bp, "/api/v2/users/search.json", methods=["GET"])
    def search_users():
        args = flask.request.args
        if "external_id" in args:
            found = [u for u in _by_id(list(st().users.values())) if u["external_id"] == args["external_id"]]
        elif args.get("query"):
            found = [record for _, record in search.run_query(st(), args["query"], only="user")]
        else:
            raise parameter_missing("query")
        return list_page(found, _id_key, "users", present=people.present_user)

    @route(bp, "/api/v2/users/<int:user_id>/tickets/requested.json", methods=["GET"])
    def requested(user_id):
        people.get_user(st(), user_id)
        found = [t for t in st().tickets.values() if t["requester_id"] == user_id and t["status"] != "deleted"]
        return list_page(_by_id(found), _id_key, "tickets", present=lambda t: tickets.present_ticket(st(), t))

    @route(bp, "/api/v2/users/<int:user_id>/tickets/ccd.json", methods=["GET"])
    def ccd(user_id):
        people.get_user(st(), user_id)
        found = participants.tickets_with(st(), user_id, "email_cc_ids")
        return list_page(found, _id_key, "tickets", present=lambda t: tickets.present_ticket(st(), t))

    @route(bp, "/api/v2/users/<int:user_id>/tickets/followed.json", methods=["GET"])
    def followed(user_id):
        people.get_user(st(), user_id)
        found = participants.tickets_with(st(), user_id, "follower_ids")
        return list_page(found, _id_key, "tickets", present=lambda t: tickets.present_ticket(st(), t))

    @route(bp, "/api/v2/deleted_users.json", methods=["GET"])
    def deleted_users():
        return list_page(_by_id(list(st().deleted_users.values())), _id_key, "deleted_users",
                         present=people.present_user)

    @route(bp, "/api/v2/deleted_users/<int:user_id>.json", methods=["GET"])
    def deleted_user(user_id):
        user = st().deleted_users.get(user_id)
        if user is None:
            raise not_found()
        return {"deleted_user": people.present_user(user)}

    @route(bp, "/api/v2/deleted_users/<int:user_id>.json", methods=["DELETE"])
    def erase_user(user_id):
        return {"deleted_user": people.permanently_delete_user(st(), user_id)}

    # -- organizations -----------------------------------------------------------------------------------
    def get_org(org_id):
        org = st().organizations.get(org_id)
        if org is None:
            raise not_found()
        return org

    @route(bp, "/api/v2/organizations.json", methods=["GET"])
    def list_orgs():
        orgs = _by_id(list(st().organizations.values()))
        return list_page(orgs, _id_key, "organizations", present=people.present_org)

    @route(bp, "/api/v2/organizations.json", methods=["POST"])
    def create_org():
        return {"organization": people.present_org(people.create_org(st(), emu.body("organization")))}, 201

    @route(bp, "/api/v2/organizations/<int:org_id>.json", methods=["GET"])
    def show_org(org_id):
        return {"organization": people.present_org(get_org(org_id))}

    @route(bp, "/api/v2/organizations/<int:org_id>.json", methods=["PUT"])
    def update_org(org_id):
        org = people.update_org(st(), get_org(org_id), emu.body("organization"))
        return {"organization": people.present_org(org)}

    @route(bp, "/api/v2/organizations/<int:org_id>.json", methods=["DELETE"])
    def delete_org(org_id):
        get_org(org_id)
        del st().organizations[org_id]
        for user in st().users.values():
            if user["organization_id"] == org_id:
                user["organization_id"] = None
        return flask.Response(status=204)

    @route(bp, "/api/v2/organizations/create_or_update.json", methods=["POST"])
    def create_or_update_org():
        data = emu.body("organization")
        existing = (st().organizations.get(int(data["id"])) if data.get("id") else None) or \
            st().org_by_external_id(data.get("external_id"))
        if existing is None:
            return {"organization": people.present_org(people.create_org(st(), data))}, 201
        return {"organization": people.present_org(people.update_org(st(), existing, data))}

    @route(bp, "/api/v2/organizations/show_many.json", methods=["GET"])
    def show_many_orgs():
        args = flask.request.args
        if "external_ids" in args:
            wanted = [x for x in args["external_ids"].split(",") if x]
            found = [o for o in _by_id(list(st().organizations.values())) if o["external_id"] in wanted]
        else:
            found = [o for i in jobs.parse_ids(args.get("ids")) if (o := st().organizations.get(i)) is not None]
        return {"organizations": [people.present_org(o) for o in found], "next_page": None, "previous_page": None,
                "count": len(found)}

    @route(bp, "/api/v2/organizations/search.json", methods=["GET"])
    def search_orgs():
        args = flask.request.args
        orgs = _by_id(list(st().organizations.values()))
        if "external_id" in args:
            found = [o for o in orgs if o["external_id"] == args["external_id"]]
        elif "name" in args:
            found = [o for o in orgs if o["name"].lower() == args["name"].lower()]
        else:
            raise parameter_missing("name or external_id")
        return list_page(found, _id_key, "organizations", present=people.present_org)

    @route(bp, "/api/v2/organizations/autocomplete.json", methods=["GET"])
    def autocomplete_orgs():
        prefix = flask.request.args.get("name", "").lower()
        if len(prefix) < 2:
            raise invalid_value("name must be at least 2 characters")
        found = [o for o in _by_id(list(st().organizations.values())) if o["name"].lower().startswith(prefix)]
        return list_page(found, _id_key, "organizations", present=people.present_org)

    @route(bp, "/api/v2/organizations/<int:org_id>/tickets.json", methods=["GET"])
    def org_tickets(org_id):
        get_org(org_id)
        found = [t for t in st().tickets.values() if t["organization_id"] == org_id and t["status"] != "deleted"]
        return list_page(_by_id(found), _id_key, "tickets", present=lambda t: tickets.present_ticket(st(), t))

    @route(bp, "/api/v2/organizations/<int:org_id>/users.json", methods=["GET"])
    def org_users(org_id):
        get_org(org_id)
        found = [u for u in _by_id(list(st().users.values())) if u["organization_id"] == org_id]
        return list_page(found, _id_key, "users", present=people.present_user)

    # -- groups ------------------------------------------------------------------------------------------
    def get_group(group_id):
        group = st().groups.get(group_id)
        if group is None or group["deleted"]:
            raise not_found()
        return group

    @route(bp, "/api/v2/groups.json", methods=["GET"])
    def list_groups():
        groups = [g for g in _by_id(list(st().groups.values())) if not g["deleted"]]
        return list_page(groups, _id_key, "groups", present=people.present_group)

    @route(bp, "/api/v2/groups/assignable.json", methods=["GET"])
    def assignable_groups():
        groups = [g for g in _by_id(list(st().groups.values())) if not g["deleted"]]
        return list_page(groups, _id_key, "groups", present=people.present_group)

    @route(bp, "/api/v2/groups.json", methods=["POST"])
    def create_group():
        return {"group": people.present_group(people.create_group(st(), emu.body("group")))}, 201

    @route(bp, "/api/v2/groups/<int:group_id>.json", methods=["GET"])
    def show_group(group_id):
        return {"group": people.present_group(get_group(group_id))}

    @route(bp, "/api/v2/groups/<int:group_id>.json", methods=["PUT"])
    def update_group(group_id):
        return {"group": people.present_group(people.update_group(st(), get_group(group_id),
                                                                  emu.body("group")))}

    @route(bp, "/api/v2/groups/<int:group_id>.json", methods=["DELETE"])
    def delete_group(group_id):
        get_group(group_id)["deleted"] = True
        return flask.Response(status=204)
