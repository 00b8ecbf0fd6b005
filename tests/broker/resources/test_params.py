"""Query parameters of the data API: every problem reported at once, with its parameter."""

from __future__ import annotations

from datetime import date

import pytest

from broker.catalogue.products import product
from broker.resources.params import ParameterProblems, parse_query, valid_siret, valid_uai

TODAY = date(2026, 11, 27)
QF = product("dss/quotient_familial")
CNOUS = product("cnous/etudiant_boursier")
DINUM = "13002526500013"
DUBOIS = {
    "nomNaissance": ["DUBOIS"],
    "prenoms[]": ["Angela", "Claire", "Louise"],
    "anneeDateNaissance": ["1962"],
    "moisDateNaissance": ["8"],
    "jourDateNaissance": ["24"],
    "sexeEtatCivil": ["F"],
    "codeCogInseePaysNaissance": ["99100"],
    "codeCogInseeCommuneNaissance": ["75107"],
    "recipient": [DINUM],
}


def problems(query, prod=QF, mode="identite", api_key=True) -> dict[str, str]:
    with pytest.raises(ParameterProblems) as caught:
        parse_query(query, prod, mode, api_key=api_key, today=TODAY)
    return dict(caught.value.problems)


def test_identity_pivot_is_parsed():
    parsed = parse_query(
        {**DUBOIS, "annee": ["2026"], "mois": ["10"]}, QF, "identite", api_key=True, today=TODAY
    )
    assert parsed.pivot.given_names == ("Angela", "Claire", "Louise")
    assert parsed.pivot.birthdate == "1962-08-24" and parsed.pivot.birthplace == "75107"
    assert parsed.params == {"annee": "2026", "mois": "10"} and parsed.recipient == DINUM


def test_partial_birth_date_keeps_zeros():
    query = {**DUBOIS}
    del query["jourDateNaissance"], query["moisDateNaissance"]
    assert (
        parse_query(query, QF, "identite", api_key=True, today=TODAY).pivot.birthdate
        == "1962-00-00"
    )


def test_every_problem_is_reported_with_its_parameter():
    found = problems(
        {
            "prenoms[]": ["J3an"],
            "sexeEtatCivil": ["X"],
            "anneeDateNaissance": ["1850"],
            "codeCogInseePaysNaissance": ["100"],
            "recipient": ["12345678901234"],
            "nomNaisance": ["typo"],
        }
    )
    assert set(found) == {
        "nomNaissance",
        "prenoms[]",
        "sexeEtatCivil",
        "anneeDateNaissance",
        "codeCogInseePaysNaissance",
        "recipient",
        "nomNaisance",
    }
    assert "inconnu" in found["nomNaisance"]


@pytest.mark.parametrize(
    "commune,ok",
    [
        ("75107", True),
        ("2A004", True),
        ("2B033", True),
        ("97411", True),
        ("2C004", False),
        ("00123", False),
        ("7510", False),
        ("20004", False),
    ],
)
def test_cog_commune_codes(commune, ok):
    query = {**DUBOIS, "codeCogInseeCommuneNaissance": [commune]}
    if ok:
        assert parse_query(query, QF, "identite", api_key=True, today=TODAY).pivot
    else:
        assert "codeCogInseeCommuneNaissance" in problems(query)


def test_born_in_france_needs_a_commune_and_abroad_must_not_have_one():
    assert "codeCogInseeCommuneNaissance" in problems(
        {k: v for k, v in DUBOIS.items() if k != "codeCogInseeCommuneNaissance"}
    )
    assert "codeCogInseeCommuneNaissance" in problems(
        {**DUBOIS, "codeCogInseePaysNaissance": ["99350"]}
    )


def test_impossible_or_future_dates():
    assert "jourDateNaissance" in problems(
        {**DUBOIS, "moisDateNaissance": ["2"], "jourDateNaissance": ["30"]}
    )
    assert "jourDateNaissance" in problems(
        {**DUBOIS, "anneeDateNaissance": ["2026"], "moisDateNaissance": ["12"]}
    )
    assert "jourDateNaissance" in problems({**DUBOIS, "moisDateNaissance": []})
    assert "mois" in problems({**DUBOIS, "mois": ["3"]})


def test_attack_parameter_given_twice_is_refused():
    assert "nomNaissance" in problems({**DUBOIS, "nomNaissance": ["DUBOIS", "MARTIN"]})


def test_siret_luhn_and_la_poste():
    assert valid_siret(DINUM)
    assert not valid_siret("13002526500014")
    assert not valid_siret("1300252650001") and not valid_siret("1300252650001A")
    assert valid_siret("35600000000048")  # La Poste head office: plain Luhn
    assert valid_siret("35600000049837")  # digit sum 45: La Poste's rule
    assert not valid_siret("35600000049838")


def test_recipient_is_required_with_an_api_key_but_not_in_france_connect_mode():
    assert "recipient" in problems({k: v for k, v in DUBOIS.items() if k != "recipient"})
    parsed = parse_query({}, QF, "france_connect", api_key=False, today=TODAY)
    assert parsed.recipient is None and parsed.pivot is None


def test_identity_parameters_are_refused_in_france_connect_mode():
    assert "nomNaissance" in problems(
        {"nomNaissance": ["DUBOIS"]}, mode="france_connect", api_key=False
    )


def test_identifier_modes():
    parsed = parse_query(
        {"ine": ["2406012345k"], "recipient": [DINUM]}, CNOUS, "ine", api_key=True, today=TODAY
    )
    assert parsed.identifier == "2406012345K"
    assert "ine" in problems({"ine": ["12"], "recipient": [DINUM]}, CNOUS, "ine")
    assert "ine" in problems({"recipient": [DINUM]}, CNOUS, "ine")


def test_uai_check_letter():
    assert valid_uai("0440021J")
    assert not valid_uai("0440021K") and not valid_uai("440021J")


def test_attack_huge_or_foreign_digits_are_a_422_not_a_crash():
    for value in ("9" * 5000, "²", "١٩٦٢", "01962"):
        assert "anneeDateNaissance" in problems({**DUBOIS, "anneeDateNaissance": [value]})
    assert "recipient" in problems({**DUBOIS, "recipient": ["١٣٠٠٢٥٢٦٥٠٠٠١٣"]})
