"""Every product, found for a demo citizen over real HTTP, in the exact API Particulier v3 shape:
every field the scope registry lists for the product is present (null allowed), and nothing
else is (the resource server masks by scope; an unlisted field would be a silent leak or loss).
"""

from __future__ import annotations

import pytest

from broker.catalogue.products import FRANCE_CONNECT, product
from broker.catalogue.scopes import fields_for
from broker.providers.base import Found, ProductCall
from tests.broker.providers.conftest import pivot_of, with_adapters

# (product, mode, login or identifier, params): one found case per product and mode
FOUND_CASES = [
    ("dss/quotient_familial", "france_connect", "nom_composé", {}),
    ("dss/quotient_familial", "identite", "test", {"annee": "2026", "mois": "9"}),
    ("dss/revenu_solidarite_active", "france_connect", "beneficiaire_rsa", {}),
    ("dss/revenu_solidarite_active", "identite", "beneficiaire_rsa", {}),
    ("dss/prime_activite", "identite", "naissance_La_Réunion", {}),
    ("dss/allocation_adulte_handicape", "france_connect", "beneficiaire_rsa", {}),
    ("dss/allocation_soutien_familial", "identite", "nom_composé", {}),
    ("dss/complementaire_sante_solidaire", "france_connect", "beneficiaire_rsa", {}),
    ("cnous/etudiant_boursier", "france_connect", "etudiant_boursier", {}),
    ("cnous/etudiant_boursier", "identite", "etudiant_boursier", {}),
    ("cnous/etudiant_boursier", "ine", "2406012345K", {}),
    ("mesri/statut_etudiant", "france_connect", "etudiant_boursier", {}),
    ("mesri/statut_etudiant", "identite", "etudiant_boursier", {}),
    ("mesri/statut_etudiant", "ine", "2406012345K", {}),
    ("france_travail/statut", "identifiant", "4127395M", {}),
    ("france_travail/indemnites", "identifiant", "4127395M", {}),
    (
        "men/scolarites",
        "identite",
        "moins_18_ans",
        {"codeEtablissement": "0440021J", "anneeScolaire": "2026-2027"},
    ),
    ("dgfip/situation_fiscale", "france_connect", "nom_composé", {}),
    ("dss/prime_activite", "france_connect", "naissance_La_Réunion", {}),
    ("dss/allocation_adulte_handicape", "identite", "test", {}),
    ("dss/allocation_soutien_familial", "france_connect", "beneficiaire_rsa", {}),
    ("dss/complementaire_sante_solidaire", "identite", "naissance_La_Réunion", {}),
    ("dsnj/service_national", "france_connect", "etudiant_boursier", {}),
    ("dsnj/service_national", "identite", "test", {}),
    ("gip_mds/service_civique", "france_connect", "etudiant_boursier", {}),
    ("gip_mds/service_civique", "identite", "naissance_La_Réunion", {}),
    ("dss/allocation_enfant_handicape", "france_connect", "nom_composé", {}),
    ("dss/allocation_enfant_handicape", "identite", "beneficiaire_rsa", {}),
    ("dss/participation_familiale_eaje", "france_connect", "nom_composé", {}),
    ("dss/participation_familiale_eaje", "identite", "nom_composé", {}),
    ("v4/cnous/etudiant_boursier", "france_connect", "etudiant_boursier", {}),
    ("v4/cnous/etudiant_boursier", "identite", "etudiant_boursier", {}),
    ("v4/cnous/etudiant_boursier", "ine", "9211123456F", {}),  # struck off his grant
    (
        "v4/men/scolarites",
        "identite",
        "moins_18_ans",
        {"anneeScolaire": "2026-2027", "codesBcnDepartements[]": "044", "degreEtablissement": "2D"},
    ),
    (
        "ants/extrait_immatriculation_vehicule",
        "france_connect",
        "test",
        {"immatriculation": "GA-427-KD"},
    ),
    ("sdh/statut_sportif", "identifiant", "120034567", {}),
]


def registry_fields(product_key: str, mode: str) -> set[str]:
    spec = product(product_key)
    assert spec is not None, product_key
    fields = {f for scope in spec.scopes() for f in fields_for(scope, spec.path)}
    if mode == FRANCE_CONNECT and spec.provider in ("cnous", "mesri"):
        fields = {f for f in fields if not f.startswith("identite.")}  # v3 drops it with FC
    return fields


def leaves(value: object, path: str = "") -> set[str]:
    if isinstance(value, dict):
        return {leaf for k, v in value.items() for leaf in leaves(v, f"{path}.{k}".lstrip("."))}
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return {leaf for item in value for leaf in leaves(item, f"{path}[]")}
    return {f"{path}[]" if value == [] else path}


def present(data: dict, field: str) -> bool:
    """Is the dotted registry field there? ``a[].b``: a is a list and b is in every item."""
    head, _, rest = field.partition(".")
    if head.endswith("[]"):
        items = data.get(head[:-2])
        return isinstance(items, list) and all(
            isinstance(i, dict) and present(i, rest) for i in items
        )
    if head not in data:
        return False
    return not rest or (isinstance(data[head], dict) and present(data[head], rest))


def call_for(product_key: str, mode: str, who: str, params: dict) -> ProductCall:
    if mode in ("ine", "identifiant"):
        return ProductCall(product_key, mode, identifier=who, params=params, request_id="t-1")
    return ProductCall(product_key, mode, pivot=pivot_of(who), params=params, request_id="t-1")


@pytest.fixture(scope="module")
def outcomes(simulators_url):
    async def steps(adapters):
        return [
            await adapters[product(key).provider].fetch(call_for(key, mode, who, params))
            for key, mode, who, params in FOUND_CASES
        ]

    return dict(zip(range(len(FOUND_CASES)), with_adapters(simulators_url, steps), strict=False))


def test_every_product_and_mode_is_covered():
    from broker.catalogue.products import PRODUCTS

    covered = {(key, mode) for key, mode, _, _ in FOUND_CASES}
    assert covered == {(p.key, m) for p in PRODUCTS for m in p.modes}


@pytest.mark.parametrize(
    "index", range(len(FOUND_CASES)), ids=[f"{c[0]}-{c[1]}" for c in FOUND_CASES]
)
def test_found_with_exactly_the_registry_fields(outcomes, index):
    product_key, mode, _, _ = FOUND_CASES[index]
    outcome = outcomes[index]
    assert isinstance(outcome, Found), outcome
    expected = registry_fields(product_key, mode)
    missing = sorted(f for f in expected if not present(outcome.data, f))
    assert not missing, missing
    unlisted = sorted(
        leaf
        for leaf in leaves(outcome.data)
        if not any(
            leaf == f or leaf.startswith(f + ".") or f.startswith(leaf + ".") for f in expected
        )
    )
    assert not unlisted, unlisted


def test_family_quotient_values_come_from_the_citizen(outcomes):
    data = outcomes[0].data
    assert data["quotient_familial"] == {
        "fournisseur": "CNAF",
        "valeur": 635,
        "annee": 2026,
        "mois": 10,
        "annee_calcul": 2026,
        "mois_calcul": 10,
    }
    assert [a["nom_naissance"] for a in data["allocataires"]] == ["TROIS-DUPRE", "DUBOIS"]
    assert data["enfants"][1] == {
        "nom_naissance": "DUBOIS",
        "nom_usage": None,
        "prenoms": "Zoé Marie",
        "date_naissance": "2018-09-03",
        "sexe": "F",
    }
    assert outcomes[1].data["quotient_familial"]["mois"] == 9  # the month asked for


def test_benefits_follow_the_facts_and_absent_rights_are_false(outcomes):
    assert outcomes[2].data == {
        "est_beneficiaire": True,
        "avec_majoration": False,
        "date_debut_droit": "2025-04-01",
    }
    assert outcomes[5].data == {"est_beneficiaire": False, "date_debut_droit": None}
    assert outcomes[6].data == {"est_beneficiaire": False, "date_debut_droit": None}
    assert outcomes[7].data == {
        "est_beneficiaire": True,
        "avec_participation": False,
        "date_debut_droit": None,
    }


def test_student_identity_only_outside_france_connect(outcomes):
    assert "identite" not in outcomes[8].data and "identite" not in outcomes[11].data
    assert outcomes[9].data["identite"]["prenoms"] == ["Inès", "Clara"]
    assert outcomes[10].data["echelon_bourse"] == {
        "echelon": "5",
        "echelon_bourse_regionale_provisoire": False,
    }
    assert outcomes[13].data["admissions"][0]["regime_formation"] == {
        "code": "RF1",
        "libelle": "formation initiale",
    }


def test_jobseeker_values_are_mapped_to_v3_types(outcomes):
    status = outcomes[14].data
    assert status["inscription"]["categorie"]["code"] == 1
    assert status["identite"]["sexe"] == "Féminin"
    assert status["identite"]["date_naissance"] == "1985-09-05"
    payments = outcomes[15].data["paiements"]
    assert payments[0] == {
        "date_versement": "2026-04-01",
        "montant_total": 1287.3,
        "montant_allocations": 1287.3,
        "montant_aides": 0.0,
        "montant_autres": 0.0,
    }
    assert payments[-1]["date_versement"] == "2026-11-01" and len(payments) == 8


def test_school_and_tax_values(outcomes):
    school = outcomes[16].data
    assert school["etablissement"] == {"code_uai": "0440021J", "code_ministere_tutelle": "06"}
    assert school["est_scolarise"] is True and school["annee_scolaire"] == "2026-2027"
    tax = outcomes[17].data
    assert (tax["rfr"], tax["nbPart"], tax["sitFam"], tax["pac"]) == (26400, 4.0, "M", {"nbPac": 3})
    assert tax["nmNaiDec2"] == "DUBOIS" and tax["dateNaisDec1"] == "1981-07-27"


def data_of(outcomes, product_key: str, mode: str) -> dict:
    """The data found in the one case of this product and mode."""
    (index,) = [i for i, c in enumerate(FOUND_CASES) if (c[0], c[1]) == (product_key, mode)]
    assert isinstance(outcomes[index], Found), outcomes[index]
    return outcomes[index].data


def test_disabled_child_and_creche_values(outcomes):
    assert data_of(outcomes, "dss/allocation_enfant_handicape", "france_connect") == {
        "status": "allocataire",
        "date_debut_droit": "2021-03-01",
    }
    assert data_of(outcomes, "dss/allocation_enfant_handicape", "identite") == {
        "status": "non_beneficiaire",
        "date_debut_droit": None,
    }
    creche = data_of(outcomes, "dss/participation_familiale_eaje", "france_connect")
    assert creche == data_of(outcomes, "dss/participation_familiale_eaje", "identite")
    assert creche["parametres_calcul_participation_familiale"] == {
        "nombre_enfants_a_charge": 3,
        "nombre_enfants_beneficiaire_aeeh": 1,
        "base_ressources_annuelles": {"valeur": 26400, "annee_calcul": 2024},
    }
    assert [c["prenoms"] for c in creche["enfants"]] == ["Lou", "Zoé Marie", "Henry"]


def test_v4_values(outcomes):
    holder = {"est_boursier": True, "est_radie": False, "date_radiation": None}
    assert data_of(outcomes, "v4/cnous/etudiant_boursier", "france_connect")["statut_boursier"] == (
        holder
    )
    by_identity = data_of(outcomes, "v4/cnous/etudiant_boursier", "identite")
    assert by_identity["statut_boursier"] == holder
    assert by_identity["identite"]["prenoms"] == ["Inès", "Clara"]
    assert data_of(outcomes, "v4/cnous/etudiant_boursier", "ine")["statut_boursier"] == {
        "est_boursier": False,
        "est_radie": True,
        "date_radiation": "2026-02-01",
    }
    school = data_of(outcomes, "v4/men/scolarites", "identite")
    assert school["etablissement"] == {"code_uai": "0440021J", "code_ministere_tutelle": "06"}
    assert school["annee_scolaire"] == "2026-2027" and school["est_scolarise"] is True


def test_vehicle_and_athlete_values(outcomes):
    extract = data_of(outcomes, "ants/extrait_immatriculation_vehicule", "france_connect")
    assert extract["statut_rattachement"] == "titulaire"
    assert extract["donnees_immatriculation_vehicule"] == {
        "numero_immatriculation": "GA-427-KD",
        "date_premiere_immatriculation": "2019-05-14",
        "statut_location": {"code": None, "label": None},
    }
    assert extract["identite_particulier"]["prenom"] == "ANGELA"
    assert extract["caracteristiques_techniques_vehicule"]["marque"] == "PEUGEOT"
    athlete = data_of(outcomes, "sdh/statut_sportif", "identifiant")
    assert athlete["identite"]["nom_naissance"] == "LAMBERT"
    assert athlete["est_sportif_de_haut_niveau"] is True
    assert athlete["informations_statut"]["federation"]["nom_court_federation"] == "JUDO"
    assert [p["fiche"] for p in athlete["informations_statuts_precedents"]] == [845120]


def test_jobseeker_without_compensation_has_no_payments(simulators_url):
    async def steps(adapters):
        return await adapters["france_travail"].fetch(
            ProductCall("france_travail/indemnites", "identifiant", identifier="5830142B")
        )

    assert with_adapters(simulators_url, steps) == Found({"paiements": []})


def test_presumed_birth_date_is_sent_and_matched_with_its_zeros(simulators_url):
    async def steps(adapters):
        return await adapters["dgfip"].fetch(
            ProductCall(
                "dgfip/situation_fiscale",
                "france_connect",
                pivot=pivot_of("étranger_présumé_né_jour_et_mois"),
            )
        )

    outcome = with_adapters(simulators_url, steps)
    assert isinstance(outcome, Found) and outcome.data["dateNaisDec1"] == "1992-00-00"
