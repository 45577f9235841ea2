"""Sync routes of the admin API."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from hub.api import route


def blueprint() -> Blueprint:
    bp = Blueprint("sync_api", __name__, url_prefix="/api/v1")

    @route(bp, "/sync/status", "GET", "read", "Sync: records, links per system, cursors, failure count")
    def sync_status():
        from hub.sync import status
        return jsonify(status(current_app.extensions["deskbridge"]))

    @route(bp, "/sync/failures", "GET", "read", "Sync: records that could not be synced, with the reason")
    def sync_failures():
        from hub.sync import failures
        limit = min(max(request.args.get("limit", 200, type=int), 1), 1000)
        return jsonify(failures=failures(current_app.extensions["deskbridge"], limit=limit))

    return bp
