"""RedactingFilter: message, args, extra fields, exceptions; install on handlers."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.redaction.logging_filter import RedactingFilter, install_log_redaction

from tests.unit.hub.test_pan import pans

pytestmark = pytest.mark.unit


class JsonFormatter(logging.Formatter):
    """Writes the message and every extra attribute, like a structured log handler would."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"msg": record.getMessage(), "exc": record.exc_text}
        out.update({k: v for k, v in vars(record).items() if k in ("payload", "api_key", "headers", "card")})
        return json.dumps(out, default=str)


@pytest.fixture
def logger_and_stream():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.redaction.filter")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def _line(stream: io.StringIO) -> dict:
    return json.loads(stream.getvalue().strip().splitlines()[-1])


def test_message_args_redacted(logger_and_stream):
    logger, stream = logger_and_stream
    logger.info("charge for %s failed, cvv %s", "4111 1111 1111 1111", "cvv: 123")
    line = _line(stream)
    assert line["msg"] == "charge for **** **** **** 1111 failed, cvv cvv: [REDACTED]"


def test_extra_fields_by_value_and_key_name(logger_and_stream):
    logger, stream = logger_and_stream
    logger.warning(
        "outbound",
        extra={
            "payload": {"note": "card 5555555555554444", "password": "hunter2", "nested": [{"token": "abc"}]},
            "api_key": "sk_live_123",
            "headers": {"Authorization": "Bearer xyz", "X-Request-Id": "r1"},
            "card": 4111111111111111,
        },
    )
    line = _line(stream)
    assert line["payload"] == {"note": "card ************4444", "password": "[REDACTED]",
                               "nested": [{"token": "[REDACTED]"}]}
    assert line["api_key"] == "[REDACTED]"
    assert line["headers"] == {"Authorization": "[REDACTED]", "X-Request-Id": "r1"}
    assert line["card"] == "**** **** **** 1111"


def test_inline_credentials_in_message(logger_and_stream):
    logger, stream = logger_and_stream
    logger.info("calling with Authorization: Bearer abc.def and password=hunter2&x=1")
    msg = _line(stream)["msg"]
    assert "abc.def" not in msg and "hunter2" not in msg
    assert "&x=1" in msg


def test_exception_text_redacted(logger_and_stream):
    logger, stream = logger_and_stream
    try:
        raise ValueError("declined card 6011111111111117")
    except ValueError:
        logger.exception("failed")
    exc = _line(stream)["exc"]
    assert "ValueError: declined card ************1117" in exc
    assert "6011111111111117" not in stream.getvalue()


def test_bad_format_string_does_not_leak_args(logger_and_stream):
    logger, stream = logger_and_stream
    logger.info("broken %d", "4111111111111111")
    assert "4111111111111111" not in stream.getvalue()


def test_install_on_root_handlers_covers_child_loggers():
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    try:
        install_log_redaction()
        install_log_redaction()
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
        logging.getLogger("some.child.module").error("pan 378282246310005")
        assert stream.getvalue().strip() == "pan ***********0005"
    finally:
        root.removeHandler(handler)


@settings(max_examples=150, deadline=None)
@given(number=pans(), key=st.sampled_from(["note", "body", "detail"]), noise=st.text(max_size=30))
def test_no_pan_reaches_the_log_whatever_the_field(number, key, noise):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.redaction.property")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        logger.error("%s %s", noise, spaced, extra={"payload": {key: [f"{noise} {number}"]}})
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert number not in re.sub(r"\D", "", output)
    assert number[-4:] in output
