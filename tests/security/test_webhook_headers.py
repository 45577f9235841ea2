"""W3: malformed signature-header grammar on the banking (Standard Webhooks) and Stripe routes — empty, ``v1,``
without a signature, bad base64, unknown versions, 10 000-entry lists, a 1 MB header, non-ASCII, ids and
timestamps containing ``.`` — is always a 4xx (401), never a 500, and never stores anything."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.security.conftest import BANKING_SECRET

pytestmark = pytest.mark.unit
BODY = json.dumps({"id": "evt_w3", "type": "kyc.status.changed",
                   "created_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                   "data": {"customer_id": "CUST-0001", "status": "verified"}}).encode()

entry = st.one_of(
    st.just("v1,"), st.just("v1"), st.just(","), st.just("v2,AAAA"), st.just("v1a,AAAA"),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=50).map("v1,".__add__),  # bad base64
    st.binary(min_size=1, max_size=40).map(lambda b: "v1," + __import__("base64").b64encode(b).decode()),
    st.text(st.characters(min_codepoint=0xA0, max_codepoint=0xFF), min_size=1, max_size=10),  # non-ASCII
)
signature_header = st.one_of(
    st.just(""), st.just(" "),
    st.lists(entry, min_size=1, max_size=8).map(" ".join),
    st.integers(17, 10_000).map(lambda n: " ".join(["v1,AAAA"] * n)),
)
now = int(time.time())
timestamp = st.one_of(st.just(str(now)), st.just(f"{now}.5"), st.just(""), st.just("1e9"), st.just("-1"),
                      st.just("9" * 40), st.just(f"{now}\u00e9"), st.integers(-10**12, 10**12).map(str))
msg_id = st.one_of(st.just("msg_ok"), st.just("msg.with.dots"), st.just(""), st.just("a b"), st.just("x" * 300),
                   st.just("\u00e9t\u00e9"), st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20))


def inbox_count(surface) -> int:
    from hub.db import InboxEvent
    with surface.hub.db.session() as session:
        return session.execute(select(func.count()).select_from(InboxEvent)).scalar()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(sig=signature_header, ts=timestamp, mid=msg_id)
@example(sig=" ".join(["v1,AAAA"] * 10_000), ts=str(now), mid="msg_ok")
@example(sig="v1," + "A" * (1024 * 1024), ts=str(now), mid="msg_ok")
@example(sig="v1,", ts=str(now), mid="msg.dot")
def test_standard_webhooks_header_grammar_is_refused_cleanly(surface, sig, ts, mid):
    before = inbox_count(surface)
    response = surface.app.test_client().post(
        "/webhooks/banking", data=BODY, content_type="application/json",
        headers={"webhook-id": mid, "webhook-timestamp": ts, "webhook-signature": sig})
    assert response.status_code == 401, (response.status_code, response.get_data()[:200])
    assert response.mimetype == "application/json" and response.get_json()["error"] == "invalid_signature"
    assert inbox_count(surface) == before


stripe_entry = st.one_of(st.just("t="), st.just("v1="), st.just("t=1,t=2"), st.just("=x"), st.just(",,,"),
                         st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
                         st.integers(-10**12, 10**12).map(lambda t: f"t={t}"), st.just(f"t={now}"),
                         st.binary(min_size=32, max_size=32).map(lambda b: "v1=" + b.hex()))
stripe_header = st.one_of(st.just(""), st.lists(stripe_entry, min_size=1, max_size=8).map(",".join),
                          st.integers(17, 10_000).map(lambda n: f"t={now}," + ",".join(["v1=00"] * n)))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(header=stripe_header)
@example(header=f"t={now}," + "v1=" + "a" * (1024 * 1024))
def test_stripe_signature_header_grammar_is_refused_cleanly(surface, header):
    before = inbox_count(surface)
    response = surface.app.test_client().post("/webhooks/stripe", data=BODY, content_type="application/json",
                                              headers={"Stripe-Signature": header})
    assert response.status_code == 401, (response.status_code, response.get_data()[:200])
    assert response.get_json()["error"] == "invalid_signature"  # refused by the verifier, not for want of a secret
    assert inbox_count(surface) == before


def test_the_same_body_correctly_signed_is_accepted(surface):
    """The refusals above are about the headers: with a good signature the same request is stored."""
    from webhooks.verifiers.standard import sign
    mid = f"msg_{uuid.uuid4().hex}"
    stamp = int(time.time())
    before = inbox_count(surface)
    response = surface.app.test_client().post(
        "/webhooks/banking", data=BODY, content_type="application/json",
        headers={"webhook-id": mid, "webhook-timestamp": str(stamp),
                 "webhook-signature": "v1,AAAA " + sign(BANKING_SECRET, mid, stamp, BODY)})
    assert response.status_code == 202 and inbox_count(surface) == before + 1
