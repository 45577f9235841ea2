"""Escalation: rules in levels that reassign, raise priority, add followers and notify."""

from __future__ import annotations

from plugins.escalation.rules import EscalationSettings as Config

__version__ = "0.1.0"

__all__ = ["Config", "__version__"]
