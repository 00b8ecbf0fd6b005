"""Every product of the data API in every mode, over real HTTP, with the demo citizens' data;
masking by scope for every product; the access journal of a few calls.

France Connect mode: a real sign-in at the broker as the demo login, with a token carrying the
product's scopes. ``identite`` mode: an API key and the citizen's identity parameters. ``ine``
and ``identifiant`` modes: an API key and the citizen's identifier. Expected values come from
docs/simulators.md (and broker/demo/citizens.py).
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from joserfc import jwt

from broker.admin.habilitations import MAX_RATE_LIMIT
from broker.catalogue.products import product
from broker.catalogue.scopes import REGISTRY
from tests.e2e.data_api_support import (
    DINUM,
    access_token,
    api_key,
    api_keys,
    assert_exactly_fields,
    assert_ok,
    call,
    identite_params,
    journal_row,
    live_broker,
    live_data_api,
    pick,
    products_and_modes,
    registry_fields,
    route,
    row_values,
    scopes_of,
)

QF = "dss/quotient_familial"
DGFIP = "dgfip/situation_fiscale"
AEEH = "dss/allocation_enfant_handicape"
EAJE = "dss/participation_familiale_eaje"
CNOUS_V4 = "v4/cnous/etudiant_boursier"
MEN_V4 = "v4/men/scolarites"
ANTS = "ants/extrait_immatriculation_vehicule"
SDH = "sdh/statut_sportif"
STRUCK_OFF_INE = "9211123456F"  # étranger_présumé_né_jour, struck off his grant
HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def shared_broker(db_factory, tmp_path_factory, demo_idp):
    with live_broker(db_factory, tmp_path_factory.mktemp("var"), demo_idp) as server:
        yield server


@pytest.fixture(scope="module")
def api(shared_broker, simulators):
    with live_data_api(shared_broker, simulators) as server:
        yield server


@pytest.fixture(scope="module")
def every_scope_key(shared_broker):
    """One API key whose habilitation covers every data scope of the registry."""
    return api_key(
        shared_broker, [s.name for s in REGISTRY.data_scopes()], rate_limit=MAX_RATE_LIMIT
    )  # limits are tested in test_data_api_rate_limits


@dataclass(frozen=True)
class Case:
    product: str
    mode: str
    subject: str  # a demo login (france_connect, identite) or an identifier (ine, identifiant)
    expected: dict[str, Any]  # path (see data_api_support.pick) -> value
    params: dict[str, Any] = field(default_factory=dict)  # product parameters
    absent: tuple[str, ...] = ()  # top-level keys that must not be there
    counts: dict[str, int] = field(default_factory=dict)  # list path -> length

    @property
    def id(self) -> str:
        return f"{self.product}/{self.mode}"


CASES = (
    # -- france_connect mode: a sign-in as the login -------------------------------------------
    Case(
        QF,
        "france_connect",
        "nom_composé",
        {
            "quotient_familial.valeur": 635,
            "quotient_familial.fournisseur": "CNAF",
            "quotient_familial.annee": 2026,
            "quotient_familial.mois": 10,
            "allocataires.1.prenoms": "Paul",
            "enfants.1.prenoms": "Zoé Marie",
            "enfants.2.date_naissance": "2022-06-20",
            "adresse.code_postal_ville": "13002 MARSEILLE",
        },
        counts={"enfants": 3, "allocataires": 2},
    ),
    Case(
        "dss/revenu_solidarite_active",
        "france_connect",
        "beneficiaire_rsa",
        {"est_beneficiaire": True, "date_debut_droit": "2025-04-01", "avec_majoration": False},
    ),
    Case(
        "dss/prime_activite",
        "france_connect",
        "naissance_La_Réunion",
        {"est_beneficiaire": True, "date_debut_droit": None},
    ),
    Case(
        "dss/allocation_adulte_handicape",
        "france_connect",
        "beneficiaire_rsa",
        {"est_beneficiaire": False, "date_debut_droit": None},
    ),
    Case(
        "dss/allocation_soutien_familial",
        "france_connect",
        "test",
        {"est_beneficiaire": False, "date_debut_droit": None},
    ),
    Case(
        "dss/complementaire_sante_solidaire",
        "france_connect",
        "beneficiaire_rsa",
        {"est_beneficiaire": True, "avec_participation": False},
    ),
    Case(
        "cnous/etudiant_boursier",
        "france_connect",
        "etudiant_boursier",
        {
            "est_boursier": True,
            "echelon_bourse.echelon": "5",
            "echelon_bourse.echelon_bourse_regionale_provisoire": False,
            "periode_versement_bourse.date_rentree": "2026-09-01",
            "periode_versement_bourse.duree": 10,
            "etablissement_etudes.nom_commune": "Lyon",
            "email": "ines.lambert-demo@yopmail.com",
        },
        absent=("identite",),
    ),
    Case(
        "mesri/statut_etudiant",
        "france_connect",
        "etudiant_boursier",
        {
            "admissions.0.date_debut": "2026-09-01",
            "admissions.0.date_fin": "2027-08-31",
            "admissions.0.est_inscrit": True,
            "admissions.0.regime_formation.code": "RF1",
            "admissions.0.etablissement_etudes.uai": "0691774D",
        },
        absent=("identite",),
        counts={"admissions": 1},
    ),
    Case(
        DGFIP,
        "france_connect",
        "test",
        {
            "rfr": 30600,
            "nbPart": 1.0,
            "sitFam": "C",
            "pac.nbPac": 0,
            "pariso": False,
            "nmNaiDec1": "DUBOIS",
            "prnmDec1": "Angela Claire Louise",
            "dateNaisDec1": "1962-08-24",
            "nmNaiDec2": None,
        },
    ),
    Case(
        "dsnj/service_national",
        "france_connect",
        "beneficiaire_rsa",
        {
            "statut_service_national": "pas_en_regle",
            "commentaires": "Journée d'appel de préparation à la défense non effectuée",
        },
    ),
    Case(
        "gip_mds/service_civique",
        "france_connect",
        "etudiant_boursier",
        {
            "statut_actuel.contrat_trouve": True,
            "statut_actuel.organisme_accueil.siret": "42229566900026",
            "statut_actuel.organisme_accueil.raison_sociale": "UNIS CITE",
            "statut_actuel.date_debut_contrat": "2026-10-05",
            "statut_actuel.date_fin_contrat": "2027-06-04",
            "statut_passe.contrat_trouve": False,
            "statut_passe.organisme_accueil.siret": None,
            "statut_passe.date_fin_contrat": None,
        },
    ),
    Case(
        AEEH,
        "france_connect",
        "nom_composé",
        {"status": "allocataire", "date_debut_droit": "2021-03-01"},
    ),
    Case(
        EAJE,
        "france_connect",
        "nom_composé",
        {
            "parametres_calcul_participation_familiale.nombre_enfants_a_charge": 3,
            "parametres_calcul_participation_familiale.nombre_enfants_beneficiaire_aeeh": 1,
            "parametres_calcul_participation_familiale.base_ressources_annuelles.valeur": 26400,
            "parametres_calcul_participation_familiale.base_ressources_annuelles.annee_calcul": (
                2024
            ),
            "allocataires.0.nom_naissance": "TROIS-DUPRE",
            "allocataires.0.code_cog_insee_commune_naissance": "13012",
            "enfants.2.prenoms": "Henry",
            "adresse.code_postal_ville": "13002 MARSEILLE",
        },
        counts={"enfants": 3, "allocataires": 2},
    ),
    Case(
        CNOUS_V4,
        "france_connect",
        "etudiant_boursier",
        {
            "statut_boursier.est_boursier": True,
            "statut_boursier.est_radie": False,
            "statut_boursier.date_radiation": None,
            "echelon_bourse.echelon": "5",
            "etablissement_etudes.nom_commune": "Lyon",
        },
        absent=("identite", "est_boursier"),
    ),
    Case(
        ANTS,
        "france_connect",
        "test",
        {
            "statut_rattachement": "titulaire",
            "identite_particulier.nom": "DUBOIS",
            "identite_particulier.prenom": "ANGELA",
            "identite_particulier.code_departement_naissance": "75",
            "donnees_immatriculation_vehicule.numero_immatriculation": "GA-427-KD",
            "donnees_immatriculation_vehicule.date_premiere_immatriculation": "2019-05-14",
            "donnees_immatriculation_vehicule.statut_location.code": None,
            "caracteristiques_techniques_vehicule.marque": "PEUGEOT",
            "caracteristiques_techniques_vehicule.cylindree": 1199,
            "adresse_particulier.code_postal_ville": "75007",
        },
        params={"immatriculation": "ga427kd"},  # any case, no separators
    ),
    # -- identite mode: an API key and the identity parameters ---------------------------------
    Case(
        QF,
        "identite",
        "test",
        {
            "quotient_familial.valeur": 2550,
            "quotient_familial.mois_calcul": 10,
            "allocataires.0.prenoms": "Angela Claire Louise",
            "allocataires.0.date_naissance": "1962-08-24",
            "adresse.numero_libelle_voie": "20 AVENUE DE SEGUR",
            "enfants": [],
        },
        params={"annee": "2026", "mois": "10"},
    ),
    Case(
        "dss/revenu_solidarite_active",
        "identite",
        "beneficiaire_rsa",
        {"est_beneficiaire": True, "date_debut_droit": "2025-04-01", "avec_majoration": False},
    ),
    Case(
        "dss/prime_activite",
        "identite",
        "naissance_La_Réunion",
        {"est_beneficiaire": True, "date_debut_droit": None, "avec_majoration": None},
    ),
    Case(
        "dss/allocation_adulte_handicape",
        "identite",
        "test",
        {"est_beneficiaire": False, "date_debut_droit": None},
    ),
    Case(
        "dss/allocation_soutien_familial",
        "identite",
        "beneficiaire_rsa",
        {"est_beneficiaire": False},
    ),
    Case(
        "dss/complementaire_sante_solidaire",
        "identite",
        "beneficiaire_rsa",
        {"est_beneficiaire": True, "avec_participation": False, "date_debut_droit": None},
    ),
    Case(
        "cnous/etudiant_boursier",
        "identite",
        "etudiant_boursier",
        {
            "identite.nom": "LAMBERT",
            "identite.prenoms": ["Inès", "Clara"],
            "identite.date_naissance": "2006-04-12",
            "identite.sexe": "F",
            "echelon_bourse.echelon": "5",
            "etablissement_etudes.nom_etablissement": "Université Claude Bernard Lyon 1",
        },
    ),
    Case(
        "mesri/statut_etudiant",
        "identite",
        "etudiant_boursier",
        {
            "identite.nom_naissance": "LAMBERT",
            "identite.prenom": "Inès",
            "admissions.0.code_cog_insee_commune": "69123",
            "admissions.0.regime_formation.libelle": "formation initiale",
        },
    ),
    Case(
        "men/scolarites",
        "identite",
        "moins_18_ans",
        {
            "identite.nom": "CHAMPION",
            "identite.prenom": "Alice",
            "annee_scolaire": "2026-2027",
            "est_scolarise": True,
            "statut_eleve.code": "ST",
            "etablissement.code_uai": "0440021J",
            "module_elementaire_formation.libelle": "1ERE GENERALE",
            "est_boursier": False,
        },
        params={"codeEtablissement": "0440021J", "anneeScolaire": "2026"},
    ),
    Case(
        "dsnj/service_national",
        "identite",
        "test_CORSE_2A",
        {"statut_service_national": "en_regle", "commentaires": None},
    ),
    Case(
        "gip_mds/service_civique",
        "identite",
        "naissance_La_Réunion",
        {
            "statut_actuel.contrat_trouve": False,
            "statut_actuel.organisme_accueil.raison_sociale": None,
            "statut_passe.contrat_trouve": True,
            "statut_passe.organisme_accueil.raison_sociale": "CROIX ROUGE FRANCAISE",
            "statut_passe.date_debut_contrat": "2015-09-14",
            "statut_passe.date_fin_contrat": "2016-05-13",
        },
    ),
    Case(
        AEEH,
        "identite",
        "beneficiaire_rsa",
        {"status": "non_beneficiaire", "date_debut_droit": None},
    ),
    Case(
        EAJE,
        "identite",
        "nom_composé",
        {
            "parametres_calcul_participation_familiale.base_ressources_annuelles.valeur": 26400,
            "allocataires.0.prenoms": "Melissandre Juliette",
            "allocataires.0.date_naissance": "1981-07-27",
            "enfants.0.prenoms": "Lou",
            "enfants.1.prenoms": "Zoé Marie",
        },
        counts={"enfants": 3},
    ),
    Case(
        CNOUS_V4,
        "identite",
        "etudiant_boursier",
        {
            "identite.nom": "LAMBERT",
            "identite.prenoms": ["Inès", "Clara"],
            "statut_boursier.est_boursier": True,
            "statut_boursier.est_radie": False,
            "echelon_bourse.echelon": "5",
        },
        absent=("est_boursier",),
    ),
    Case(
        MEN_V4,
        "identite",
        "moins_18_ans",
        {
            "identite.nom": "CHAMPION",
            "identite.prenom": "Alice",
            "annee_scolaire": "2026-2027",
            "est_scolarise": True,
            "etablissement.code_uai": "0440021J",
            "module_elementaire_formation.libelle": "1ERE GENERALE",
            "est_boursier": False,
        },
        params={"anneeScolaire": "2026", "codesBcnRegions[]": "52", "degreEtablissement": "2D"},
    ),
    # -- identifier modes: an API key and the identifier ---------------------------------------
    Case(
        "cnous/etudiant_boursier",
        "ine",
        "2406012345K",
        {
            "identite.nom": "LAMBERT",
            "est_boursier": True,
            "echelon_bourse.echelon": "5",
            "periode_versement_bourse.duree": 10,
        },
    ),
    Case(
        "mesri/statut_etudiant",
        "ine",
        "2406012345k",
        {  # identifiers: any case
            "identite.date_naissance": "2006-04-12",
            "admissions.0.est_inscrit": True,
            "admissions.0.etablissement_etudes.nom": "Université Claude Bernard Lyon 1",
        },
    ),
    Case(
        "france_travail/statut",
        "identifiant",
        "4127395M",
        {
            "identifiant": "4127395M",
            "identite.nom_naissance": "GODIN",
            "identite.prenom": "Ermengardi",
            "identite.sexe": "Féminin",
            "identite.date_naissance": "1985-09-05",
            "inscription.date_debut": "2026-03-02",
            "inscription.date_fin": None,
            "inscription.categorie.code": 1,
            "adresse.localite": "69007 LYON",
        },
    ),
    Case(
        "france_travail/indemnites",
        "identifiant",
        "4127395M",
        {
            "paiements.0.date_versement": "2026-04-01",
            "paiements.0.montant_total": 1287.3,
            "paiements.0.montant_allocations": 1287.3,
            "paiements.7.date_versement": "2026-11-01",
        },
        counts={"paiements": 8},
    ),
    Case(
        CNOUS_V4,
        "ine",
        STRUCK_OFF_INE,
        {
            "identite.nom": "FLEURET",
            "statut_boursier.est_boursier": False,
            "statut_boursier.est_radie": True,
            "statut_boursier.date_radiation": "2026-02-01",
            "echelon_bourse.echelon": "1",
        },
        absent=("est_boursier",),
    ),
    Case(
        SDH,
        "identifiant",
        "119870032",
        {
            "identite.nom_naissance": "MERCIER",
            "identite.nom_usage": "DUBOIS",
            "identite.date_naissance": "1969-03-17",
            "est_sportif_de_haut_niveau": False,
            "a_ete_sportif_de_haut_niveau": True,
            "informations_statut": None,
            "informations_statuts_precedents.0.fiche": 101877,
            "informations_statuts_precedents.0.sportif_de_haut_niveau": False,
            "informations_statuts_precedents.1.categorie.nom_categorie": "Elite",
            "informations_statuts_precedents.1.sportif_de_haut_niveau": True,
        },
        counts={"informations_statuts_precedents": 2},
    ),
)


def subject_params(mode: str, subject: str) -> dict[str, Any]:
    if mode == "identite":
        return identite_params(subject)
    if mode in ("ine", "identifiant"):
        return {mode: subject}
    return {}


def test_the_cases_cover_every_product_in_every_mode():
    assert {(c.product, c.mode) for c in CASES} == products_and_modes()


FRANCE_CONNECT_CASES = [c for c in CASES if c.mode == "france_connect"]


@pytest.fixture(scope="module")
def tokens(shared_broker):
    """One sign-in per login, lazily, with the scopes of every product it is a case for."""
    signed_in = {}

    def token_for(login: str):
        if login not in signed_in:
            scopes = dict.fromkeys(  # v3 and v4 of a product share their scopes
                s for c in FRANCE_CONNECT_CASES if c.subject == login for s in scopes_of(c.product)
            )
            signed_in[login] = access_token(shared_broker, login, " ".join(scopes))
        return signed_in[login]

    return token_for


@pytest.mark.parametrize("case", FRANCE_CONNECT_CASES, ids=lambda c: c.id)
def test_france_connect_mode_serves_the_signed_in_citizens_data(api, tokens, case):
    scopes = scopes_of(case.product)
    token = tokens(case.subject)
    response = call(
        api, route(case.product, case.mode), token.access_token, recipient=None, params=case.params
    )
    check_case(assert_ok(response), case)
    assert response.headers["ratelimit-limit"] == "1200"  # the default, per minute
    row = journal_row(api, response)
    assert (row.product, row.mode, row.outcome, row.status) == (
        case.product,
        "france_connect",
        "ok",
        200,
    )
    assert row.scopes == sorted(scopes)


API_KEY_CASES = [c for c in CASES if c.mode != "france_connect"]


@pytest.mark.parametrize("case", API_KEY_CASES, ids=lambda c: c.id)
def test_api_key_modes_serve_the_citizens_data(api, every_scope_key, case):
    # The key goes as "Authorization: Bearer" for half the cases, as "X-Api-Key" for the rest.
    header = ("authorization", "x-api-key")[API_KEY_CASES.index(case) % 2]
    params = {**subject_params(case.mode, case.subject), **case.params}
    response = call(
        api, route(case.product, case.mode), every_scope_key.secret, header=header, params=params
    )
    check_case(assert_ok(response), case)
    row = journal_row(api, response)
    assert (row.product, row.mode, row.outcome, row.credential) == (
        case.product,
        case.mode,
        "ok",
        "api_key",
    )
    assert row.scopes == sorted(scopes_of(case.product))


def check_case(data: dict, case: Case) -> None:
    for path, value in case.expected.items():
        assert pick(data, path) == value, (path, pick(data, path))
    for key in case.absent:
        assert key not in data
    for path, length in case.counts.items():
        assert len(pick(data, path)) == length, path


# -- masking -----------------------------------------------------------------------------------

# Per product, whom to ask about in API-key mode (lists non-empty, so that list fields show).
MASKING_SUBJECTS = {
    QF: ("identite", "nom_composé"),
    "dss/revenu_solidarite_active": ("identite", "beneficiaire_rsa"),
    "dss/prime_activite": ("identite", "naissance_La_Réunion"),
    "dss/allocation_adulte_handicape": ("identite", "beneficiaire_rsa"),
    "dss/allocation_soutien_familial": ("identite", "beneficiaire_rsa"),
    "dss/complementaire_sante_solidaire": ("identite", "beneficiaire_rsa"),
    "cnous/etudiant_boursier": ("ine", "2406012345K"),
    "mesri/statut_etudiant": ("ine", "2406012345K"),
    "france_travail/statut": ("identifiant", "4127395M"),
    "france_travail/indemnites": ("identifiant", "4127395M"),
    "men/scolarites": ("identite", "moins_18_ans"),
    "dsnj/service_national": ("identite", "moins_18_ans"),
    "gip_mds/service_civique": ("identite", "etudiant_boursier"),
    AEEH: ("identite", "nom_composé"),
    EAJE: ("identite", "nom_composé"),
    CNOUS_V4: ("ine", STRUCK_OFF_INE),  # struck off: the removal date is not null
    MEN_V4: ("identite", "moins_18_ans"),
    SDH: ("identifiant", "120034567"),  # an entry in force and a past one
}
MASKING_PARAMS = {
    "men/scolarites": {"codeEtablissement": "0440021J", "anneeScolaire": "2026-2027"},
    MEN_V4: {"anneeScolaire": "2026-2027", "codesBcnDepartements[]": "044"},
}
# Products served in France Connect mode only: whom to sign in as, and the product parameters.
FRANCE_CONNECT_MASKING = {
    DGFIP: ("nom_composé", {}),
    ANTS: ("nom_composé", {"immatriculation": "FR-285-LM"}),  # leased: every field is set
}


def test_masking_covers_every_product():
    assert set(MASKING_SUBJECTS) | set(FRANCE_CONNECT_MASKING) == {
        key for key, _ in products_and_modes()
    }
    assert not set(MASKING_SUBJECTS) & set(FRANCE_CONNECT_MASKING)
    assert all(product(key).modes == ("france_connect",) for key in FRANCE_CONNECT_MASKING)


@pytest.mark.parametrize("product_key", sorted(MASKING_SUBJECTS))
def test_each_scope_alone_releases_exactly_its_fields(shared_broker, api, product_key):
    """One habilitation per scope of the product, then one with all of them."""
    mode, subject = MASKING_SUBJECTS[product_key]
    params = {**subject_params(mode, subject), **MASKING_PARAMS.get(product_key, {})}
    path = route(product_key, mode)
    scopes = scopes_of(product_key)
    assert scopes, product_key
    scope_sets = [[scope] for scope in scopes] + [scopes]
    keys = api_keys(shared_broker, scope_sets)
    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        responses = list(pool.map(lambda key: call(api, path, key.secret, params=params), keys))
    for scope_set, response in zip(scope_sets, responses, strict=True):
        assert_exactly_fields(assert_ok(response), registry_fields(scope_set, product_key))


@pytest.mark.parametrize("product_key", sorted(FRANCE_CONNECT_MASKING))
def test_each_france_connect_only_scope_alone_releases_exactly_its_fields(
    shared_broker, api, product_key
):
    """Served in France Connect mode only: one sign-in per scope. The service is habilitated
    for every scope of the product; only the token's scope decides what is released."""
    login, params = FRANCE_CONNECT_MASKING[product_key]
    scopes = scopes_of(product_key)
    scope_sets = [*scopes, " ".join(scopes)]

    def fetch(scope: str):
        token = access_token(shared_broker, login, scope, habilitation=" ".join(scopes))
        path = route(product_key, "france_connect")
        return call(api, path, token.access_token, recipient=None, params=params)

    with ThreadPoolExecutor(max_workers=len(scope_sets)) as pool:
        responses = list(pool.map(fetch, scope_sets))
    for scope, response in zip(scope_sets, responses, strict=True):
        data = assert_ok(response)
        assert_exactly_fields(data, registry_fields(scope.split(), product_key))
        if "dgfip_decl" in scope:
            assert (data["nmNaiDec2"], data["prnmDec2"]) == ("DUBOIS", "Paul")
        if "dgfip_pac" in scope:
            assert data["pac"] == {"nbPac": 3}
        if "ants_extrait_immatriculation_vehicule_statut_rattachement" in scope:
            assert data["statut_rattachement"] == "locataire"


def test_attack_quotient_familial_field_outside_the_token_never_appears(shared_broker, api):
    """The service may read every CNAF scope, the citizen consented to the quotient only."""
    token = access_token(
        shared_broker,
        "nom_composé",
        "profile cnaf_quotient_familial",
        habilitation=" ".join(scopes_of(QF)),
    )
    response = call(
        api,
        route(QF, "france_connect"),
        token.access_token,
        recipient=None,
        annee="2026",
        mois="10",
    )
    data = assert_ok(response)
    assert list(data) == ["quotient_familial"]
    assert data["quotient_familial"]["valeur"] == 635
    text = response.text
    for secret in (
        "Paul",
        "Lou",
        "Henry",
        "MARSEILLE",
        "REPUBLIQUE",
        "allocataires",
        "enfants",
        "adresse",
    ):
        assert secret not in text
    assert journal_row(api, response).scopes == ["cnaf_quotient_familial"]


def test_attack_dgfip_fields_outside_the_token_never_appear(shared_broker, api):
    token = access_token(
        shared_broker,
        "nom_composé",
        "dgfip_rfr dgfip_nbpart",
        habilitation=" ".join(scopes_of(DGFIP)),
    )
    response = call(api, route(DGFIP, "france_connect"), token.access_token, recipient=None)
    assert assert_ok(response) == {"rfr": 26400, "nbPart": 4.0}
    for secret in ("TROIS", "DUBOIS", "Paul", "sitFam", "pac", "Dec1", "Dec2", "1981-07-27"):
        assert secret not in response.text
    assert journal_row(api, response).scopes == ["dgfip_nbpart", "dgfip_rfr"]


def test_attack_api_key_of_a_partial_habilitation_gets_only_its_fields(shared_broker, api):
    """Scopes of other products in the habilitation widen nothing for this one."""
    key = api_key(shared_broker, "cnaf_enfants dgfip_rfr cnous_email pole_emploi_contact")
    response = call(api, route(QF, "identite"), key.secret, params=identite_params("nom_composé"))
    data = assert_ok(response)
    assert list(data) == ["enfants"] and len(data["enfants"]) == 3
    assert "635" not in response.text and "MARSEILLE" not in response.text
    assert journal_row(api, response).scopes == ["cnaf_enfants"]


# -- the access journal ------------------------------------------------------------------------

# What must never be written in clear: names, birth dates in every format, identifiers.
IN_CLEAR = (
    "dubois",
    "angela",
    "claire",
    "louise",
    "1962-08-24",
    "19620824",
    "24/08/1962",
    "lambert",
    "inès",
    "ines",
    "2406012345k",
    "godin",
    "ermengardi",
    "4127395m",
    "santucci",
    "dominique",
    "1979-06-11",
    "segur",
    "yopmail",
)


def assert_nothing_in_clear(row) -> None:
    for column, value in row_values(row).items():
        text = str(value).lower()
        for secret in IN_CLEAR:
            assert secret not in text, f"{secret!r} in clear in access_journal.{column}"


def test_journal_rows_say_what_was_served_to_whom_without_personal_data(shared_broker, api):
    qf_scopes = "cnaf_quotient_familial cnaf_adresse"
    token = access_token(shared_broker, "test", "profile " + qf_scopes)
    before = int(time.time())
    fc = call(api, route(QF, "france_connect"), token.access_token, recipient=DINUM)
    assert assert_ok(fc)["quotient_familial"]["valeur"] == 2550

    key = api_key(shared_broker, "cnaf_quotient_familial cnaf_adresse dgfip_rfr cnous_email")
    by_identity = call(api, route(QF, "identite"), key.secret, params=identite_params("test"))
    assert assert_ok(by_identity)["adresse"]["code_postal_ville"] == "75007 PARIS"
    by_ine = call(
        api,
        route("cnous/etudiant_boursier", "ine"),
        key.secret,
        header="x-api-key",
        ine="2406012345K",
    )
    assert assert_ok(by_ine) == {"email": "ines.lambert-demo@yopmail.com"}
    by_id = call(
        api, route("france_travail/statut", "identifiant"), key.secret, identifiant="4127395M"
    )
    assert by_id.status_code == 403  # no France Travail scope: refused, and journaled

    fc_row, identity_row, ine_row, refused_row = (
        journal_row(api, r) for r in (fc, by_identity, by_ine, by_id)
    )
    sub = jwt.decode(token.id_token, shared_broker.state.keys.verification_keys()).claims["sub"]
    assert (fc_row.product, fc_row.mode, fc_row.credential) == (
        QF,
        "france_connect",
        "access_token",
    )
    assert fc_row.scopes == ["cnaf_adresse", "cnaf_quotient_familial"]
    assert (fc_row.recipient, fc_row.outcome, fc_row.status, fc_row.error_code) == (
        DINUM,
        "ok",
        200,
        None,
    )
    assert fc_row.subject == sub and fc_row.client_id == token.client_id
    assert fc_row.citizen_id and fc_row.habilitation_id and fc_row.service_id
    assert before - 1 <= fc_row.at <= time.time() + 1 and fc_row.latency_ms >= 0

    assert (identity_row.product, identity_row.mode, identity_row.credential) == (
        QF,
        "identite",
        "api_key",
    )
    assert identity_row.scopes == ["cnaf_adresse", "cnaf_quotient_familial"]
    assert (identity_row.recipient, identity_row.outcome, identity_row.status) == (DINUM, "ok", 200)
    assert (identity_row.credential_id, identity_row.habilitation_id, identity_row.service_id) == (
        key.id,
        key.habilitation_id,
        key.service_id,
    )
    assert identity_row.subject is None and identity_row.citizen_id is None

    assert (ine_row.product, ine_row.mode, ine_row.scopes, ine_row.outcome) == (
        "cnous/etudiant_boursier",
        "ine",
        ["cnous_email"],
        "ok",
    )
    assert (refused_row.outcome, refused_row.status, refused_row.error_code) == (
        "forbidden",
        403,
        "00100",
    )
    assert refused_row.scopes == []

    for row in (fc_row, identity_row, ine_row):
        assert HEX64.match(row.identity_digest or ""), row.identity_digest
    # The same person in either mode has the same digest: her dashboard finds both calls.
    assert fc_row.identity_digest == identity_row.identity_digest
    assert ine_row.identity_digest != identity_row.identity_digest
    for row in (fc_row, identity_row, ine_row, refused_row):
        assert_nothing_in_clear(row)
