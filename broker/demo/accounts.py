"""Every account of the demo identity provider: the test citizens, then the scenario citizens
that make the data-provider simulators misbehave (see docs/simulators.md)."""

from __future__ import annotations

from broker.demo.citizens import CITIZENS, DemoCitizen
from broker.demo.scenarios import SCENARIO_CITIZENS

DEMO_ACCOUNTS: tuple[DemoCitizen, ...] = CITIZENS + SCENARIO_CITIZENS
