"""Provider values in words: dates written out in the citizen's language (partial dates kept
partial), geographic codes as INSEE's official geographic code names them (a birthplace as on
the date of birth), codes beside their label left out, other codes in words; no code shown as if
it were a name."""

from __future__ import annotations

import pytest

from broker.catalogue.registry import DATA, Scope
from broker.catalogue.scopes import REGISTRY
from broker.resources.readable import (
    birth_day,
    readable_commune,
    readable_country,
    readable_date,
    readable_values,
)


def lines(scope: str | Scope, data: dict, en: bool = False) -> list[tuple[str, str]]:
    found = REGISTRY.get(scope) if isinstance(scope, str) else scope
    assert found is not None, scope
    return [(v.label, v.value) for v in readable_values(found, data, en)]


@pytest.mark.parametrize(
    ("text", "french", "english"),
    [
        ("1962-08-24", "24 août 1962", "24 August 1962"),
        ("2025-04-01", "1 avril 2025", "1 April 2025"),
        ("2025-04-01T10:00:00Z", "1 avril 2025", "1 April 2025"),
        ("1992-11-00", "novembre 1992", "November 1992"),  # presumed day
        ("1992-00-00", "1992", "1992"),  # presumed day and month
    ],
)
def test_dates_in_the_citizens_language(text, french, english):
    assert readable_date(text, en=False) == french
    assert readable_date(text, en=True) == english


@pytest.mark.parametrize("text", ["2025-02-30", "0000-00-00", "24/08/1962", "1962", "soon"])
def test_what_is_not_a_date_is_not_written_as_one(text):
    assert readable_date(text, en=False) is None


def test_presumed_dates_are_read_from_their_first_known_day():
    assert str(birth_day("1992-11-00")) == "1992-11-01"
    assert str(birth_day("1992-00-00")) == "1992-01-01"
    assert birth_day("") is None and birth_day("1992-13-01") is None


def test_commune_and_country_codes_in_words_or_said_to_be_codes():
    assert readable_commune("75107", en=False) == "Paris 7e Arrondissement"
    assert readable_commune("75199", en=False) == "commune inconnue (code 75199)"
    assert readable_commune("not a code", en=True) == "unknown town (code not a code)"
    assert readable_country("99100", en=False) == "France"
    assert readable_country("99134", en=True) == "Spain"
    assert readable_country("99999", en=False) == "pays inconnu (code 99999)"
    assert readable_country("99999", en=True) == "unknown country (code 99999)"


def test_place_of_study_by_name_without_its_codes():
    admission = {
        "date_debut": "2025-09-01",
        "date_fin": "2026-08-31",
        "est_inscrit": True,
        "regime_formation": {"code": "RF1", "libelle": "formation initiale"},
        "code_cog_insee_commune": "69123",
        "etablissement_etudes": {"uai": "0691774D", "nom": "Université Lyon 1"},
    }
    data = {"admissions": [admission]}
    assert lines("mesri_admission_commune_etudes", data) == [("Admissions", "1. Commune : Lyon")]
    assert lines("mesri_admission_regime_formation", data) == [
        ("Admissions", "1. Régime de formation : formation initiale")
    ]
    assert lines("mesri_admission_etablissement_etudes", data, en=True) == [
        ("Admissions", "1. Institution : Université Lyon 1")
    ]
    assert lines("mesri_admissions", data) == [
        ("Admissions", "1. Date de début : 1 septembre 2025 ; Date de fin : 31 août 2026")
    ]
    shown = repr([lines(s.name, data, en) for s in REGISTRY.data_scopes() for en in (False, True)])
    for code in ("69123", "RF1", "0691774D"):
        assert code not in shown


def test_address_town_and_labelled_codes_of_france_travail():
    data = {
        "adresse": {"code_cog_insee_commune": "69387", "code_postal": "69007"},
        "inscription": {
            "date_debut": "2024-03-04",
            "date_fin": None,
            "code_certification_cnav": "VC",
            "categorie": {"code": 1, "libelle": "PERSONNE SANS EMPLOI DISPONIBLE"},
        },
    }
    address = dict(lines("pole_emploi_adresse", data))
    assert address["Commune"] == "Lyon 7e Arrondissement"
    assert dict(lines("pole_emploi_adresse", data, en=True))["Town"] == "Lyon 7e Arrondissement"
    registration = lines("pole_emploi_inscription", data)
    assert ("Date de début", "4 mars 2024") in registration
    assert ("Date de fin", "non renseigné") in registration
    assert ("Catégorie d'inscription", "PERSONNE SANS EMPLOI DISPONIBLE") in registration
    assert all(value != "1" for _, value in registration)  # the category's number is left out


def test_school_codes_in_words():
    data = {
        "annee_scolaire": "2025-2026",
        "est_scolarise": True,
        "statut_eleve": {"code": "ST", "libelle": "SCOLAIRE"},
        "etablissement": {"code_uai": "0440021J", "code_ministere_tutelle": "06"},
        "module_elementaire_formation": {"code_mef_stat": "20111010110", "libelle": "6EME"},
    }
    school = dict(lines("men_statut_etablissement", data))
    assert school["Ministère de tutelle"] == "Éducation nationale"
    assert school["Numéro de l'établissement scolaire"] == "0440021J"  # an identifier, said so
    assert dict(lines("men_statut_etablissement", data, en=True)) == {
        "School's reference number": "0440021J",
        "Supervising ministry": "National Education",
    }
    status = lines("men_statut_scolarite", data)
    assert [value for _, value in status] == ["2025-2026", "Oui", "SCOLAIRE"]
    assert ("Statut de l'élève", "SCOLAIRE") in status
    assert lines("men_statut_module_elementaire_formation", data, en=True) == [
        ("Class or course", "6EME")
    ]


def test_birthplace_codes_are_named_as_on_the_date_of_birth():
    """A v3 identity with COG codes of birth (as API Particulier's v3 products carry them)."""
    scope = Scope(
        "naissance",
        "Naissance",
        "Birth",
        DATA,
        "cnous",
        fields=(
            "identite.date_naissance",
            "identite.code_cog_insee_commune_naissance",
            "identite.code_cog_insee_pays_naissance",
        ),
        products=("/v3/cnous/etudiant_boursier",),
    )
    born = {"code_cog_insee_commune_naissance": "50129", "code_cog_insee_pays_naissance": "99100"}
    before = {"identite": {**born, "date_naissance": "1962-08-24"}}
    after = {"identite": {**born, "date_naissance": "2016-03-02"}}
    assert lines(scope, before) == [
        ("Date de naissance", "24 août 1962"),
        ("Commune de naissance", "Cherbourg"),
        ("Pays de naissance", "France"),
    ]
    assert lines(scope, after, en=True) == [
        ("Date of birth", "2 March 2016"),
        ("Place of birth", "Cherbourg-en-Cotentin"),
        ("Country of birth", "France"),
    ]
    unknown = {"identite": {"code_cog_insee_commune_naissance": "12999"}}
    assert ("Commune de naissance", "commune inconnue (code 12999)") in lines(scope, unknown)


def test_months_are_named():
    data = {"quotient_familial": {"valeur": 2550, "annee": 2026, "mois": 11}}
    assert ("Mois", "novembre") in lines("cnaf_quotient_familial", data)
    assert ("Month", "November") in lines("cnaf_quotient_familial", data, en=True)
