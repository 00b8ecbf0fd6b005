"""docs/simulators.md stays in step with the test data: every citizen, scenario, identifier,
simulator route and option it must document is there."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from broker.demo.citizens import CITIZENS
from broker.demo.scenarios import SCENARIOS
from broker.demo.simulators import ROUTERS, SimulatorOptions

DOC = (Path(__file__).parents[4] / "docs" / "simulators.md").read_text(encoding="utf-8")


def test_every_test_citizen_is_documented_with_its_identifiers():
    for citizen in CITIZENS:
        assert f"`{citizen.login}`" in DOC, citizen.login
        assert citizen.family_name in DOC, citizen.login
        for facts in citizen.situation.values():
            for key in ("ine", "identifiant"):
                if facts.get(key):
                    assert f"`{facts[key]}`" in DOC, (citizen.login, key)


def test_every_scenario_is_documented():
    for login, scenario in SCENARIOS.items():
        line = next((row for row in DOC.splitlines() if f"`{login}`" in row), "")
        assert f"`{scenario.ine}`" in line and f"`{scenario.identifiant}`" in line, login


def test_every_simulator_and_option_is_documented():
    for key in ROUTERS:
        assert f"### `{key}`" in DOC, key
    for option in dataclasses.fields(SimulatorOptions):
        assert f"`{option.name}`" in DOC, option.name
