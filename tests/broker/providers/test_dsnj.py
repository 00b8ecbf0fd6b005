"""The national-service adapter against its simulator over real HTTP: every status of the demo,
the identity it sends, not found, partial birth dates, every scenario, the provider's own
shape checked, and masking by scope."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from broker.catalogue.products import product
from broker.catalogue.scopes import REGISTRY
from broker.demo.scenarios import SCENARIO_CITIZENS, SCENARIOS
from broker.providers.adapters.dsnj import DsnjAdapter
from broker.providers.base import (
    Found,
    InvalidInput,
    Maintenance,
    NotFound,
    ProductCall,
    ProviderConfig,
    UnexpectedPayload,
)
from broker.resources.masking import allowed_tree, mask
from broker.resources.readable import readable_values
from tests.broker.providers.conftest import RETRY_IN, SCENARIO_OUTCOMES, pivot_of, with_adapters
from tests.broker.providers.scripted import Answer

PRODUCT = "dsnj/service_national"
EXPECTED = SCENARIO_OUTCOMES


def fetch_all(simulators_url, calls: list[ProductCall]) -> list:
    async def steps(adapters):
        return await asyncio.gather(*(adapters["dsnj"].fetch(c) for c in calls))

    return with_adapters(simulators_url, steps)


def fc(login: str, **changes) -> ProductCall:
    return ProductCall(PRODUCT, "france_connect", pivot=pivot_of(login, **changes))


def identite(login: str, **changes) -> ProductCall:
    return ProductCall(PRODUCT, "identite", pivot=pivot_of(login, **changes))


def test_every_status_of_the_demo_in_v3_words(simulators_url):
    logins = ["etudiant_boursier", "test_CORSE_2A", "moins_18_ans", "beneficiaire_rsa", "test"]
    outcomes = fetch_all(simulators_url, [fc(login) for login in logins])
    assert outcomes == [
        Found(
            {
                "statut_service_national": "en_regle",
                "commentaires": "Journée défense et citoyenneté effectuée le 14/03/2024",
            }
        ),
        Found({"statut_service_national": "en_regle", "commentaires": None}),
        Found(
            {
                "statut_service_national": "indetermine",
                "commentaires": "Recensement enregistré le 12/11/2026 : "
                "situation en cours de traitement",
            }
        ),
        Found(
            {
                "statut_service_national": "pas_en_regle",
                "commentaires": "Journée d'appel de préparation à la défense non effectuée",
            }
        ),
        Found(
            {
                "statut_service_national": "non_concerne",
                "commentaires": "Personne née avant 1983, non concernée par les obligations "
                "de service national",
            }
        ),
    ]


def test_identity_mode_first_given_name_and_no_commune(simulators_url):
    """An API-key caller may send the first given name only; the commune is optional; names
    match without accents or capitals."""
    found, unaccented_lower_case = fetch_all(
        simulators_url,
        [
            identite("etudiant_boursier", given_names=("Inès",), birthplace=""),
            identite("naissance_La_Réunion", given_names=("oceane", "marie")),
        ],
    )
    assert found == Found(
        {
            "statut_service_national": "en_regle",
            "commentaires": "Journée défense et citoyenneté effectuée le 14/03/2024",
        }
    )
    assert unaccented_lower_case == Found(
        {
            "statut_service_national": "en_regle",
            "commentaires": "Journée défense et citoyenneté effectuée le 18/04/2013",
        }
    )


def test_unknown_people_and_wrong_identities_are_not_found(simulators_url):
    outcomes = fetch_all(
        simulators_url,
        [
            fc("avec_nom_dusage"),  # a demo citizen without census facts
            fc("nom_prénom_long"),  # known nowhere
            fc("etudiant_boursier", gender="M"),
            fc("etudiant_boursier", birthplace="69123"),
            fc("etudiant_boursier", given_names=("Clara",)),
        ],
    )
    assert all(isinstance(o, NotFound) for o in outcomes), outcomes
    assert outcomes[0].detail == "dsnj: no census record matches this identity"


def test_partial_birth_dates_never_reach_the_provider(simulators_url):
    day_unknown, presumed = fetch_all(
        simulators_url,
        [
            identite("etudiant_boursier", birthdate="2006-04-00"),
            fc("étranger_présumé_né_jour"),
        ],
    )
    assert day_unknown == InvalidInput("dsnj needs the complete birth date", "jourDateNaissance")
    assert presumed == NotFound("dsnj: cannot match a presumed birth date")


@pytest.mark.parametrize("login", [c.login for c in SCENARIO_CITIZENS])
def test_every_scenario_in_both_modes(simulators_url, login):
    outcomes = fetch_all(simulators_url, [fc(login), identite(login)])
    expected = EXPECTED[SCENARIOS[login].kind]
    assert all(isinstance(o, expected) for o in outcomes), outcomes
    if expected is Maintenance:
        assert {o.retry_in for o in outcomes} == {RETRY_IN}


def test_health(simulators_url):
    async def steps(adapters):
        return await adapters["dsnj"].ping()

    assert with_adapters(simulators_url, steps) == Found({})


# -- the provider's shape, through a scripted provider -----------------------------------------


def scripted_fetch(url: str, call: ProductCall):
    async def go():
        async with httpx.AsyncClient() as client:
            return await DsnjAdapter(ProviderConfig(base_url=url), client).fetch(call)

    return asyncio.run(go())


@pytest.mark.parametrize(
    "body",
    [
        {"situation": "en_regle", "commentaire": None},  # the v3 word, not the provider's code
        {"situation": "EN_REGLE"},
        {"situation": "EN_REGLE", "commentaire": 12},
        [{"situation": "EN_REGLE", "commentaire": None}],
    ],
)
def test_attack_an_undocumented_answer_is_never_passed_on(scripted, body):
    provider, url = scripted
    provider.reset(Answer(200, json.dumps(body).encode()))
    outcome = scripted_fetch(url, fc("etudiant_boursier"))
    assert isinstance(outcome, UnexpectedPayload), outcome
    assert "LAMBERT" not in outcome.detail


def test_what_is_sent_and_provider_field_errors_map_to_v3_parameters(scripted):
    provider, url = scripted
    error = {"erreur": {"code": "PARAMETRE_INVALIDE", "message": "m", "champ": "paysNaissance"}}
    provider.reset(Answer(400, json.dumps(error).encode()))
    outcome = scripted_fetch(url, fc("etudiant_boursier"))
    assert outcome == InvalidInput("dsnj: m", "codeCogInseePaysNaissance")
    sent = provider.received[0]
    assert (sent.method, sent.path) == ("GET", "/recensement/v1/situation")


# -- masking -----------------------------------------------------------------------------------


def test_masking_by_scope(simulators_url):
    (found,) = fetch_all(simulators_url, [fc("moins_18_ans")])
    path = product(PRODUCT).path
    assert mask(found.data, allowed_tree(["dsnj_statut_service_national"], path)) == found.data
    assert mask(found.data, allowed_tree(["service_civique_actuel", "cnaf_adresse"], path)) == {}


def test_the_citizen_reads_the_status_in_words(simulators_url):
    """The consent screen's preview: the status in words, never its code."""
    (found,) = fetch_all(simulators_url, [fc("moins_18_ans")])
    scope = REGISTRY.get("dsnj_statut_service_national")
    assert [(v.label, v.value) for v in readable_values(scope, found.data, en=False)] == [
        ("Situation au regard du service national", "Pas encore connue"),
        ("Remarques", "Recensement enregistré le 12/11/2026 : situation en cours de traitement"),
    ]
    english = readable_values(scope, {"statut_service_national": "non_concerne"}, en=True)
    assert english[0].value == "Not concerned" and english[1].value == "not provided"
