"""Web basics: health, readiness, metrics, JSON errors with correlation ids, size limit, admin API auth."""

import pytest

pytestmark = pytest.mark.unit


def test_health_ready_metrics(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["database"]["ok"] is True
    metrics = client.get("/metrics").data.decode()
    assert "deskbridge_queue_depth" in metrics and "deskbridge_up 1.0" in metrics


def test_unknown_route_is_json_404_with_correlation_id(client):
    response = client.get("/no/such/thing", headers={"X-Request-ID": "abc123"})
    assert response.status_code == 404
    assert response.json == {"error": "not_found", "message": "no such route", "status": 404,
                             "correlation_id": "abc123"}
    assert response.headers["X-Request-ID"] == "abc123"


def test_oversize_body_is_413(client):
    response = client.post("/api/v1/dead-letters/replay", data=b"x" * (1024 * 1024 + 1),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json["error"] == "request_entity_too_large"


def test_unexpected_error_is_generic_500_without_trace(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail sk_live_123")
    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret detail" not in response.get_data(as_text=True) and "Traceback" not in response.get_data(as_text=True)
    assert response.json["correlation_id"]


def test_api_tokens_scopes_and_openapi(hub, client):
    from hub.api import create_token
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1") and "/api/v1/dead-letters/replay" in doc["paths"]
    assert client.get("/api/v1/status").status_code == 401
    assert client.get("/api/v1/status", headers={"Authorization": "Bearer dbt_wrong"}).status_code == 401
    reader = create_token(hub, "reader", ["read"])
    ok = client.get("/api/v1/status", headers={"Authorization": f"Bearer {reader}"})
    assert ok.status_code == 200 and "queues" in ok.json
    denied = client.post("/api/v1/dead-letters/replay", json={}, headers={"Authorization": f"Bearer {reader}"})
    assert denied.status_code == 403 and "dlq:write" in denied.json["message"]
    admin = create_token(hub, "ops", ["admin"])
    assert client.post("/api/v1/dead-letters/replay", json={"ids": [1]},
                       headers={"Authorization": f"Bearer {admin}"}).json == {"replayed": 0}
    from sqlalchemy import select
    from hub.db import ApiToken, AuditEntry
    with hub.db.session() as session:
        hashes = session.execute(select(ApiToken.token_hash)).scalars().all()
        actions = session.execute(select(AuditEntry.action, AuditEntry.outcome)).all()
    assert reader not in hashes and len(hashes[0]) == 64  # stored hashed only
    assert ("api.authorize", "denied") in actions and ("dlq.replay", "ok") in actions
