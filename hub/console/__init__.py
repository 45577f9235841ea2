"""The web console at ``/admin/`` and the metrics API at ``/api/v1/metrics/...``.

``create_blueprint()`` returns one blueprint (registered by ``hub.app``): console pages, static files at
``/admin/static/``, the templates (including ``customer_base.html``, the shared layout of customer pages ``/s/…``)
and, nested, the metrics API. Registering it also adds the analytics gauges to ``/metrics``.
"""

from __future__ import annotations

from flask import Blueprint


def create_blueprint() -> Blueprint:
    from hub.console import views
    from hub.console.api import create_metrics_api, register_collector

    bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/admin/static")
    views.register(bp)
    bp.register_blueprint(create_metrics_api())
    bp.record_once(lambda state: register_collector(state.app.extensions["deskbridge"]))
    return bp
