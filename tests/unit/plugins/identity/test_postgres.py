"""Identity on PostgreSQL (the scale-out database): row locks on challenges, and one verification consumed by
exactly one of many concurrent gated actions."""

from __future__ import annotations

import threading

import pytest

from hub.pipeline import ActionRefused, EventContext
from plugins.identity.service import request_verification, verify_code
from tests.support.postgres import pg_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.scaleout
REFUND = "core_banking.create_refund"


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
