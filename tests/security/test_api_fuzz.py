"""API fuzz: schemathesis drives every operation of ``/api/v1/openapi.json`` on the WSGI app with an admin bearer
token (and without one) — no 5xx, and every response conforms to the document (status codes, content type,
schema). Hypothesis adds raw requests to the webhook routes: no input there yields a 5xx either."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import positive_data_acceptance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.unit
EXAMPLES = 25  # per operation; ~20 operations keep this under ~15 s
# Conformance gaps owned elsewhere, reported to their owners; a 5xx is never excused.
KNOWN_GAPS = {
    # plugins/identity: 404 no_challenge / 423 locked / 403 with {verified, outcome, message}, not documented
    "POST /api/v1/identity/verify": {"UndefinedStatusCode"},
}


@pytest.fixture(scope="module")
def api_schema(surface):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", surface.app)


def test_every_operation_conforms_and_never_fails(api_schema, surface):
    """One Hypothesis run per operation (schemathesis' pytest plugin can't take a module fixture here)."""
    failures = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def fuzz(case):
            # Every check except "schema-valid input is accepted": the documented body schemas are looser than
            # the business rules (an unknown consent purpose is valid JSON Schema but refused with 422, as it
            # should be), and route() cannot declare query parameters yet.
            case.call_and_validate(headers=surface.auth, excluded_checks=[positive_data_acceptance])
        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's finding, then fail once naming them all
            failures[f"{operation.method.upper()} {operation.path}"] = [f"{type(e).__name__}: {str(e).splitlines()[0]}" for e in getattr(exc, "exceptions", [exc])]
    assert [op for op, found in failures.items() if any(f.startswith("ServerError") for f in found)] == []
    unexplained = {op: found for op, found in failures.items()
                   if {f.split(":")[0] for f in found} - KNOWN_GAPS.get(op, set())}
    assert unexplained == {}


@pytest.mark.parametrize("body", [{"ids": [2 ** 63]}, {"ids": [2 ** 70]}, "a string", [1, 2], 7,
                                  {"ids": [True]}, {"ids": [0]}, {"ids": "1"}])
def test_replay_refuses_bodies_that_used_to_crash_it(surface, body):
    """Found by the fuzz run: ids beyond 64 bits overflowed the driver, a non-object body raised AttributeError."""
    response = surface.app.test_client().post("/api/v1/dead-letters/replay", json=body, headers=surface.auth)
    assert response.status_code == 422 and response.get_json()["error"] == "invalid"


def test_the_document_covers_the_admin_surface(api_schema):
    operations = {f"{r.ok().method.upper()} {r.ok().path}" for r in api_schema.get_all_operations()}
    assert {"GET /api/v1/status", "GET /api/v1/dead-letters", "POST /api/v1/dead-letters/replay",
            "GET /api/v1/audit/verify", "GET /api/v1/plugins"} <= operations
    assert len(operations) >= 15


WEBHOOKS = ["/webhooks/banking", "/webhooks/stripe", "/webhooks/zendesk", "/webhooks/hubspot", "/webhooks/salesforce"]
HEADER_NAMES = ["webhook-id", "webhook-timestamp", "webhook-signature", "Stripe-Signature",
                "X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp", "X-HubSpot-Signature-v3",
                "X-HubSpot-Request-Timestamp", "X-HubSpot-Signature", "Content-Type", "X-Request-ID"]
header_value = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    st.sampled_from(["v1,", "v1,@@@", "v2,abc", "t=,v1=", "t=1,v1=" + "0" * 64, "9" * 40, "-1", "1e309"]),
    st.integers(1, 400).map(lambda n: " ".join(["v1,AAAA"] * n)),
)
body = st.one_of(st.binary(max_size=300), st.sampled_from([b"", b"{}", b"[]", b"null", b'{"id": 1, "type": []}',
                                                          b"<?xml version='1.0'?><x/>", b'{"a":' * 200]))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(WEBHOOKS), headers=st.dictionaries(st.sampled_from(HEADER_NAMES), header_value, max_size=6),
       data=body, query=st.sampled_from(["", "?a=1", "?%ff=%00"]))
def test_no_webhook_input_yields_a_server_error(surface, path, headers, data, query):
    response = surface.app.test_client().post(path + query, data=data, headers=headers)
    assert response.status_code < 500, (path, response.status_code, response.get_data()[:200])
    assert response.mimetype in {"application/json", "text/xml"}
