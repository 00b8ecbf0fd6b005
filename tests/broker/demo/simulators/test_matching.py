"""The identity-matching rules of the simulators, and the scenario citizens' data."""

from __future__ import annotations

import re

import pytest

from broker.demo.citizens import CITIZENS, validate
from broker.demo.scenarios import (
    SCENARIO_CITIZENS,
    SCENARIOS,
    scenario_by_identifiant,
    scenario_by_ine,
    scenario_of,
)
from broker.demo.simulators.matching import (
    IdentityQuery,
    find,
    given_names_match,
    matches,
    normalise,
)
from tests.broker.providers.conftest import citizen


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Trois-Dupré", "TROIS DUPRE"),
        ("  d'Artagnan   de  Batz ", "D ARTAGNAN DE BATZ"),
        ("Zoé–Marie", "ZOE MARIE"),
        ("ÉLODIE", "ELODIE"),
        ("O’Neil", "O NEIL"),
    ],
)
def test_normalise(raw, normal):
    assert normalise(raw) == normal


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (["Angela"], True),
        (["Angela", "Claire"], True),
        (["angela claire louise"], True),
        (["Angéla", "Claire", "Louise"], True),
        (["Claire"], False),
        (["Angela", "Louise"], False),
        (["Angela Claire Louise Marie"], False),
        ([""], False),
    ],
)
def test_given_names_are_a_prefix_of_the_civil_status(sent, expected):
    assert given_names_match(sent, "Angela Claire Louise") is expected


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (["Anne-Laure"], True),
        (["Anne Laure"], True),
        (["anne", "laure"], True),
        (["Anne"], False),
    ],
)
def test_a_hyphenated_given_name_is_one_name(sent, expected):
    assert given_names_match(sent, "Anne-Laure") is expected


def query(**changes) -> IdentityQuery:
    values = {
        "family_name": "DUBOIS",
        "given_names": ("Angela",),
        "year": 1962,
        "month": 8,
        "day": 24,
        "gender": "F",
        "birthcountry": "99100",
        "birthplace": "75107",
    }
    values.update(changes)
    return IdentityQuery(**values)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, True),
        ({"month": None, "day": None}, True),  # API-key callers may give the year only
        ({"day": None}, True),
        ({"gender": None, "birthcountry": None, "birthplace": None}, True),
        ({"family_name": "dubois"}, True),
        ({"day": 25}, False),
        ({"year": 1963, "month": None, "day": None}, False),
        ({"gender": "M"}, False),
        ({"birthplace": "75108"}, False),
        ({"birthcountry": "99350"}, False),
    ],
)
def test_identity_rules(changes, expected):
    assert matches(query(**changes), citizen("test")) is expected


def test_presumed_birth_date_parts_never_match_a_sent_value():
    fleuret = citizen("étranger_présumé_né_jour")  # 1992-11-00
    base = {
        "family_name": "FLEURET",
        "given_names": ("Jean",),
        "gender": "M",
        "birthcountry": "99217",
        "birthplace": None,
    }
    assert matches(IdentityQuery(**base, year=1992, month=11), fleuret)
    assert not matches(IdentityQuery(**base, year=1992, month=11, day=1), fleuret)


def test_the_usage_name_is_not_a_birth_name():
    assert find(
        query(
            family_name="MERCIER",
            given_names=("Pierre",),
            year=1969,
            month=3,
            day=17,
            gender="M",
            birthplace="95277",
        )
    ) == citizen("avec_nom_dusage")
    assert (
        find(
            query(
                family_name="DUBOIS",
                given_names=("Pierre",),
                year=1969,
                month=3,
                day=17,
                gender="M",
                birthplace="95277",
            )
        )
        is None
    )


def test_ambiguous_queries_match_nobody():
    twins = (citizen("test"), citizen("test"))
    assert find(query(), population=twins) is None
    assert find(query(), population=twins[:1]) == citizen("test")


def test_scenario_citizens_are_valid_and_distinct():
    for person in SCENARIO_CITIZENS:
        assert validate(person) == [], person.login
        assert re.fullmatch(r"scenario_[a-z_]+", person.login)
        assert person.password == "123"
        assert scenario_of(person) is SCENARIOS[person.login]
    logins = {c.login for c in SCENARIO_CITIZENS}
    assert len(logins) == len(SCENARIO_CITIZENS) == len(SCENARIOS)
    assert not logins & {c.login for c in CITIZENS}
    assert all(scenario_of(c) is None for c in CITIZENS)


def test_scenario_identifiers_are_well_formed_and_unique():
    real_ines = {c.situation.get("cnous", {}).get("ine") for c in CITIZENS}
    real_ids = {c.situation.get("france_travail", {}).get("identifiant") for c in CITIZENS}
    for scenario in SCENARIOS.values():
        assert re.fullmatch(r"[0-9A-Z]{10}[A-Z]", scenario.ine)
        assert re.fullmatch(r"\d{7}[0-9A-Z]", scenario.identifiant)
        assert scenario.ine not in real_ines and scenario.identifiant not in real_ids
        assert scenario_by_ine(scenario.ine.lower()) is scenario
        assert scenario_by_identifiant(f" {scenario.identifiant} ") is scenario
    assert len({s.ine for s in SCENARIOS.values()}) == len(SCENARIOS)
    assert len({s.identifiant for s in SCENARIOS.values()}) == len(SCENARIOS)


def test_scenario_citizens_are_found_like_anyone_else():
    lent = citizen("scenario_lent")
    found = find(IdentityQuery("Lenteur", ("lucien",), 1985, 3, 2, "M", "99100", "69123"))
    assert found == lent
