"""A hub with the SLA (and escalation) plugin(s) on a controlled clock; the driver lives in tests/support/pipeline_harness.py."""

from tests.support.pipeline_harness import T0, controlled_clock, drive  # noqa: F401  (fixtures and T0 for tests)
