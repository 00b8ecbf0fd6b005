"""The birthplace given by name: ``nomCommuneNaissance`` + ``codeCogInseeDepartementNaissance``
transcoded to the commune's COG code at the date of birth, through the shipped INSEE extract,
with the ambiguous, merged and renamed cases answered by a 422 that says what to give."""

from __future__ import annotations

from datetime import date

import pytest

from broker.catalogue.products import product
from broker.resources.birthplace import birth_span, transcode
from broker.resources.params import ParameterProblems, parse_query

TODAY = date(2026, 11, 27)
QF = product("dss/quotient_familial")
DINUM = "13002526500013"


def query(name: str, department: str, year: str, month: str = "", day: str = "") -> dict:
    out = {
        "nomNaissance": ["DUBOIS"],
        "prenoms[]": ["Angela"],
        "anneeDateNaissance": [year],
        "sexeEtatCivil": ["F"],
        "codeCogInseePaysNaissance": ["99100"],
        "nomCommuneNaissance": [name],
        "codeCogInseeDepartementNaissance": [department],
        "recipient": [DINUM],
    }
    if month:
        out["moisDateNaissance"] = [month]
    if day:
        out["jourDateNaissance"] = [day]
    return out


def birthplace(q: dict) -> str:
    return parse_query(q, QF, "identite", api_key=True, today=TODAY).pivot.birthplace


def problems(q: dict) -> dict[str, str]:
    with pytest.raises(ParameterProblems) as caught:
        parse_query(q, QF, "identite", api_key=True, today=TODAY)
    return dict(caught.value.problems)


def test_name_and_department_give_the_cog_code():
    assert birthplace(query("Gennevilliers", "92", "1990", "3", "14")) == "92036"


def test_case_accents_hyphens_and_apostrophes_do_not_count():
    assert birthplace(query("GENNEVILLIERS", "92", "1990")) == "92036"
    assert birthplace(query("saint denis", "974", "2001", "5", "2")) == "97411"


def test_overseas_and_corsican_departments():
    assert birthplace(query("Bastia", "2b", "1979", "6", "11")) == "2B033"


def test_merged_commune_found_under_its_own_code_before_the_merger():
    """Annecy-le-Vieux (74011) merged into Annecy on 1 January 2017: born there in 1990, the
    person's birthplace is still 74011."""
    assert birthplace(query("Annecy-le-Vieux", "74", "1990", "5", "3")) == "74011"


def test_merged_commune_after_the_merger_says_it_no_longer_existed():
    found = problems(query("Annecy-le-Vieux", "74", "2020", "5", "3"))
    assert "74011 n'existait plus" in found["nomCommuneNaissance"]
    assert "2017-01-01" in found["nomCommuneNaissance"]


def test_renamed_commune_gives_the_name_it_had_at_the_date_of_birth():
    """50129 was Cherbourg until 28 February 2000, then Cherbourg-Octeville, then
    Cherbourg-en-Cotentin from 2016."""
    assert birthplace(query("Cherbourg", "50", "1980", "7", "1")) == "50129"
    assert birthplace(query("Cherbourg-Octeville", "50", "2005", "1", "1")) == "50129"
    found = problems(query("Cherbourg", "50", "2005", "1", "1"))
    assert "s'appelait alors Cherbourg-Octeville" in found["nomCommuneNaissance"]


def test_ambiguous_name_two_communes_of_the_department_bore_it():
    """Two communes of the Aisne were both called Braye until 1956: a 1950 birth cannot be
    placed by name, a 1970 one can."""
    found = problems(query("Braye", "02", "1950", "1", "1"))
    assert "02116" in found["nomCommuneNaissance"] and "02118" in found["nomCommuneNaissance"]
    assert "codeCogInseeCommuneNaissance" in found["nomCommuneNaissance"]
    assert birthplace(query("Braye", "02", "1970", "1", "1")) == "02118"


def test_ambiguous_name_within_an_unknown_day_of_the_birth_year():
    """L'Oudon moved from code 14697 to 14472 on 7 January 2014: a birth in 2014 with no month
    could be either; one in March 2014 is 14472."""
    found = problems(query("L'Oudon", "14", "2014"))
    assert "14472" in found["nomCommuneNaissance"] and "14697" in found["nomCommuneNaissance"]
    assert birthplace(query("L'Oudon", "14", "2014", "3")) == "14472"


def test_unknown_name_in_the_department():
    found = problems(query("Gennevilliers", "93", "1990"))
    assert "Aucune commune du département 93" in found["nomCommuneNaissance"]


def test_name_needs_a_valid_department_and_the_reverse():
    q = query("Gennevilliers", "96", "1990")
    assert "codeCogInseeDepartementNaissance" in problems(q)
    q = query("Gennevilliers", "92", "1990")
    del q["nomCommuneNaissance"]
    assert "nomCommuneNaissance" in problems(q)


def test_name_and_code_together_are_refused():
    q = {**query("Gennevilliers", "92", "1990"), "codeCogInseeCommuneNaissance": ["92036"]}
    assert "pas les deux" in problems(q)["nomCommuneNaissance"]


def test_name_for_a_birth_abroad_is_refused():
    q = {**query("Gennevilliers", "92", "1990"), "codeCogInseePaysNaissance": ["99350"]}
    assert "hors de France" in problems(q)["nomCommuneNaissance"]


def test_a_refused_birth_year_is_reported_once_on_the_date():
    found = problems(query("Gennevilliers", "92", "1850"))
    assert "anneeDateNaissance" in found and "nomCommuneNaissance" not in found


def test_birth_span_covers_every_possible_day():
    assert birth_span(2024, None, None) == (date(2024, 1, 1), date(2024, 12, 31))
    assert birth_span(2024, 2, None) == (date(2024, 2, 1), date(2024, 2, 29))
    assert birth_span(2024, 2, 3) == (date(2024, 2, 3), date(2024, 2, 3))


def test_transcode_before_a_commune_was_created():
    """Valserhône (01033) bears that name only from 2019."""
    found = transcode("Valserhône", "01", date(2000, 1, 1), date(2000, 1, 1))
    assert found.code is None and "Bellegarde-sur-Valserine" in found.problem


def test_student_products_take_a_commune_without_a_country():
    cnous = product("cnous/etudiant_boursier")
    q = query("Gennevilliers", "92", "1990", "3", "14")
    pivot = parse_query(q, cnous, "identite", api_key=True, today=TODAY).pivot
    assert (pivot.birthplace, pivot.birthcountry) == ("92036", "99100")
    del q["nomCommuneNaissance"], q["codeCogInseeDepartementNaissance"]
    q["codeCogInseePaysNaissance"] = ["99350"]  # not a parameter of this product: not used
    pivot = parse_query(q, cnous, "identite", api_key=True, today=TODAY).pivot
    assert (pivot.birthplace, pivot.birthcountry) == ("", "")


def test_a_product_that_takes_no_birthplace_ignores_it():
    men = product("men/scolarites")
    q = {
        **query("Nowhere", "92", "2012", "3", "14"),
        "codeEtablissement": ["0440021J"],
        "anneeScolaire": ["2026"],
    }
    pivot = parse_query(q, men, "identite", api_key=True, today=TODAY).pivot
    assert (pivot.birthplace, pivot.birthcountry) == ("", "")


def test_another_problem_does_not_hide_or_add_birthplace_problems():
    q = {**query("Gennevilliers", "92", "1990"), "sexeEtatCivil": ["X"]}
    assert set(problems(q)) == {"sexeEtatCivil"}
    q = {**query("Braye", "02", "1950", "1", "1"), "sexeEtatCivil": ["X"]}
    assert set(problems(q)) == {"sexeEtatCivil", "nomCommuneNaissance"}
