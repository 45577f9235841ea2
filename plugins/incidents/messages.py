"""What people read about an incident: the problem ticket, agents' reply drafts, customers' notices."""

from __future__ import annotations

import re
from collections.abc import Mapping

PAN_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")


def safe(value, limit: int = 200) -> str:
    text = str(value if value is not None else "").replace("\r", " ").strip()
    return PAN_LIKE.sub(lambda m: "•••• " + re.sub(r"\D", "", m.group(0))[-4:], text)[:limit]


def fill(template: str, record: Mapping) -> str:
    """A config template with ``{title}``, ``{incident_id}``, ``{severity}`` (validated in ``Config``)."""
    return template.format(title=safe(record.get("title")), incident_id=safe(record.get("incident_id")),
                           severity=safe(record.get("severity")))


def subject(record: Mapping) -> str:
    return f"Incident {safe(record['incident_id'])} ({safe(record.get('severity'))}): {safe(record.get('title'), 150)}"


def audience_line(record: Mapping) -> str:
    count = len(record.get("audience") or [])
    if record.get("segment"):
        line = f"Affected: segment {safe(record['segment'])} ({count} customers)"
        return line + f", cut at {count} by notices.max_audience." if record.get("cut") else line + "."
    return f"Affected: {count} customers named by the bank." if count else "Affected: no customers named."


def problem_comment(record: Mapping, notices: bool) -> str:
    lines = [f"Incident {safe(record['incident_id'])} opened by the bank: {safe(record.get('title'), 300)}",
             f"Severity: {safe(record.get('severity'))}.", audience_line(record)]
    if notices and record.get("audience"):
        lines.append("Deskbridge is notifying the affected customers, tagging their open tickets "
                     f"(incident_{safe(record['incident_id'])}) and leaving a suggested reply on each.")
    lines.append("This is the problem ticket: it is solved when the bank resolves the incident.")
    return "\n".join(lines)


def draft_note(record: Mapping, template: str, resolved: bool = False) -> str:
    head = "resolved" if resolved else "ongoing"
    return (f"Incident {safe(record['incident_id'])} ({head}) affects this customer. Suggested public reply "
            f"(review, then send it as a public reply):\n---\n{fill(template, record)}\n---\n"
            f"Problem ticket: {record['external_id']}")


def resolution_note(record: Mapping) -> str:
    done = record.get("phases", {}).get("opened", {})
    return (f"The bank resolved incident {safe(record['incident_id'])}. Customers notified of the incident: "
            f"{done.get('cursor', 0)} of {len(record.get('audience') or [])}; open tickets tagged: "
            f"{sum(len(v) for v in (record.get('tagged') or {}).values())}. The same customers now get a "
            f"resolution notice.")


def late_opened_note(record: Mapping) -> str:
    return (f"Incident {safe(record['incident_id'])} was reported open after the bank had already resolved it; "
            f"no customer notices were sent.")
