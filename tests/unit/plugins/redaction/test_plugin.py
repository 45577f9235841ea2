"""The redaction plugin inside a real hub: every outbox write to a CRM or help desk leaves redacted."""

from __future__ import annotations

import json
import logging
import random

import pytest
from stdnum import luhn

import plugins.redaction as plugin
from hub.pipeline import process_next_action
from plugins.redaction import RedactingFilter, contains_pan

pytestmark = pytest.mark.unit


class Recorder:
    """A connector that keeps what it was asked to send."""

    def __init__(self, name):
        self.name = name
        self.calls = []

    def execute(self, operation, payload, idempotency_key):
        self.calls.append((operation, payload))
        return {"id": len(self.calls)}

    def check(self):
        return {"ok": True, "detail": "recording"}


@pytest.fixture
def started(make_hub):
    def factory(block: dict | None = None):
        hub = make_hub({"plugins": {"redaction": block or {}}})
        hub.startup()
        recorders = {name: Recorder(name) for name in ("salesforce", "hubspot", "zendesk", "core_banking")}
        hub.connectors.update(recorders)
        return hub, recorders
    yield factory
    plugin._Active.config = plugin.Config()
    plugin._Active.redactor = plugin._Active.config.redactor()
    for handler in logging.getLogger().handlers:
        for f in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(f)


def _drain(hub):
    while process_next_action(hub, "test"):
        pass


def test_plugin_is_enabled_and_listed(started):
    hub, _ = started()
    info = {i.name: i for i in hub.plugin_infos}["redaction"]
    assert info.enabled and {"on_startup", "transform_outbound"} <= set(info.hooks)


def test_crm_and_helpdesk_writes_are_redacted_others_not(started):
    hub, rec = started()
    payload = {"subject": "card 4111 1111 1111 1111", "comment": {"body": "cvv: 123, IBAN GB82WEST12345698765432"}}
    for system in ("salesforce", "hubspot", "zendesk", "core_banking"):
        hub.emit(system, "create_ticket", payload, key=f"k-{system}")
    _drain(hub)
    for system in ("salesforce", "hubspot", "zendesk"):
        (_, sent), = rec[system].calls
        assert sent == {"subject": "card **** **** **** 1111",
                        "comment": {"body": "cvv: [REDACTED], IBAN GB****************5432"}}
    # The bank is not a CRM: it keeps the IBAN and labels. A full card number is never stored by the hub for
    # anyone, though (the core masks it before the outbox row is written; PCI DSS 3.5.1).
    sent = rec["core_banking"].calls[0][1]
    assert sent["comment"] == payload["comment"]
    assert "4111 1111 1111 1111" not in sent["subject"] and sent["subject"] == "card **** **** **** 1111"


def test_config_bin_mode_and_systems(started):
    hub, rec = started({"pan_mask": "bin_last4", "systems": ["hubspot"]})
    hub.emit("hubspot", "update_contact", {"note": "5555555555554444"}, key="a")
    hub.emit("zendesk", "update_ticket", {"note": "5555555555554444"}, key="b")
    _drain(hub)
    assert rec["hubspot"].calls[0][1] == {"note": "555555******4444"}
    assert rec["zendesk"].calls[0][1]["note"] != "5555555555554444"  # outside the plugin's systems: core mask


def _pan(rng: random.Random) -> str:
    prefix = rng.choice(["4", "51", "55", "2221", "2720", "34", "37", "6011", "65", "3530", "36", "62"])
    length = 15 if prefix in ("34", "37") else 14 if prefix == "36" else 16
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + luhn.calc_check_digit(body)


def _disguise(rng: random.Random, number: str) -> str:
    sep = rng.choice([" ", "-", ".", "\n", "", "\u00a0", "<br>"])
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


def test_generated_tickets_never_reach_a_crm_with_a_pan(started):
    hub, rec = started()
    rng = random.Random(2026)
    for i in range(60):
        card = _disguise(rng, _pan(rng))
        text = f"Ticket {i}: order {rng.randint(10**5, 10**9)} card {card} on 2026-01-{i % 28 + 1:02d}"
        payload = {"subject": f"Help #{i}", "description": text, "custom_fields": [{"id": 9, "value": text}]}
        hub.emit(rng.choice(["salesforce", "hubspot", "zendesk"]), "create_ticket", payload, key=f"t{i}")
    _drain(hub)
    sent = [payload for name in ("salesforce", "hubspot", "zendesk") for _, payload in rec[name].calls]
    assert len(sent) == 60
    assert not any(contains_pan(json.dumps(p)) or contains_pan(p["description"]) for p in sent)


def test_startup_installs_log_filter(started):
    stream_handler = logging.StreamHandler()
    logging.getLogger().addHandler(stream_handler)
    try:
        started()
        assert any(isinstance(f, RedactingFilter) for f in stream_handler.filters)
    finally:
        logging.getLogger().removeHandler(stream_handler)
