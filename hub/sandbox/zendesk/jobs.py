"""Bulk jobs (``create_many``, ``update_many``, ``destroy_many``…) and ``job_statuses``."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

from hub.sandbox.zendesk.errors import ZendeskApiError, not_found, too_many_values
from hub.sandbox.zendesk.state import Job, ZendeskState, api_url, ts

MAX_BULK = 100
STATUS_WORDS = {"create": "Created", "update": "Updated", "delete": "Deleted", "create_or_update": "Updated"}
JOBS_KEPT = 100  # Zendesk keeps the last 100 jobs


def check_bulk(items: Sequence, parameter: str) -> None:
    if len(items) > MAX_BULK:
        raise too_many_values(parameter, MAX_BULK)


def run_job(state: ZendeskState, job_type: str, action: str, items: Sequence,
            work: Callable[[object], tuple[int, str | None]]) -> Job:
    """Run every item now; ``work`` returns ``(record_id, action_override)`` or raises ``ZendeskApiError``.

    The job runs synchronously (the emulator is fast), but the first answer still says ``queued`` and only
    ``job_statuses/{id}`` reports ``completed`` with per-item results, as Zendesk does.
    """
    results = []
    for index, item in enumerate(items):
        item_id = item.get("id") if isinstance(item, dict) else item
        try:
            record_id, done = work(item)
            verb = done or action
            results.append({"index": index, "id": record_id, "action": verb, "success": True,
                            "status": STATUS_WORDS.get(verb, "Updated")})
        except ZendeskApiError as exc:
            details = exc.body.get("description", "")
            if exc.body.get("details"):
                details = "; ".join(d["description"] for errs in exc.body["details"].values() for d in errs)
            results.append({"index": index, "id": item_id, "action": action, "success": False, "status": "Failed",
                            "error": exc.body.get("error", "Failed"), "details": details})
    job = Job(id=secrets.token_hex(16), job_type=job_type, total=len(items), results=results,
              message=f"Completed at {ts(state.now())}")
    state.jobs[job.id] = job
    while len(state.jobs) > JOBS_KEPT:
        state.jobs.pop(next(iter(state.jobs)))
    return job


def present_job(job: Job, fresh: bool = False) -> dict:
    base = {"id": job.id, "url": api_url(f"job_statuses/{job.id}.json"), "job_type": job.job_type,
            "total": job.total}
    if fresh:
        return {**base, "status": "queued", "progress": None, "message": None, "results": None}
    return {**base, "status": "completed", "progress": job.total, "message": job.message, "results": job.results}


def get_job(state: ZendeskState, job_id: str) -> Job:
    job = state.jobs.get(job_id)
    if job is None:
        raise not_found()
    return job


def parse_ids(raw: str | None, parameter: str = "ids") -> list[int]:
    if not raw:
        return []
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise ZendeskApiError(400, {"error": "InvalidValue",
                                    "description": f"{parameter} must be a comma separated list of ids"}) from exc
    check_bulk(ids, parameter)
    return ids
