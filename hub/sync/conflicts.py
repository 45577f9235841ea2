"""Per-field conflict policy: a system named as a field's source of truth, or the last writer by vendor time."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Resolution:
    accepted: dict = field(default_factory=dict)  # field -> value taken into the canonical record
    rejected: dict = field(default_factory=dict)  # field -> reason (the system is then corrected)


def resolve(system: str, stamp: str | None, diff: dict, current: dict, stamps: dict,
            policy: dict[str, str]) -> Resolution:
    """Which of ``system``'s changed fields win over the canonical record.

    ``stamps`` holds the vendor time of each field's last accepted change; RFC 3339 UTC strings compare in time
    order. A change equal to the canonical value is accepted (it only refreshes the stamp).
    """
    result = Resolution()
    for name, value in diff.items():
        truth = policy.get(name, "last_writer")
        if current.get(name) == value:
            result.accepted[name] = value
        elif truth != "last_writer":
            if truth == system:
                result.accepted[name] = value
            else:
                result.rejected[name] = f"{truth} is the source of truth for {name}"
        elif stamp is None or not stamps.get(name) or stamp >= stamps[name]:
            result.accepted[name] = value
        else:
            result.rejected[name] = f"older than the change of {stamps[name]}"
    return result
