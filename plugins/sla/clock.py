"""Per-ticket SLA clock: a pure state machine over ticket events, serialisable to and from a JSON dict.

Targets: ``first_response`` (created → first public agent reply, from any linked system), ``next_response``
(a customer message after the first response → the next public agent reply; one cycle per customer turn) and
``resolution`` (created → solved; a reopened ticket resumes it). Pending and on-hold pause every running
target; a customer reply or the status going back to open resumes them. Each target fires one warning (at
``warning_share`` of its duration) and one breach per cycle through ``due_events``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from hub.clock import isoformat, parse_time
from plugins.sla.calendar import Calendar
from plugins.sla.policy import Policy

PAUSED_STATUSES = frozenset({"pending", "hold", "on-hold", "on_hold", "waiting"})
SOLVED_STATUSES = frozenset({"solved", "closed"})
HISTORY_LIMIT = 20

IDLE, RUNNING, PAUSED, ACHIEVED, STOPPED = "idle", "running", "paused", "achieved", "stopped"
_TIME_FIELDS = ("running_since", "due_at", "warn_at", "achieved_at", "breached_at", "started_at")


@dataclass
class SlaDue:
    """A warning or breach that became due; ``key`` is unique per ticket, target, cycle and kind."""

    kind: str  # "warning" | "breach"
    ticket: str
    target: str
    cycle: int
    policy: str
    at: datetime
    due_at: datetime

    @property
    def key(self) -> str:
        return f"sla:{self.ticket}:{self.target}:{self.cycle}:{self.kind}"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "ticket": self.ticket,
            "target": self.target,
            "cycle": self.cycle,
            "policy": self.policy,
            "at": isoformat(self.at),
            "due_at": isoformat(self.due_at),
            "key": self.key,
        }


@dataclass
class TargetClock:
    """One measured target. ``consumed`` is open minutes used before ``running_since``."""

    name: str
    minutes: float
    state: str = IDLE
    cycle: int = 0
    consumed: float = 0.0
    started_at: datetime | None = None
    running_since: datetime | None = None
    due_at: datetime | None = None
    warn_at: datetime | None = None
    achieved_at: datetime | None = None
    achieved_via: str | None = None
    breached_at: datetime | None = None
    warning_fired: bool = False
    breach_fired: bool = False
    history: list[dict] = field(default_factory=list)

    def start(self, at: datetime, calendar: Calendar, share: float) -> None:
        if self.state != IDLE:
            self._archive()
            self.cycle += 1
        self.state, self.consumed, self.started_at = RUNNING, 0.0, at
        self.achieved_at = self.achieved_via = self.breached_at = None
        self.warning_fired = self.breach_fired = False
        self.running_since = at
        self.schedule(calendar, share)

    def schedule(self, calendar: Calendar, share: float) -> None:
        """Recompute due and warning times of a running target from what is left of it."""
        if self.state != RUNNING or self.running_since is None:
            self.due_at = self.warn_at = None
            return
        left = max(self.minutes - self.consumed, 0.0)
        warn_left = max(self.minutes * share - self.consumed, 0.0)
        self.due_at = calendar.add_business_time(self.running_since, left)
        self.warn_at = calendar.add_business_time(self.running_since, warn_left)

    def pause(self, at: datetime, calendar: Calendar) -> None:
        if self.state != RUNNING:
            return
        self.consumed += max(calendar.business_minutes_between(self.running_since, at), 0.0)
        self.state, self.running_since, self.due_at, self.warn_at = PAUSED, None, None, None

    def resume(self, at: datetime, calendar: Calendar, share: float) -> None:
        if self.state != PAUSED:
            return
        self.state, self.running_since = RUNNING, at
        self.schedule(calendar, share)

    def achieve(self, at: datetime, via: str | None, calendar: Calendar) -> bool:
        if self.state not in (RUNNING, PAUSED):
            return False
        if self.state == RUNNING and self.due_at is not None and at > self.due_at and self.breached_at is None:
            self.breached_at = self.due_at
        self.pause(at, calendar)
        self.state, self.achieved_at, self.achieved_via = ACHIEVED, at, via
        return True

    def stop(self, at: datetime, calendar: Calendar) -> None:
        if self.state in (RUNNING, PAUSED):
            self.pause(at, calendar)
            self.state = STOPPED

    def reopen(self, at: datetime, calendar: Calendar, share: float) -> None:
        """Resume a target that ended (resolution of a reopened ticket) with the minutes already used."""
        if self.state in (ACHIEVED, STOPPED):
            self.state, self.achieved_at, self.achieved_via = PAUSED, None, None
            self.resume(at, calendar, share)

    def _archive(self) -> None:
        self.history.append(
            {
                "cycle": self.cycle,
                "started_at": _iso(self.started_at),
                "achieved_at": _iso(self.achieved_at),
                "achieved_via": self.achieved_via,
                "breached_at": _iso(self.breached_at),
            }
        )
        del self.history[:-HISTORY_LIMIT]

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k not in _TIME_FIELDS}
        data.update({k: _iso(getattr(self, k)) for k in _TIME_FIELDS})
        data["history"] = list(self.history)
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> TargetClock:
        values = dict(data)
        for key in _TIME_FIELDS:
            values[key] = parse_time(values[key]) if values.get(key) else None
        values["history"] = list(values.get("history", []))
        return cls(**values)


@dataclass
class TicketClock:
    """All targets of one ticket under one policy. Every method takes the time the change happened."""

    ticket: str
    policy: str
    calendar: str
    warning_share: float
    created_at: datetime
    status: str = "new"
    targets: dict[str, TargetClock] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        ticket: str,
        policy: Policy,
        calendar: Calendar,
        at: datetime,
        warning_share: float = 0.75,
        status: str = "new",
    ) -> TicketClock:
        clock = cls(ticket, policy.name, policy.calendar, warning_share, at, "new")
        for name, minutes in policy.targets.as_dict().items():
            clock.targets[name] = TargetClock(name, minutes)
        for name in ("first_response", "resolution"):
            if name in clock.targets:
                clock.targets[name].start(at, calendar, warning_share)
        if status != "new":
            clock.status_changed(at, status, calendar)
        return clock

    @property
    def paused(self) -> bool:
        return self.status in PAUSED_STATUSES

    @property
    def solved(self) -> bool:
        return self.status in SOLVED_STATUSES

    def agent_replied(self, at: datetime, calendar: Calendar, via: str | None = None) -> list[str]:
        """A public agent reply in any linked system; returns the targets it achieved."""
        achieved = []
        for name in ("first_response", "next_response"):
            target = self.targets.get(name)
            if target is not None and target.achieve(at, via, calendar):
                achieved.append(name)
        return achieved

    def customer_replied(self, at: datetime, calendar: Calendar) -> None:
        """A customer message: resumes a paused ticket and starts a next-response cycle once answered before."""
        if self.paused:
            self._set_status(at, "open", calendar)
        first = self.targets.get("first_response")
        nxt = self.targets.get("next_response")
        answered = first is None or first.state == ACHIEVED
        if nxt is not None and answered and nxt.state not in (RUNNING, PAUSED) and not self.solved:
            nxt.start(at, calendar, self.warning_share)

    def status_changed(self, at: datetime, status: str, calendar: Calendar) -> None:
        self._set_status(at, status.strip().lower(), calendar)

    def retarget(self, policy: Policy, calendar: Calendar, at: datetime) -> bool:
        """Apply a different policy (priority or category changed at ``at``); minutes already used are kept.

        A first-response or resolution target the old policy did not have is measured from creation.
        """
        if policy.name == self.policy:
            return False
        self.policy, self.calendar = policy.name, policy.calendar
        minutes = policy.targets.as_dict()
        for name in list(self.targets):
            if name not in minutes:
                del self.targets[name]
        for name, value in minutes.items():
            target = self.targets.setdefault(name, TargetClock(name, value))
            target.minutes = value
            if target.state == IDLE and name != "next_response" and not self.solved:
                target.start(self.created_at, calendar, self.warning_share)
                if self.paused:
                    target.pause(at, calendar)
            target.schedule(calendar, self.warning_share)
        return True

    def due_events(self, now: datetime) -> list[SlaDue]:
        """Warnings and breaches due by ``now`` that have not fired yet; each is marked fired."""
        events = []
        for target in self.targets.values():
            if target.state != RUNNING:
                continue
            if target.warn_at is not None and target.warn_at <= now and not target.warning_fired:
                target.warning_fired = True
                events.append(self._due("warning", target, target.warn_at))
            if target.due_at is not None and target.due_at <= now and not target.breach_fired:
                target.breach_fired = True
                target.breached_at = target.due_at
                events.append(self._due("breach", target, target.due_at))
        return sorted(events, key=lambda event: event.at)

    def next_wakeup(self) -> datetime | None:
        """Earliest moment ``due_events`` will have something to return, or ``None``."""
        moments = []
        for target in self.targets.values():
            if target.state != RUNNING:
                continue
            if target.warn_at is not None and not target.warning_fired:
                moments.append(target.warn_at)
            if target.due_at is not None and not target.breach_fired:
                moments.append(target.due_at)
        return min(moments, default=None)

    def due_times(self) -> dict[str, datetime]:
        """Current due time of each running target."""
        return {name: t.due_at for name, t in self.targets.items() if t.state == RUNNING and t.due_at}

    def summary(self) -> dict:
        """Achieved/breached per target, for display and audit."""
        return {
            name: {
                "state": t.state,
                "cycle": t.cycle,
                "due_at": _iso(t.due_at),
                "achieved_at": _iso(t.achieved_at),
                "achieved_via": t.achieved_via,
                "breached_at": _iso(t.breached_at),
            }
            for name, t in self.targets.items()
        }

    def to_dict(self) -> dict:
        return {
            "ticket": self.ticket,
            "policy": self.policy,
            "calendar": self.calendar,
            "warning_share": self.warning_share,
            "created_at": _iso(self.created_at),
            "status": self.status,
            "targets": {name: t.to_dict() for name, t in self.targets.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> TicketClock:
        return cls(
            ticket=data["ticket"],
            policy=data["policy"],
            calendar=data["calendar"],
            warning_share=data["warning_share"],
            created_at=parse_time(data["created_at"]),
            status=data["status"],
            targets={name: TargetClock.from_dict(t) for name, t in data["targets"].items()},
        )

    def _set_status(self, at: datetime, status: str, calendar: Calendar) -> None:
        was_paused, was_solved = self.paused, self.solved
        self.status = status
        if self.solved and not was_solved:
            resolution = self.targets.get("resolution")
            if resolution is not None:
                resolution.achieve(at, None, calendar)
            for target in self.targets.values():
                target.stop(at, calendar)
        elif was_solved and not self.solved:
            resolution = self.targets.get("resolution")
            if resolution is not None:
                resolution.reopen(at, calendar, self.warning_share)
                if self.paused:
                    resolution.pause(at, calendar)
        elif self.paused and not was_paused:
            for target in self.targets.values():
                target.pause(at, calendar)
        elif was_paused and not self.paused:
            for target in self.targets.values():
                target.resume(at, calendar, self.warning_share)

    def _due(self, kind: str, target: TargetClock, at: datetime) -> SlaDue:
        return SlaDue(kind, self.ticket, target.name, target.cycle, self.policy, at, target.due_at)


def _iso(value: datetime | None) -> str | None:
    # Full precision (not hub.clock.isoformat's seconds) so a clock read back from the store is identical.
    return value.astimezone(timezone.utc).isoformat() if value is not None else None
