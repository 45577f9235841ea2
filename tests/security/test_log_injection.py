"""S13: CR/LF, ANSI escapes, Unicode line separators and JSON-breaking quotes in logged user fields never forge a
log line — JSON logs stay one event per line, plain-text logs one line per record — and card numbers and secrets
fed through the pipeline never reach the log."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timezone

import pytest

from hub.hookspecs import hookimpl
from hub.logs import setup_logging
from tests.security.conftest import PANS, find_pans, known_pans

pytestmark = pytest.mark.unit
FORGED = '{"time": "2026-01-01T00:00:00.000Z", "level": "critical", "logger": "hub.api", "message": "forged"}'
NASTY = [
    "ok\r\n" + FORGED,
    "ok\n" + FORGED + "\nmore",
    "\x1b[2J\x1b[31mred\x1b[0m\x07",
    'quote" , "level": "critical", "x": "',
    "line\u2028separator\u2029para\u0085nel",
    "nul\x00byte\x7fdel\ttab",
    "}\n{" + FORGED[1:],
]
SECRET_TOKEN = "dbt_log-injection-secret-token-value"
ZENDESK_SECRET = "log-injection-zendesk-secret"


@pytest.fixture
def capture():
    """Install the production handler on an in-memory stream; yields ``(stream, set_mode)``."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()

    def install(json_lines: bool = True):
        stream.seek(0)
        stream.truncate()
        setup_logging("DEBUG", json_lines=json_lines, stream=stream)
    install()
    yield stream, install
    for handler in list(root.handlers):
        if getattr(handler, "_deskbridge", False):
            root.removeHandler(handler)
    root.setLevel(level)


def json_lines(text: str) -> list[dict]:
    lines = text.split("\n")
    assert lines[-1] == "", "the log does not end with a newline"
    return [json.loads(line) for line in lines[:-1]]  # raises on any line that is not one whole JSON object


@pytest.mark.parametrize("nasty", NASTY)
def test_json_logs_stay_one_event_per_line(capture, nasty):
    stream, _ = capture
    log = logging.getLogger("hub.pipeline")
    log.warning("event %s (%s) failed: %s", 7, nasty, nasty, extra={"event_type": nasty, "token_name": nasty})
    log.info(nasty)
    try:
        raise ValueError(nasty)
    except ValueError:
        log.error("boom", exc_info=True)
    raw = stream.getvalue()
    records = json_lines(raw)
    assert len(records) == 3
    assert [r["level"] for r in records] == ["warning", "info", "error"]
    assert records[0]["message"] == f"event 7 ({nasty}) failed: {nasty}"  # kept, escaped, readable
    assert records[0]["event_type"] == nasty
    assert records[1]["message"] == nasty
    assert nasty in records[2]["error"]
    assert not any(r.get("message") == "forged" for r in records)
    # nothing a terminal or a line-based shipper would act on survives unescaped
    assert not set(raw[:-1]) & {"\r", "\x1b", "\x07", "\x00", "\u2028", "\u2029", "\u0085"}
    assert raw.count("\n") == 3


@pytest.mark.parametrize("nasty", NASTY)
def test_plain_text_logs_stay_one_line_per_record(capture, nasty):
    stream, install = capture
    install(json_lines=False)
    log = logging.getLogger("hub.pipeline")
    log.warning("event %s (%s) failed", 7, nasty)
    try:
        raise ValueError(nasty)
    except ValueError:
        log.error("boom %s", nasty, exc_info=True)
    raw = stream.getvalue()
    lines = raw.split("\n")[:-1]
    assert len(lines) == 2, lines
    assert lines[0].startswith("WARNING hub.pipeline: event 7 (") and lines[1].startswith("ERROR hub.pipeline: boom")
    assert not any(line.startswith("{") for line in lines)
    assert not set(raw[:-1]) & {"\r", "\x1b", "\x07", "\x00", "\u2028", "\u2029", "\u0085"}


class Exploding:
    """A plugin whose failure message carries the event's own (attacker-chosen) fields, as real bugs do."""

    @hookimpl
    def on_event(self, event, ctx):
        logging.getLogger("plugins.exploding").info("handling %s %s", event.event_id, event.type,
                                                    extra={"payload": event.payload, "api_token": SECRET_TOKEN})
        raise ValueError(f"cannot handle {event.type!s} from {event.event_id!s}: {json.dumps(event.data)}")


def signed_zendesk(client, body: dict):
    from webhooks.verifiers.zendesk import sign
    raw = json.dumps(body).encode()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return client.post("/webhooks/zendesk", data=raw, content_type="application/json",
                       headers={"X-Zendesk-Webhook-Signature": sign(ZENDESK_SECRET, stamp, raw),
                                "X-Zendesk-Webhook-Signature-Timestamp": stamp})


def test_webhook_ids_and_types_through_the_pipeline_cannot_forge_lines_or_leak(make_hub, capture):
    from hub.api import create_token
    from hub.app import create_app
    from hub.pipeline import process_next_event
    stream, _ = capture
    hub = make_hub({"webhooks": {"zendesk_secrets": [ZENDESK_SECRET]}}, plugins=[Exploding()])
    client = create_app(hub=hub).test_client()
    for index, nasty in enumerate(NASTY):
        body = {"id": f"{index}-{nasty}", "type": f"ticket.{nasty}",
                "data": {"comment": f"my card is {PANS[index % len(PANS)]}", "note": nasty}}
        assert signed_zendesk(client, body).status_code == 202
    token_name = "ops\r\n" + FORGED
    token = create_token(hub, token_name, ["read"])
    assert client.get("/api/v1/audit/verify", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert client.get("/api/v1/status", headers={"Authorization": f"Bearer {SECRET_TOKEN}"}).status_code == 401
    assert process_next_event(hub, "log-injection-test", batch=len(NASTY))  # one attempt each
    raw = stream.getvalue()
    records = json_lines(raw)
    failures = [r for r in records if r["logger"] == "hub.pipeline" and "failed" in r["message"]]
    assert len(failures) == len(NASTY)  # one record per failed event, each on its own line
    handled = [r for r in records if r["logger"] == "plugins.exploding"]
    assert len(handled) == len(NASTY) and all(r["api_token"] == "[redacted]" for r in handled)
    assert not any(r["message"] == "forged" for r in records)
    assert find_pans(raw) == [] and known_pans(raw) == []
    assert SECRET_TOKEN not in raw and token not in raw and ZENDESK_SECRET not in raw
