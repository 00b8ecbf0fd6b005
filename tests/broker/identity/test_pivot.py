"""The identity pivot: checked, normalised, keyed the same through any provider."""

from __future__ import annotations

import pytest

from broker.identity.pivot import PivotRejected, canonical, checked_pivot, pivot_digest

ANGELA = {
    "given_name": "Angela Claire Louise",
    "family_name": "DUBOIS",
    "birthdate": "1962-08-24",
    "gender": "female",
    "birthplace": "75107",
    "birthcountry": "99100",
}
KEY = b"k" * 32


def test_the_same_person_spelt_differently_gives_the_same_digest():
    other_spelling = {
        **ANGELA,
        "given_name": " angela  claire-louise ",
        "family_name": "Dubois",
        "gender": "FEMALE",
    }
    assert pivot_digest(KEY, checked_pivot(ANGELA)) == pivot_digest(
        KEY, checked_pivot(other_spelling)
    )
    assert canonical("Élodie-Marie d'Arc") == "ELODIE MARIE D ARC"


def test_another_person_or_another_key_gives_another_digest():
    angela = checked_pivot(ANGELA)
    twin = checked_pivot({**ANGELA, "given_name": "Angèle"})
    assert pivot_digest(KEY, angela) != pivot_digest(KEY, twin)
    assert pivot_digest(KEY, angela) != pivot_digest(b"x" * 32, angela)
    assert "DUBOIS" not in pivot_digest(KEY, angela)


@pytest.mark.parametrize(
    "changes,problem",
    [
        ({"given_name": ""}, "given_name"),
        ({"family_name": None}, "family_name"),
        ({"birthdate": "24/08/1962"}, "birthdate"),
        ({"birthdate": "1962-00-12"}, "birthdate"),
        ({"gender": "unknown"}, "gender"),
        ({"birthcountry": "France"}, "birthcountry"),
        ({"birthplace": ""}, "birthplace"),
        ({"birthplace": "Paris"}, "birthplace"),
        ({"birthcountry": "99350", "birthplace": "75107"}, "birthplace given for a birth abroad"),
    ],
)
def test_an_incomplete_or_malformed_pivot_is_refused(changes, problem):
    with pytest.raises(PivotRejected) as refused:
        checked_pivot({**ANGELA, **changes})
    assert any(problem in p for p in refused.value.problems)


def test_presumed_dates_corsica_and_births_abroad_are_accepted():
    assert checked_pivot({**ANGELA, "birthdate": "1992-11-00"}).birthdate == "1992-11-00"
    assert checked_pivot({**ANGELA, "birthdate": "1992-00-00"}).birthdate == "1992-00-00"
    assert checked_pivot({**ANGELA, "birthplace": "2a004"}).birthplace == "2A004"
    abroad = checked_pivot({**ANGELA, "birthcountry": "99350", "birthplace": ""})
    assert abroad.birthplace == "" and abroad.birthcountry == "99350"


def test_names_in_other_scripts_stay_apart_and_special_letters_match_their_base():
    ivan = {**ANGELA, "given_name": "Иван", "family_name": "Петров", "gender": "male"}
    piotr = {**ANGELA, "given_name": "Пётр", "family_name": "Иванов", "gender": "male"}
    assert pivot_digest(KEY, checked_pivot(ivan)) != pivot_digest(KEY, checked_pivot(piotr))
    assert canonical("Łukasz Øster-Straße") == "LUKASZ OSTER STRASSE"
    with pytest.raises(PivotRejected):
        checked_pivot({**ANGELA, "given_name": "--- ---"})
