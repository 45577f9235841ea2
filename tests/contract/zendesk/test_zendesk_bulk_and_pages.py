"""Bulk jobs with job_statuses, the 100-item cap, and cursor/offset pagination, through zenpy."""

from __future__ import annotations

import pytest
from zenpy.lib.api_objects import Comment, Ticket
from zenpy.lib.exception import TooManyValuesException

pytestmark = pytest.mark.contract


def make(count: int, start: int = 0) -> list[Ticket]:
    return [Ticket(subject=f"Bulk ticket {n}", comment=Comment(body=f"Body {n}"), external_id=f"BULK-{n}")
            for n in range(start, start + count)]


def create_many(zc, count: int) -> list[int]:
    ids: list[int] = []
    for start in range(0, count, 100):
        job = zc.tickets.create(make(min(100, count - start), start))
        ids += [r.id for r in zc.job_status(id=job.id).results]
    return ids


def test_create_many_job_goes_from_queued_to_completed(zc):
    job = zc.tickets.create(make(3))
    assert job.status == "queued" and job.total == 3 and job.results is None
    done = zc.job_status(id=job.id)
    assert done.status == "completed" and done.progress == 3
    results = list(done.results)
    assert [r.index for r in results] == [0, 1, 2]
    assert all(r.success and r.action == "create" and r.status == "Created" for r in results)
    assert [zc.tickets(id=r.id).subject for r in results] == ["Bulk ticket 0", "Bulk ticket 1", "Bulk ticket 2"]


def test_update_many_and_destroy_many(zc, api):
    ids = create_many(zc, 3)
    job = zc.tickets.update([Ticket(id=i, status="pending") for i in ids])
    assert all(r.status == "Updated" for r in zc.job_status(id=job.id).results)
    assert {zc.tickets(id=i).status for i in ids} == {"pending"}
    # one ticket body applied to many ids, as update_many?ids= does
    response = api("PUT", f"/api/v2/tickets/update_many.json?ids={ids[0]},{ids[1]}",
                   json={"ticket": {"priority": "urgent", "additional_tags": ["bulk"]}})
    status = api("GET", f"/api/v2/job_statuses/{response.json()['job_status']['id']}.json").json()
    assert status["job_status"]["status"] == "completed"
    assert zc.tickets(id=ids[0]).priority == "urgent" and "bulk" in zc.tickets(id=ids[1]).tags
    assert zc.tickets(id=ids[2]).priority is None
    job = zc.tickets.delete([Ticket(id=i) for i in ids[:2]])
    assert [r.status for r in zc.job_status(id=job.id).results] == ["Deleted", "Deleted"]
    assert [t.id for t in zc.tickets()] == [ids[2]]


def test_update_many_reports_failed_items(zc, api):
    ids = create_many(zc, 1)
    response = api("PUT", "/api/v2/tickets/update_many.json",
                   json={"tickets": [{"id": ids[0], "status": "open"}, {"id": 987654, "status": "open"}]})
    results = api("GET", response.json()["job_status"]["url"]).json()["job_status"]["results"]
    assert results[0]["success"] is True
    assert results[1]["success"] is False and results[1]["error"] == "RecordNotFound"


def test_bulk_over_100_is_refused_with_too_many_values(zc, api):
    with pytest.raises(TooManyValuesException):
        zc.tickets.create(make(101))
    assert list(zc.tickets()) == []
    ids = ",".join(str(n) for n in range(1, 102))
    response = api("GET", f"/api/v2/tickets/show_many.json?ids={ids}")
    assert response.status_code == 400 and response.json()["error"] == "TooManyValues"


def test_show_many(zc):
    ids = create_many(zc, 4)
    found = list(zc.tickets(ids=ids[1:3]))
    assert [t.id for t in found] == ids[1:3]


def test_cursor_pagination_across_pages_of_250(zc, api):
    ids = create_many(zc, 250)
    assert [t.id for t in zc.tickets()] == ids  # zenpy follows links.next verbatim
    first = api("GET", "/api/v2/tickets.json", params={"page[size]": 100}).json()
    assert len(first["tickets"]) == 100 and first["meta"]["has_more"] is True
    assert first["links"]["next"].startswith("http://127.0.0.1:")
    second = api("GET", first["links"]["next"]).json()
    third = api("GET", second["links"]["next"]).json()
    assert len(third["tickets"]) == 50 and third["meta"]["has_more"] is False
    seen = [t["id"] for page in (first, second, third) for t in page["tickets"]]
    assert seen == ids
    back = api("GET", third["links"]["prev"]).json()
    assert [t["id"] for t in back["tickets"]] == ids[100:200]


def test_cursor_pagination_sorted_by_updated_at_descending(zc, api, sandbox):
    ids = create_many(zc, 5)
    sandbox.sandbox.advance_clock(10)
    api("PUT", f"/api/v2/tickets/{ids[0]}.json", json={"ticket": {"status": "open"}})
    page = api("GET", "/api/v2/tickets.json", params={"page[size]": 2, "sort": "-updated_at"}).json()
    assert page["tickets"][0]["id"] == ids[0]
    rest = api("GET", page["links"]["next"]).json()
    assert ids[0] not in [t["id"] for t in rest["tickets"]]


def test_page_size_over_100_is_refused(api):
    response = api("GET", "/api/v2/tickets.json", params={"page[size]": 101})
    assert response.status_code == 400


def test_offset_pagination(zc, api):
    ids = create_many(zc, 130)
    first = api("GET", "/api/v2/tickets.json", params={"per_page": 100}).json()
    assert first["count"] == 130 and first["previous_page"] is None and len(first["tickets"]) == 100
    second = api("GET", first["next_page"]).json()
    assert [t["id"] for t in second["tickets"]] == ids[100:] and second["next_page"] is None
