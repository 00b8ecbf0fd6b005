"""The civic-service adapter against its simulator over real HTTP: current and past contracts,
a person known without any, what identity it sends (names and birth date only), not found,
partial birth dates, every scenario, API Particulier's "running contract" rule, the provider's
shape checked, and masking by scope."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from broker.catalogue.products import product
from broker.catalogue.scopes import REGISTRY
from broker.demo.scenarios import SCENARIO_CITIZENS, SCENARIOS
from broker.providers.adapters.gip_mds import GipMdsAdapter, to_v3
from broker.providers.base import (
    Found,
    InvalidInput,
    Maintenance,
    NotFound,
    ProductCall,
    ProviderConfig,
    Unavailable,
    UnexpectedPayload,
)
from broker.resources.masking import allowed_tree, mask
from broker.resources.readable import readable_values
from tests.broker.providers.conftest import RETRY_IN, SCENARIO_OUTCOMES, pivot_of, with_adapters
from tests.broker.providers.scripted import Answer

PRODUCT = "gip_mds/service_civique"
EXPECTED = SCENARIO_OUTCOMES
NONE_FOUND = {
    "contrat_trouve": False,
    "organisme_accueil": {"siret": None, "raison_sociale": None},
    "date_debut_contrat": None,
    "date_fin_contrat": None,
}


def fetch_all(simulators_url, calls: list[ProductCall]) -> list:
    async def steps(adapters):
        return await asyncio.gather(*(adapters["gip_mds"].fetch(c) for c in calls))

    return with_adapters(simulators_url, steps)


def fc(login: str, **changes) -> ProductCall:
    return ProductCall(PRODUCT, "france_connect", pivot=pivot_of(login, **changes))


def identite(login: str, **changes) -> ProductCall:
    """The pivot an ``identite`` call of this product carries: no sex, no birthplace."""
    values = {"gender": "", "birthcountry": "", "birthplace": "", "usage_name": ""}
    return ProductCall(PRODUCT, "identite", pivot=pivot_of(login, **(values | changes)))


def test_current_past_and_no_contract(simulators_url):
    current, past, none = fetch_all(
        simulators_url, [fc("etudiant_boursier"), identite("naissance_La_Réunion"), fc("test")]
    )
    assert current == Found(
        {
            "statut_actuel": {
                "contrat_trouve": True,
                "organisme_accueil": {"siret": "42229566900026", "raison_sociale": "UNIS CITE"},
                "date_debut_contrat": "2026-10-05",
                "date_fin_contrat": "2027-06-04",
            },
            "statut_passe": NONE_FOUND,
        }
    )
    assert past == Found(
        {
            "statut_actuel": NONE_FOUND,
            "statut_passe": {
                "contrat_trouve": True,
                "organisme_accueil": {
                    "siret": "77567227221138",
                    "raison_sociale": "CROIX ROUGE FRANCAISE",
                },
                "date_debut_contrat": "2015-09-14",
                "date_fin_contrat": "2016-05-13",
            },
        }
    )
    assert none == Found({"statut_actuel": NONE_FOUND, "statut_passe": NONE_FOUND})


def test_only_names_and_birth_date_are_matched(simulators_url):
    """Sex and birthplace are not sent: a wrong one changes nothing; the first given name and
    the birth name without accents or capitals are enough."""
    outcomes = fetch_all(
        simulators_url,
        [
            fc("etudiant_boursier", gender="M", birthplace="75056"),
            identite("etudiant_boursier", family_name="lambert", given_names=("ines",)),
        ],
    )
    assert all(isinstance(o, Found) and o.data["statut_actuel"]["contrat_trouve"] for o in outcomes)


def test_unknown_people_and_wrong_identities_are_not_found(simulators_url):
    outcomes = fetch_all(
        simulators_url,
        [
            fc("avec_nom_dusage"),  # a demo citizen unknown to the DSN here
            fc("nom_prénom_long"),  # known nowhere
            fc("etudiant_boursier", birthdate="2006-04-13"),
            fc("etudiant_boursier", given_names=("Clara",)),
        ],
    )
    assert all(isinstance(o, NotFound) for o in outcomes), outcomes
    assert outcomes[0].detail == "gip_mds: no social declaration (DSN) matches this identity"


def test_partial_birth_dates_never_reach_the_provider(simulators_url):
    month_unknown, presumed = fetch_all(
        simulators_url,
        [identite("etudiant_boursier", birthdate="2006-00-00"), fc("étranger_présumé_né_jour")],
    )
    assert month_unknown == InvalidInput(
        "gip_mds needs the complete birth date", "moisDateNaissance"
    )
    assert presumed == NotFound("gip_mds: cannot match a presumed birth date")


@pytest.mark.parametrize("login", [c.login for c in SCENARIO_CITIZENS])
def test_every_scenario_in_both_modes(simulators_url, login):
    outcomes = fetch_all(simulators_url, [fc(login), identite(login)])
    expected = EXPECTED[SCENARIOS[login].kind]
    assert all(isinstance(o, expected) for o in outcomes), outcomes
    if expected is Maintenance:
        assert {o.retry_in for o in outcomes} == {RETRY_IN}


def test_health(simulators_url):
    async def steps(adapters):
        return await adapters["gip_mds"].ping()

    assert with_adapters(simulators_url, steps) == Found({})


# -- API Particulier's rule for a running contract ---------------------------------------------


def contract(start: str, end: str | None, reason: str | None, siret: str = "1") -> dict:
    return {
        "accueil": {"siret": siret, "raisonSociale": f"HOST {siret}"},
        "dateDebut": start,
        "dateFin": end,
        "motifRupture": reason,
    }


def test_a_contract_runs_without_an_end_or_with_reason_99_or_100():
    for running in (
        contract("2026-01-01", None, None),
        contract("2026-01-01", "2026-06-30", "99"),
        contract("2026-01-01", "2026-06-30", "100"),
    ):
        data = to_v3({"contrats": [running]})
        assert data["statut_actuel"]["contrat_trouve"] and data["statut_passe"] == NONE_FOUND
    ended = to_v3({"contrats": [contract("2026-01-01", "2026-06-30", "31")]})
    assert ended["statut_actuel"] == NONE_FOUND and ended["statut_passe"]["contrat_trouve"]


def test_the_latest_running_and_the_latest_ended_contracts_are_told():
    data = to_v3(
        {
            "contrats": [
                contract("2019-01-01", "2019-08-31", "31", siret="A"),
                contract("2026-02-01", "2026-09-30", "99", siret="B"),
                contract("2021-03-15", "2021-11-14", "31", siret="C"),
            ]
        }
    )
    assert data["statut_actuel"]["organisme_accueil"]["siret"] == "B"
    assert data["statut_passe"]["organisme_accueil"]["siret"] == "C"
    assert data["statut_passe"]["date_fin_contrat"] == "2021-11-14"


# -- the provider's shape and errors, through a scripted provider ------------------------------


def scripted_fetch(url: str, call: ProductCall):
    async def go():
        async with httpx.AsyncClient() as client:
            return await GipMdsAdapter(ProviderConfig(base_url=url), client).fetch(call)

    return asyncio.run(go())


@pytest.mark.parametrize(
    "body",
    [
        {"contrats": None},
        {"contrats": [{"accueil": {"siret": "1"}, "dateDebut": "2026-01-01", "dateFin": None}]},
        {"contrats": [contract("01/01/2026", None, None)]},
        {"contrats": [contract("2026-01-01", None, 99)]},
        {"statut_actuel": {"contrat_trouve": True}},  # v3 itself, not the provider's answer
    ],
)
def test_attack_an_undocumented_answer_is_never_passed_on(scripted, body):
    provider, url = scripted
    provider.reset(Answer(200, json.dumps(body).encode()))
    outcome = scripted_fetch(url, fc("etudiant_boursier"))
    assert isinstance(outcome, UnexpectedPayload), outcome
    assert "LAMBERT" not in outcome.detail


def test_a_post_that_fails_is_not_retried_and_field_errors_map_to_v3(scripted):
    provider, url = scripted
    error = {"erreur": {"code": "PARAMETRE_INVALIDE", "message": "m", "champ": "nomFamille"}}
    provider.reset(Answer(400, json.dumps(error).encode()))
    assert scripted_fetch(url, fc("etudiant_boursier")) == InvalidInput(
        "gip_mds: m", "nomNaissance"
    )
    provider.reset(default=Answer(502, b"<html>bad gateway</html>", content_type="text/html"))
    assert isinstance(scripted_fetch(url, fc("etudiant_boursier")), Unavailable)
    assert [(r.method, r.path) for r in provider.received] == [
        ("POST", "/dsn/v1/service-civique/contrats")
    ]


# -- masking -----------------------------------------------------------------------------------


def test_masking_by_scope(simulators_url):
    (found,) = fetch_all(simulators_url, [fc("etudiant_boursier")])
    path = product(PRODUCT).path
    current = mask(found.data, allowed_tree(["service_civique_actuel"], path))
    past = mask(found.data, allowed_tree(["service_civique_passe"], path))
    assert current == {"statut_actuel": found.data["statut_actuel"]}
    assert past == {"statut_passe": found.data["statut_passe"]}
    both = allowed_tree(["service_civique_actuel", "service_civique_passe"], path)
    assert mask(found.data, both) == found.data
    assert mask(found.data, allowed_tree(["dsnj_statut_service_national"], path)) == {}


def test_the_citizen_reads_the_contract_in_words(simulators_url):
    """The consent screen's preview: the host by name (its SIRET beside it left out), dates
    written out."""
    (found,) = fetch_all(simulators_url, [fc("etudiant_boursier")])
    current, past = (REGISTRY.get(n) for n in ("service_civique_actuel", "service_civique_passe"))
    assert [(v.label, v.value) for v in readable_values(current, found.data, en=False)] == [
        ("Service civique en cours", "Oui"),
        ("Organisme d'accueil", "UNIS CITE"),
        ("Début du contrat", "5 octobre 2026"),
        ("Fin du contrat", "4 juin 2027"),
    ]
    assert [(v.label, v.value) for v in readable_values(past, found.data, en=True)] == [
        ("Past civic service", "No"),
        ("Host organisation", "not provided"),
        ("Start of the contract", "not provided"),
        ("End of the contract", "not provided"),
    ]
