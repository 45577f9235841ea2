"""Satisfaction ratings: read them from any help-desk shape, keep them per ticket, category and agent in plugin
state, and open a follow-up on a bad one."""

from __future__ import annotations

from collections.abc import Mapping

from hub.clock import isoformat

CSAT_EVENTS = frozenset({"satisfaction.rated", "satisfaction_rating.created", "csat.rated"})
UNASSIGNED = "unassigned"
_NOTE_COMMENT_CHARS = 500


def rating_of(value) -> dict | None:
    """``{"score": "good"|"bad", "comment", "id", "assignee"}`` from a Zendesk rating (``{"score": "bad",
    "comment": …}``), a plain word or a 1–5 score; None for no rating (``offered``, ``unoffered``, empty)."""
    comment = rating_id = assignee = None
    raw = value
    if isinstance(value, Mapping):
        raw = value.get("score", value.get("rating"))
        comment = value.get("comment") or value.get("reason") or None
        rating_id = value.get("id")
        assignee = value.get("assignee_id") or value.get("assignee")
    score = _score(raw)
    if score is None:
        return None
    return {"score": score, "comment": str(comment)[:2000] if comment else None,
            "id": str(rating_id) if rating_id is not None else None,
            "assignee": str(assignee) if assignee is not None else None}


def _score(raw) -> str | None:
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in ("good", "bad"):
            return word
        if word.isdigit():
            raw = int(word)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 1 <= raw <= 5:
        return "good" if raw >= 4 else "bad"
    return None


def _bump(store, key: str, score: str, delta: int) -> None:
    counts = store.get(key) or {"good": 0, "bad": 0}
    counts[score] = max(0, counts.get(score, 0) + delta)
    store.set(key, counts)


def record_rating(store, ticket_key: str, rating: Mapping, category: str | None, agent: str | None, at) -> dict | None:
    """Store ``rating`` for the ticket and move the per-category/agent counts; returns the previous record, or
    None when nothing changed (the same rating seen again on a later ticket update)."""
    previous = store.get(f"csat:{ticket_key}")
    category = category or (previous or {}).get("category") or "uncategorised"
    agent = agent or (previous or {}).get("agent") or UNASSIGNED
    if previous and (previous["score"], previous.get("comment")) == (rating["score"], rating.get("comment")):
        return None
    if previous:
        for bucket in ("totals", f"category:{previous['category']}", f"agent:{previous['agent']}"):
            _bump(store, f"count:{bucket}", previous["score"], -1)
    for bucket in ("totals", f"category:{category}", f"agent:{agent}"):
        _bump(store, f"count:{bucket}", rating["score"], +1)
    bad_count = (previous or {}).get("bad_count", 0) + (rating["score"] == "bad")
    store.set(f"csat:{ticket_key}", {"score": rating["score"], "comment": rating.get("comment"),
                                     "category": category, "agent": agent, "at": isoformat(at),
                                     "bad_count": bad_count})
    return previous or {}


def summary(store) -> dict:
    """``{"totals": {good, bad, good_pct}, "by_category": {…}, "by_agent": {…}}`` from plugin state."""
    out: dict = {"totals": None, "by_category": {}, "by_agent": {}}
    for key, counts in store.items("count:"):
        bucket = key[len("count:"):]
        row = dict(counts, good_pct=_pct(counts))
        if bucket == "totals":
            out["totals"] = row
        elif bucket.startswith("category:"):
            out["by_category"][bucket[len("category:"):]] = row
        elif bucket.startswith("agent:"):
            out["by_agent"][bucket[len("agent:"):]] = row
    out["totals"] = out["totals"] or {"good": 0, "bad": 0, "good_pct": None}
    return out


def _pct(counts: Mapping) -> float | None:
    total = counts.get("good", 0) + counts.get("bad", 0)
    return round(100.0 * counts.get("good", 0) / total, 1) if total else None


def followup_note(rating: Mapping, category: str | None, agent: str | None) -> str:
    lines = ["Customer satisfaction: rated BAD (Deskbridge follow-up).",
             f"Category: {category or 'uncategorised'}. Agent: {agent or UNASSIGNED}."]
    if rating.get("comment"):
        lines.append(f"Customer comment: {str(rating['comment'])[:_NOTE_COMMENT_CHARS]}")
    lines.append("Please review the conversation and contact the customer to put things right.")
    return "\n".join(lines)
