"""Identity on PostgreSQL (the scale-out database): row locks on challenges, and one verification consumed by
exactly one of many concurrent gated actions."""

from __future__ import annotations

import os
import socket
import threading
import uuid

import pytest

from hub.pipeline import ActionRefused, EventContext
from plugins.identity.service import request_verification, verify_code

pytestmark = pytest.mark.scaleout
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REFUND = "core_banking.create_refund"


def _reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def pg_url():
    if not _reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is not reachable (CI must have it)")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not running")
    import psycopg
    name = f"deskbridge_id_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_one_verification_allows_exactly_one_of_concurrent_actions(make_hub, pg_url):
    import json
    import re

    from sqlalchemy import select

    from hub.db import OutboxAction
    hub = make_hub({"plugins": {"identity": {}}, "database_url": pg_url})
    with hub.db.session() as session:
        created = request_verification(EventContext(hub, session), "CUST-0001", REFUND, "agent:test")
    with hub.db.session() as session:
        row = session.execute(select(OutboxAction).where(
            OutboxAction.key == f"identity:{created['challenge_id']}:code")).scalar_one()
        code = re.search(r"code is (\d{6})", json.loads(row.payload)["message"]).group(1)
    with hub.db.session() as session:
        assert verify_code(EventContext(hub, session), code, challenge_id=created["challenge_id"]).ok

    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def attempt(i: int) -> None:
        barrier.wait(10)
        try:
            hub.emit("core_banking", "create_refund", {"transaction_id": "TXN-1", "customer_id": "CUST-0001"},
                     key=f"refund-{i}")
            outcomes.append("allowed")
        except ActionRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["allowed"] + ["refused"] * 7
    with hub.db.session() as session:
        refunds = session.execute(select(OutboxAction).where(OutboxAction.operation == "create_refund")).all()
    assert len(refunds) == 1
