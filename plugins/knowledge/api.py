"""``GET /api/v1/knowledge/stale``: the stale-article report (scope ``read``)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from hub.api import route
from hub.errors import ConfigError


def create_blueprint() -> Blueprint:
    bp = Blueprint("knowledge_api", __name__, url_prefix="/api/v1")

    @route(bp, "/knowledge/stale", "GET", "read",
           "Knowledge-base articles flagged stale: too old, or suggested on tickets later rated bad")
    def knowledge_stale():
        from hub import clock
        from hub.pipeline import StateStore
        from plugins.knowledge.service import PLUGIN, config_of, get_index, stale_report

        hub = current_app.extensions["deskbridge"]
        with hub.db.session() as session:
            store = StateStore(session, PLUGIN)
            report = store.get("report")
            if report is not None:
                return jsonify(dict(report, source="daily report"))
            # Before the first daily run the report is computed now, and not stored: the job owns the stored one.
            config = config_of(hub)
            try:
                articles = get_index(config, hub.settings).articles
            except ConfigError as exc:
                return jsonify(error="knowledge_base_invalid", message=str(exc).splitlines()[0], status=503), 503
            report = stale_report(articles, store, config, clock.now())
        return jsonify(dict(report, source="computed now"))

    return bp
