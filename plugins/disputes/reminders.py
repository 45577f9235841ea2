"""Evidence reminders. The scheduler job only stores a ``dispute.reminder_due`` inbox event per (dispute, due
time) — idempotent on its id — and the worker acts on it like on any event, in the transaction that owns the
dispute's record, so a reminder never races with the bank's updates."""

from __future__ import annotations

from datetime import timedelta

from hub import clock
from hub.clock import isoformat, parse_time
from plugins.disputes import messages
from plugins.disputes.config import config_of
from plugins.disputes.service import PLUGIN, note, order_key

EVENT_TYPE = "dispute.reminder_due"


def run_reminders(hub, now=None) -> int:
    """The job: one inbox event per dispute whose evidence is due within ``before_hours``. Returns how many."""
    from hub.pipeline import EventContext

    config = config_of(hub)
    if not config.reminder.enabled:
        return 0
    now = now or clock.now()
    horizon = now + timedelta(hours=config.reminder.before_hours)
    stored = 0
    with hub.db.session() as session:
        ctx = EventContext(hub, session)
        for key, due in ctx.state(PLUGIN).items("due:"):
            if parse_time(due) > horizon:
                continue
            dispute_id = key.partition(":")[2]
            event_id = f"reminder:{dispute_id}:{due}"
            _, created = ctx.store_event(PLUGIN, event_id, EVENT_TYPE, {
                "id": event_id, "type": EVENT_TYPE, "created_at": isoformat(now),
                "data": {"dispute_id": dispute_id, "evidence_due_by": due}})
            stored += int(created)
    return stored


def handle_reminder(event, ctx) -> None:
    """``on_event`` for ``dispute.reminder_due``: note and priority on the ticket, once per due time."""
    config = config_of(ctx.hub)
    store = ctx.state(PLUGIN)
    dispute_id, due = str(event.data.get("dispute_id")), event.data.get("evidence_due_by")
    record = store.get(f"dispute:{dispute_id}")
    if record is None or record["status"] != "evidence_required" or record.get("evidence_due_by") != due \
            or record.get("reminded_for") == due:
        if store.get(f"due:{dispute_id}") == due:
            store.delete(f"due:{dispute_id}")
        return
    hours_left = (parse_time(due) - ctx.now()).total_seconds() / 3600
    note(ctx, record, messages.reminder_note(record, hours_left), key=f"dispute-reminder:{dispute_id}:{due}")
    if config.reminder.priority:
        ctx.emit("zendesk", "update_ticket", {"external_id": record["external_id"],
                                              "priority": config.reminder.priority},
                 key=f"dispute-reminder-priority:{dispute_id}:{due}", order_key=order_key(record))
    record["reminded_for"] = due
    store.set(f"dispute:{dispute_id}", record)
    store.delete(f"due:{dispute_id}")
    ctx.audit(PLUGIN, "dispute.reminder", dispute_id, "sent", evidence_due_by=due, hours_left=round(hours_left, 1))
