"""Property value normalisation and comparison keys."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hub.sandbox.hubspot.values import as_text, compare_key, iso_ms, normalise, parse_instant

pytestmark = pytest.mark.unit


def definition(kind, field_type="text", options=()):
    return {"type": kind, "fieldType": field_type, "options": [{"value": o} for o in options]}


def test_iso_ms_has_milliseconds_and_z():
    assert iso_ms(datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)) == "2024-05-01T12:00:00.123Z"


@pytest.mark.parametrize("raw, expected", [(None, None), ("", None), (True, "true"), (3, "3"), (3.0, "3"),
                                           (0.85, "0.85"), ("x", "x")])
def test_as_text(raw, expected):
    assert as_text(raw) == expected


def test_instants_from_epoch_ms_and_iso():
    assert parse_instant("1714564800000") == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    assert parse_instant("2024-05-01T14:00:00+02:00") == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    assert parse_instant("2024-05-01") == datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert parse_instant("yesterday") is None


def test_number_checks():
    assert normalise("n", definition("number"), "12.5", "tickets") == ("12.5", None)
    value, problem = normalise("n", definition("number"), "twelve", "tickets")
    assert value is None and problem["error"] == "INVALID_INTEGER" and problem["propertyValue"] == "twelve"
    assert normalise("n", definition("number"), "1e-14", "tickets")[1]["error"] == "INVALID_INTEGER"
    assert normalise("n", definition("number"), " 1", "tickets")[1]["error"] == "INVALID_WHITESPACE"


def test_datetime_and_date():
    assert normalise("d", definition("datetime"), "1714564800000", "tickets") == ("2024-05-01T12:00:00.000Z", None)
    assert normalise("d", definition("date"), "2024-05-01", "tickets") == ("2024-05-01", None)
    assert normalise("d", definition("date"), "2024-05-01T10:00:00Z", "tickets")[1]["error"] == "INVALID_DATE"


def test_enumerations_and_checkboxes():
    select = definition("enumeration", "select", ("a", "b"))
    assert normalise("e", select, "a", "tickets") == ("a", None)
    assert normalise("e", select, "c", "tickets")[1]["error"] == "INVALID_OPTION"
    multi = definition("enumeration", "checkbox", ("a", "b"))
    assert normalise("e", multi, "a;b", "tickets") == ("a;b", None)
    assert normalise("e", multi, "a;z", "tickets")[1]["error"] == "INVALID_OPTION"


def test_bool_and_email():
    assert normalise("b", definition("bool"), "TRUE", "tickets") == ("true", None)
    assert normalise("b", definition("bool"), "yes", "tickets")[1]["error"] == "INVALID_BOOLEAN"
    assert normalise("email", definition("string"), "not-an-email", "contacts")[1]["error"] == "INVALID_EMAIL"
    assert normalise("email", definition("string"), "a@b.co", "contacts") == ("a@b.co", None)


def test_compare_keys_order_numbers_and_times_by_value():
    assert compare_key("number", "10") > compare_key("number", "9")
    assert compare_key("datetime", "2024-05-02T00:00:00.000Z") > compare_key("datetime", "1714564800000")
    assert compare_key("string", "ABC") == "abc"
    assert compare_key("number", None) is None
