"""SLA clocks: policies with business calendars, per-ticket due times, warnings and breaches."""

from __future__ import annotations

from plugins.sla.policy import SlaSettings as Config

__version__ = "0.1.0"

__all__ = ["Config", "__version__"]
