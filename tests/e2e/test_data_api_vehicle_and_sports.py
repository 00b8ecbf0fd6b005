"""The ANTS vehicle registration extract (France Connect only, with ``immatriculation``) and
the Ministry of Sports' athlete status (by ``identifiant``) through the data API, over real
HTTP: the demo citizens' data, masking by scope, the parameters' own formats, siade's error
codes for not found and for every scenario, and the access journal.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from broker.admin.habilitations import MAX_RATE_LIMIT
from broker.catalogue.scopes import REGISTRY
from broker.demo.scenarios import SPORTS_IDENTIFIANTS
from broker.resources.errors import PROVIDER_CODES, PROVIDER_NAMES
from tests.e2e.data_api_support import (
    access_token,
    api_key,
    api_keys,
    assert_error,
    assert_exactly_fields,
    assert_ok,
    call,
    journal_row,
    live_broker,
    live_data_api,
    registry_fields,
    route,
    scopes_of,
)

ANTS = "ants/extrait_immatriculation_vehicule"
SDH = "sdh/statut_sportif"


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
    return api_key(
        shared_broker, [s.name for s in REGISTRY.data_scopes()], rate_limit=MAX_RATE_LIMIT
    )


def ants_call(api, token: str, immatriculation: str | None):
    params = {} if immatriculation is None else {"immatriculation": immatriculation}
    return call(api, route(ANTS, "france_connect"), token, recipient=None, params=params)


def test_the_signed_in_lessee_gets_the_extract_of_her_vehicle(shared_broker, api):
    token = access_token(shared_broker, "nom_composé", " ".join(scopes_of(ANTS)))
    response = ants_call(api, token.access_token, "fr285lm")
    data = assert_ok(response)
    assert_exactly_fields(data, registry_fields(scopes_of(ANTS), ANTS))
    assert data["statut_rattachement"] == "locataire"
    assert data["donnees_immatriculation_vehicule"]["numero_immatriculation"] == "FR-285-LM"
    assert data["identite_particulier"]["nom"] == "TROIS-DUPRE"
    row = journal_row(api, response)
    assert (row.product, row.mode, row.outcome, row.status) == (ANTS, "france_connect", "ok", 200)

    # Her partner's vehicle is not hers to read; a malformed or missing number is named.
    not_hers = ants_call(api, token.access_token, "GA-427-KD")
    assert_error(not_hers, 404, PROVIDER_CODES["ants"] + "003")
    for plate in ("GA-427", "IO-123-KD", None):
        refused = ants_call(api, token.access_token, plate)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["source"]["parameter"] == "immatriculation"


def test_the_ministry_of_sports_answers_by_identifiant(api, every_scope_key):
    response = call(api, route(SDH, "identifiant"), every_scope_key.secret, identifiant="120034567")
    data = assert_ok(response)
    assert_exactly_fields(data, registry_fields(scopes_of(SDH), SDH))
    assert data["est_sportif_de_haut_niveau"] is True
    assert data["informations_statut"]["federation"]["nom_court_federation"] == "JUDO"
    assert journal_row(api, response).scopes == sorted(scopes_of(SDH))

    unknown = call(api, route(SDH, "identifiant"), every_scope_key.secret, identifiant="5555")
    assert_error(unknown, 404, PROVIDER_CODES["sdh"] + "003")
    # A France Travail identifiant is not a Ministry of Sports number: refused before any call.
    wrong = call(api, route(SDH, "identifiant"), every_scope_key.secret, identifiant="4127395M")
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["source"]["parameter"] == "identifiant"


def test_each_sports_scope_alone_releases_exactly_its_fields(shared_broker, api):
    scopes = scopes_of(SDH)
    scope_sets = [[scope] for scope in scopes] + [scopes]
    keys = api_keys(shared_broker, scope_sets)
    path = route(SDH, "identifiant")
    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        responses = list(
            pool.map(lambda key: call(api, path, key.secret, identifiant="120034567"), keys)
        )
    for scope_set, response in zip(scope_sets, responses, strict=True):
        assert_exactly_fields(assert_ok(response), registry_fields(scope_set, SDH))


def test_each_vehicle_scope_alone_releases_exactly_its_fields(shared_broker, api):
    """France Connect only: one sign-in per scope; the service is habilitated for all of them,
    the token's scope alone decides what is released."""
    scopes = scopes_of(ANTS)
    scope_sets = [*scopes, " ".join(scopes)]

    def fetch(scope: str):
        token = access_token(shared_broker, "test", scope, habilitation=" ".join(scopes))
        return ants_call(api, token.access_token, "GA-427-KD")

    with ThreadPoolExecutor(max_workers=len(scope_sets)) as pool:
        responses = list(pool.map(fetch, scope_sets))
    for scope, response in zip(scope_sets, responses, strict=True):
        assert_exactly_fields(assert_ok(response), registry_fields(scope.split(), ANTS))


# The journal's outcome for each scenario citizen (the error's code and status are siade's,
# broker/resources/errors.py: here, the provider's prefix and a 5xx).
OUTCOMES = {
    "scenario_inconnu": "not_found",
    "scenario_lent": "timeout",
    "scenario_erreur_serveur": "unavailable",
    "scenario_passerelle": "unavailable",
    "scenario_reponse_invalide": "provider_error",
    "scenario_forme_inattendue": "provider_error",
    "scenario_maintenance": "maintenance",
}
FAILING = [login for login in OUTCOMES if login != "scenario_inconnu"]


def assert_provider_failure(api, response, provider: str, login: str) -> None:
    assert response.status_code >= 500, response.text
    error = response.json()["errors"][0]
    assert error["code"].startswith(PROVIDER_CODES[provider]), error
    assert error["meta"]["provider"] == PROVIDER_NAMES[provider]
    assert ("retry_in" in error["meta"]) == (login == "scenario_maintenance")
    assert "data" not in response.json()
    assert journal_row(api, response).outcome == OUTCOMES[login]


@pytest.mark.parametrize("login", FAILING)
def test_every_sports_scenario_gets_siade_s_typed_error(api, every_scope_key, login):
    """A 404 first, so that the provider's circuit never sees two failures in a row here."""
    path, key = route(SDH, "identifiant"), every_scope_key.secret
    known_nowhere = SPORTS_IDENTIFIANTS["scenario_inconnu"]
    assert_error(
        call(api, path, key, identifiant=known_nowhere), 404, PROVIDER_CODES["sdh"] + "003"
    )
    response = call(api, path, key, identifiant=SPORTS_IDENTIFIANTS[login])
    assert_provider_failure(api, response, "sdh", login)


@pytest.mark.parametrize("login", ["scenario_erreur_serveur", "scenario_forme_inattendue"])
def test_vehicle_scenarios_for_citizens_signed_in_at_the_broker(shared_broker, api, login):
    token = access_token(shared_broker, login, " ".join(scopes_of(ANTS)))
    response = ants_call(api, token.access_token, "AB-123-CD")
    assert_provider_failure(api, response, "ants", login)
    unknown = access_token(shared_broker, "scenario_inconnu", " ".join(scopes_of(ANTS)))
    response = ants_call(api, unknown.access_token, "AB-123-CD")
    assert_error(response, 404, PROVIDER_CODES["ants"] + "003")
    assert journal_row(api, response).outcome == "not_found"
