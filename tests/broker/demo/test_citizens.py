"""Tests for the demo identity provider's test citizens."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import date

import pytest

from broker.demo.citizens import (
    ACR_VALUES,
    CITIZENS,
    COG_FRANCE,
    REFERENCE_DATE,
    DemoCitizen,
    age_on,
    birthdate_bounds,
    by_login,
    is_presumed_birthdate,
    validate,
)


def _where(predicate) -> list[DemoCitizen]:
    return [c for c in CITIZENS if predicate(c)]


# ----------------------------------------------------------------------- the data


def test_at_least_twelve_citizens():
    assert len(CITIZENS) >= 12
    assert all(isinstance(c, DemoCitizen) for c in CITIZENS)


def test_logins_and_emails_are_unique():
    logins = [c.login for c in CITIZENS]
    assert len(set(logins)) == len(logins)
    emails = [c.email.lower() for c in CITIZENS]
    assert len(set(emails)) == len(emails)


def test_dubois_persona_is_exactly_franceconnects():
    dubois = by_login("test")
    assert dubois is not None
    assert (
        dubois.password,
        dubois.given_name,
        dubois.family_name,
        dubois.preferred_username,
        dubois.gender,
        dubois.birthdate,
        dubois.birthplace,
        dubois.birthcountry,
        dubois.birth_commune_name,
    ) == (
        "123",
        "Angela Claire Louise",
        "DUBOIS",
        "",
        "female",
        "1962-08-24",
        "75107",
        "99100",
        "Paris 7e Arrondissement",
    )


@pytest.mark.parametrize("citizen", CITIZENS, ids=lambda c: c.login)
def test_every_citizen_validates(citizen):
    assert validate(citizen, REFERENCE_DATE) == []


def test_citizens_are_hashable_despite_their_situation_dict():
    assert len(set(CITIZENS)) == len(CITIZENS)


# -------------------------------------------------------------- the required cases


def test_born_abroad_has_country_code_and_no_birthplace():
    abroad = _where(lambda c: c.birthcountry != COG_FRANCE)
    assert abroad
    assert all(c.birthplace == "" and c.birthcountry.startswith("99") for c in abroad)
    assert {"99350", "99134"} <= {c.birthcountry for c in abroad}


def test_corsica_codes_keep_their_letters():
    places = {c.birthplace for c in CITIZENS}
    assert "2A004" in places
    assert any(p.startswith("2B") for p in places)


def test_overseas_department_birth():
    reunion = _where(lambda c: c.birthplace == "97411")
    assert len(reunion) == 1
    assert reunion[0].birthcountry == COG_FRANCE
    assert reunion[0].birth_commune_name == "Saint-Denis"


def test_presumed_birth_dates_use_franceconnect_zeros():
    presumed = {c.birthdate for c in CITIZENS if is_presumed_birthdate(c.birthdate)}
    assert any(d.endswith("-00-00") for d in presumed)
    assert any(d.endswith("-00") and not d.endswith("-00-00") for d in presumed)


def test_a_minor_on_the_reference_date():
    minors = _where(lambda c: age_on(c.birthdate, REFERENCE_DATE) < 18)
    assert "moins_18_ans" in [c.login for c in minors]
    assert age_on(by_login("moins_18_ans").birthdate, REFERENCE_DATE) == 16


def test_compound_given_names_and_usage_names():
    assert _where(lambda c: "-" in c.given_name)
    assert _where(lambda c: len(c.given_name.split()) >= 3)
    assert _where(lambda c: "-" in c.family_name)
    married = _where(lambda c: c.preferred_username and c.preferred_username != c.family_name)
    assert married


def test_both_extreme_assurance_levels_exist():
    levels = {c.acr for c in CITIZENS}
    assert {"eidas1", "eidas3"} <= levels <= set(ACR_VALUES)


def test_student_with_cnous_grant_is_about_twenty():
    students = _where(lambda c: c.situation.get("cnous", {}).get("boursier"))
    assert students
    for student in students:
        assert 18 <= age_on(student.birthdate, REFERENCE_DATE) <= 25
        assert 1 <= student.situation["cnous"]["echelon"] <= 7


def test_job_seeker_registered_at_france_travail():
    seekers = _where(lambda c: c.situation.get("france_travail", {}).get("inscrit"))
    assert any(s.situation["france_travail"]["indemnise"] for s in seekers)
    assert all(s.situation["france_travail"]["identifiant"] for s in seekers)


def test_family_with_children_at_caf_is_consistent():
    families = _where(lambda c: c.situation.get("cnaf", {}).get("enfants"))
    assert families
    for parent in families:
        parent_born = birthdate_bounds(parent.birthdate)[1]
        children = parent.situation["cnaf"]["enfants"]
        for child in children:
            child_born = birthdate_bounds(child["birthdate"])[0]
            # at least 15 years younger, and born before the reference date
            assert (child_born - parent_born).days > 15 * 365
            assert child_born <= REFERENCE_DATE
        dgfip = parent.situation["dgfip"]
        assert dgfip["personnes_a_charge"] == len(children)


def test_rsa_beneficiary_and_person_with_no_data():
    assert _where(lambda c: c.situation.get("dss", {}).get("rsa") is True)
    assert _where(lambda c: c.situation == {})


# ------------------------------------------------------------------------- by_login


def test_by_login_finds_each_citizen():
    for citizen in CITIZENS:
        assert by_login(citizen.login) is citizen


def test_by_login_unknown_or_wrong_case_is_none():
    assert by_login("nobody") is None
    assert by_login("") is None
    assert by_login("TEST") is None


def test_by_login_accepts_decomposed_accents_and_spaces():
    decomposed = unicodedata.normalize("NFD", "prénom_composé")
    assert decomposed != "prénom_composé"
    found = by_login(f" {decomposed} ")
    assert found is not None and found.family_name == "HUCHE"


# ------------------------------------------------------------ dates and validation


@pytest.mark.parametrize(
    ("birthdate", "on", "age"),
    [
        ("1962-08-24", date(2026, 8, 23), 63),
        ("1962-08-24", date(2026, 8, 24), 64),
        ("1992-11-00", date(2010, 11, 29), 17),  # could be born on 30 November
        ("1992-11-00", date(2010, 12, 1), 18),
        ("1992-00-00", date(2010, 12, 30), 17),  # could be born on 31 December
        ("1992-00-00", date(2010, 12, 31), 18),
        ("2000-02-29", date(2018, 2, 28), 17),
    ],
)
def test_age_on_is_the_minimum_possible_age(birthdate, on, age):
    assert age_on(birthdate, on) == age


@pytest.mark.parametrize("value", ["1962-02-30", "1962-00-12", "62-08-24", "1962-13-00", ""])
def test_invalid_birthdates(value):
    assert birthdate_bounds(value) is None
    assert not is_presumed_birthdate(value)
    with pytest.raises(ValueError):
        age_on(value, REFERENCE_DATE)


DUBOIS = by_login("test")
GODIN = by_login("naissance_Maroc")
FAMILY = by_login("nom_composé")


@pytest.mark.parametrize(
    ("citizen", "changes", "expected_field"),
    [
        (DUBOIS, {"birthdate": "1962-02-30"}, "birthdate"),
        (DUBOIS, {"birthdate": "1962-00-24"}, "birthdate"),
        (DUBOIS, {"birthdate": "24/08/1962"}, "birthdate"),
        (DUBOIS, {"birthdate": "2099-01-01"}, "birthdate"),
        (DUBOIS, {"birthplace": "7510"}, "birthplace"),
        (DUBOIS, {"birthplace": "20004"}, "birthplace"),  # pre-1976 Corsica code
        (DUBOIS, {"birthplace": "99100"}, "birthplace"),
        (DUBOIS, {"birthplace": "", "birth_commune_name": ""}, "birthplace"),
        (GODIN, {"birthplace": "75107", "birth_commune_name": "Paris"}, "birthplace"),
        (GODIN, {"birthcountry": "9935"}, "birthcountry"),
        (GODIN, {"birthcountry": "75107"}, "birthcountry"),
        (DUBOIS, {"gender": "unspecified"}, "gender"),
        (DUBOIS, {"acr": "eidas4"}, "acr"),
        (DUBOIS, {"acr": "eidas-low"}, "acr"),
        (DUBOIS, {"family_name": "Dubois"}, "family_name"),
        (DUBOIS, {"login": " test"}, "login"),
        (DUBOIS, {"birth_commune_name": ""}, "birth_commune_name"),
        (DUBOIS, {"situation": {"caf": {}}}, "situation"),
    ],
)
def test_validate_reports_problems(citizen, changes, expected_field):
    problems = validate(dataclasses.replace(citizen, **changes), REFERENCE_DATE)
    assert problems
    assert any(p.startswith(expected_field) for p in problems), problems


def test_validate_reports_a_child_older_than_the_parent():
    situation = {**FAMILY.situation, "cnaf": dict(FAMILY.situation["cnaf"])}
    situation["cnaf"]["enfants"] = [
        {
            "given_name": "Lou",
            "family_name": "DUBOIS",
            "birthdate": "1970-03-15",
            "gender": "female",
        }
    ]
    problems = validate(dataclasses.replace(FAMILY, situation=situation), REFERENCE_DATE)
    assert any("enfants[0]" in p for p in problems), problems
    # the shared demo data was not touched
    assert FAMILY.situation["cnaf"]["enfants"][0]["birthdate"] == "2015-03-15"


def test_validate_reports_a_bad_cnous_echelon():
    student = by_login("etudiant_boursier")
    situation = {"cnous": {**student.situation["cnous"], "echelon": 8}}
    problems = validate(dataclasses.replace(student, situation=situation), REFERENCE_DATE)
    assert any("echelon" in p for p in problems), problems
