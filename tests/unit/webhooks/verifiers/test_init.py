"""Shared verifier helpers, and a guard that signatures are only ever compared in constant time."""

from __future__ import annotations

import ast
from datetime import datetime, timezone
from pathlib import Path

import pytest
from werkzeug.datastructures import Headers

import webhooks.verifiers as verifiers
from webhooks.verifiers import VerificationError, check_timestamp, get_header, require_header

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)


def test_header_lookup_is_case_insensitive_for_dicts_and_werkzeug_headers():
    assert get_header({"Webhook-Id": "a"}, "webhook-id") == "a"
    assert get_header(Headers([("WEBHOOK-ID", "b")]), "webhook-id") == "b"
    assert get_header({}, "webhook-id") is None


@pytest.mark.parametrize(("value", "reason"), [(None, "missing"), ("  ", "missing"), ("é", "non-ASCII"),
                                                ("a\x00b", "control"), ("x" * 5000, "too long")])
def test_require_header_refusals(value, reason):
    with pytest.raises(VerificationError, match=reason):
        require_header({} if value is None else {"h": value}, "h")


def test_timestamp_tolerance_is_inclusive_at_300s():
    base = NOW.timestamp()
    for skew in (-300, 300):
        check_timestamp(base + skew, NOW)
    for skew in (-300.001, 300.001):
        with pytest.raises(VerificationError):
            check_timestamp(base + skew, NOW)


def test_errors_are_one_line_and_never_echo_the_secret():
    from webhooks.verifiers.stripe import StripeVerifier, sign
    secret = "whsec_super_secret_value"
    with pytest.raises(VerificationError) as caught:
        StripeVerifier([secret]).verify({"Stripe-Signature": sign("other", int(NOW.timestamp()), b"x")}, b"x", now=NOW)
    assert "\n" not in str(caught.value) and secret not in str(caught.value)


SENSITIVE = ("sig", "expected", "candidate", "digest", "mac")


def test_no_signature_is_compared_with_equality_operators():
    offenders = []
    for path in Path(verifiers.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                names = [n.id.lower() for side in [node.left, *node.comparators] for n in ast.walk(side)
                         if isinstance(n, ast.Name)]
                if any(word in name for name in names for word in SENSITIVE):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
    assert all("compare_digest" in p.read_text() for p in Path(verifiers.__file__).parent.glob("*.py")
               if p.name != "__init__.py")
