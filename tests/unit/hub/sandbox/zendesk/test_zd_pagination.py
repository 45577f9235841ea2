"""Cursor and offset paging helpers inside a request context."""

from __future__ import annotations

import flask
import pytest

from hub.sandbox.zendesk.errors import ZendeskApiError
from hub.sandbox.zendesk.pagination import cursor_page, decode_cursor, encode_cursor, offset_page

pytestmark = pytest.mark.unit

ITEMS = [{"id": n} for n in range(1, 8)]
app = flask.Flask(__name__)


def key(item):
    return [item["id"]]


def test_cursor_round_trip_and_garbage():
    assert decode_cursor(encode_cursor([5, "x"])) == [5, "x"]
    with pytest.raises(ZendeskApiError):
        decode_cursor("%%%not-a-cursor")


def test_cursor_pages_walk_forward_and_back():
    with app.test_request_context("/api/v2/things.json?page[size]=3"):
        first = cursor_page(ITEMS, key, "things")
    assert [i["id"] for i in first["things"]] == [1, 2, 3] and first["meta"]["has_more"]
    with app.test_request_context(f"/api/v2/things.json?page[size]=3&page[after]={first['meta']['after_cursor']}"):
        second = cursor_page(ITEMS, key, "things")
    assert [i["id"] for i in second["things"]] == [4, 5, 6]
    with app.test_request_context(f"/api/v2/things.json?page[size]=3&page[before]={second['meta']['before_cursor']}"):
        back = cursor_page(ITEMS, key, "things")
    assert [i["id"] for i in back["things"]] == [1, 2, 3] and back["meta"]["has_more"] is False


def test_offset_pages():
    with app.test_request_context("/api/v2/things.json?per_page=5&page=2"):
        page = offset_page(ITEMS, "things")
    assert [i["id"] for i in page["things"]] == [6, 7] and page["next_page"] is None
    assert page["previous_page"].startswith("http://localhost/api/v2/things.json") and page["count"] == 7
