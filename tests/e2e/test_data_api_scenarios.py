"""The scenario citizens through the data API, over real HTTP: every provider failure is an
ordinary, typed answer (docs/simulators.md, "Scenario citizens"), journaled like any call; and
the circuit breaker makes a failing provider cost no wait while the others keep answering.

Codes, statuses and ``meta.provider`` are siade's (broker/resources/siade_codes.py): ``XX`` in
the codes is the provider's (errors.PROVIDER_CODES; the CNAV's, 37, for every DSS product and
the family quotient), but for the 404s siade documents per product; a maintenance is siade's
"service non disponible" with ``meta.retry_in``.
The simulators' slow scenario answers after 2 s; the data API gives up after 0.4 s.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from broker.admin.habilitations import MAX_RATE_LIMIT
from broker.catalogue.scopes import REGISTRY
from broker.resources import siade_codes
from broker.resources.errors import PROVIDER_CODES, PROVIDER_NAMES
from tests.conftest import PROVIDER_READ_TIMEOUT, SLOW_SECONDS
from tests.e2e.data_api_support import (
    DINUM,
    SCENARIO_MEN_PARAMS,
    CountingRelay,
    access_token,
    api_key,
    assert_error,
    assert_ok,
    call,
    identite_params,
    journal_row,
    live_broker,
    live_data_api,
    route,
    scopes_of,
    timed,
)


@dataclass(frozen=True)
class Expected:
    status: int
    suffix: str  # the YYY of the error code XXYYY
    outcome: str  # the journal's name for it


# What the data API answers for each scenario citizen, whatever the provider.
SCENARIOS = {
    "scenario_inconnu": Expected(404, "003", "not_found"),
    "scenario_lent": Expected(504, "002", "timeout"),
    "scenario_erreur_serveur": Expected(504, "001", "unavailable"),
    "scenario_passerelle": Expected(504, "001", "unavailable"),
    "scenario_reponse_invalide": Expected(502, "999", "provider_error"),
    "scenario_forme_inattendue": Expected(502, "999", "provider_error"),
    "scenario_maintenance": Expected(504, "001", "maintenance"),
}
INE = {
    "scenario_inconnu": "9900000001N",
    "scenario_lent": "9900000002S",
    "scenario_erreur_serveur": "9900000003E",
    "scenario_passerelle": "9900000004P",
    "scenario_reponse_invalide": "9900000005M",
    "scenario_forme_inattendue": "9900000006W",
    "scenario_maintenance": "9900000007T",
}
IDENTIFIANT = {
    "scenario_inconnu": "9900001N",
    "scenario_lent": "9900002S",
    "scenario_erreur_serveur": "9900003E",
    "scenario_passerelle": "9900004P",
    "scenario_reponse_invalide": "9900005M",
    "scenario_forme_inattendue": "9900006W",
    "scenario_maintenance": "9900007T",
}
MAINTENANCE_RETRY_IN = 600  # the simulators' Retry-After
BREAKER_FAILURES = 5  # ProviderConfig.breaker_failures, the default the data API uses
# An open circuit answers at once; asking the slow provider costs at least the read timeout.
NO_WAIT = PROVIDER_READ_TIMEOUT * 0.75
# The slow scenario must fail at the adapter's budget (a 0.4 s read timeout), well before the
# provider's 2 s; five at once on a loaded two-core CI host have taken 1.21 s.
SLOW_CEILING = 1.5
assert SLOW_CEILING < SLOW_SECONDS

API_KEY_ROUTES = [
    ("dss/quotient_familial", "identite"),
    ("dss/revenu_solidarite_active", "identite"),
    ("dss/prime_activite", "identite"),
    ("dss/allocation_adulte_handicape", "identite"),
    ("dss/allocation_soutien_familial", "identite"),
    ("dss/complementaire_sante_solidaire", "identite"),
    ("cnous/etudiant_boursier", "identite"),
    ("mesri/statut_etudiant", "identite"),
    ("men/scolarites", "identite"),
    ("dsnj/service_national", "identite"),
    ("gip_mds/service_civique", "identite"),
    ("cnous/etudiant_boursier", "ine"),
    ("mesri/statut_etudiant", "ine"),
    ("france_travail/statut", "identifiant"),
    ("france_travail/indemnites", "identifiant"),
]


@pytest.fixture(scope="module")
def shared_broker(db_factory, tmp_path_factory, demo_idp):
    with live_broker(db_factory, tmp_path_factory.mktemp("var"), demo_idp) as server:
        yield server


@pytest.fixture(scope="module")
def every_scope_key(shared_broker):
    return api_key(
        shared_broker, [s.name for s in REGISTRY.data_scopes()], rate_limit=MAX_RATE_LIMIT
    )  # limits are tested in test_data_api_rate_limits


@pytest.fixture(scope="module")
def api(shared_broker, simulators):
    """The data API straight to the simulators, shared by the scenario tests of a worker.

    Its circuit breakers must not open, whatever the order of the tests: one opens after 5
    consecutive failures at a provider. A test here starts with a call that counts as a success
    (404) and makes at most 2 failing calls (500, 502); the France Connect tests make one
    failing call at most per provider (CNAF, Crous, MESRI). So at most 3 failures in a row."""
    with live_data_api(shared_broker, simulators) as server:
        yield server


@pytest.fixture
def relay(simulators):
    relay = CountingRelay(simulators)
    yield relay
    relay.close()


@pytest.fixture
def relayed_api(shared_broker, relay):
    """A data API of its own whose provider calls go through the counting relay."""
    with live_data_api(shared_broker, relay.url) as server:
        yield server


def provider_of(product_key: str) -> str:
    return REGISTRY.get(scopes_of(product_key)[0]).provider


def scenario_params(product_key: str, mode: str, login: str) -> dict:
    if mode == "ine":
        return {"ine": INE[login]}
    if mode == "identifiant":
        return {"identifiant": IDENTIFIANT[login]}
    params = identite_params(login)
    if product_key == "men/scolarites":
        params.update(SCENARIO_MEN_PARAMS)
    return params


def check_scenario(api, response, elapsed: float, product_key: str, mode: str, login: str) -> None:
    expected = SCENARIOS[login]
    provider = provider_of(product_key)
    code, name = PROVIDER_CODES[provider] + expected.suffix, PROVIDER_NAMES[provider]
    if expected.suffix == "003":  # siade words its 404 per product (the DSS's)
        answer = siade_codes.PROVIDERS[provider].not_found_answer(product_key)
        code, name = answer.code, answer.by.name
    error = assert_error(response, expected.status, code)
    assert error["meta"]["provider"] == name
    if login == "scenario_maintenance":
        assert error["meta"]["retry_in"] == MAINTENANCE_RETRY_IN
        assert response.headers["retry-after"] == str(MAINTENANCE_RETRY_IN)
    else:
        assert "retry_in" not in error["meta"] and "retry-after" not in response.headers
    if login == "scenario_lent":
        assert PROVIDER_READ_TIMEOUT * 0.9 <= elapsed < SLOW_CEILING, elapsed
    else:
        assert elapsed < SLOW_CEILING, (login, elapsed)
    assert "data" not in response.json()

    row = journal_row(api, response)
    assert (row.product, row.mode, row.outcome, row.status, row.error_code) == (
        product_key,
        mode,
        expected.outcome,
        expected.status,
        code,
    )
    assert row.scopes == []  # nothing was served
    assert row.identity_digest
    assert row.recipient == (None if mode == "france_connect" else DINUM)


# The tests that leave slow answers pending at the simulators (2 s) come first, so that
# the simulators are idle again when the session ends.


def test_slow_providers_time_out_long_before_they_answer(
    shared_broker, simulators, every_scope_key
):
    """The slow citizen at every route at once, on a data API of its own (five timeouts at
    the DSS open its breaker): each call ends at the read timeout, not at the 2 s answer."""
    with live_data_api(shared_broker, simulators) as own:

        def ask(product_mode):
            product_key, mode = product_mode
            return timed(
                lambda: call(
                    own,
                    route(product_key, mode),
                    every_scope_key.secret,
                    params=scenario_params(product_key, mode, "scenario_lent"),
                )
            )

        # Eight at a time: enough to open the DSS breaker, few enough that a loaded test host
        # does not stretch one call past the ceiling.
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask, API_KEY_ROUTES))
        for (product_key, mode), (response, elapsed) in zip(API_KEY_ROUTES, answers, strict=True):
            check_scenario(own, response, elapsed, product_key, mode, "scenario_lent")


def test_breaker_opens_after_timeouts_then_fails_fast(relay, relayed_api, every_scope_key):
    """Five slow answers at once cost one read timeout; the sixth call costs nothing."""
    key = every_scope_key.secret
    path = route("mesri/statut_etudiant", "ine")

    def slow(_):
        return timed(lambda: call(relayed_api, path, key, ine=INE["scenario_lent"]))

    with ThreadPoolExecutor(max_workers=BREAKER_FAILURES) as pool:
        answers = list(pool.map(slow, range(BREAKER_FAILURES)))
    for response, elapsed in answers:
        assert_error(response, 504, "25002")
        assert elapsed < SLOW_CEILING
    assert relay.count("/mesri/") == BREAKER_FAILURES

    response, elapsed = timed(lambda: call(relayed_api, path, key, ine="2406012345K"))
    assert_error(response, 504, "25001")
    assert elapsed < NO_WAIT, elapsed
    assert relay.count("/mesri/") == BREAKER_FAILURES
    # The Crous, asked about the same student, answers.
    grant = call(relayed_api, route("cnous/etudiant_boursier", "ine"), key, ine="2406012345K")
    assert assert_ok(grant)["est_boursier"] is True


FAST_SCENARIOS = [login for login in SCENARIOS if login != "scenario_lent"]


@pytest.mark.parametrize(
    ("product_key", "mode"), API_KEY_ROUTES, ids=[f"{p}/{m}" for p, m in API_KEY_ROUTES]
)
def test_every_scenario_citizen_gets_a_typed_error(api, every_scope_key, product_key, mode):
    """The unknown citizen first (a success for the breaker), then the others at once; the
    slow one is in ``test_slow_providers_time_out_long_before_they_answer``."""
    path = route(product_key, mode)

    def ask(login: str):
        return timed(
            lambda: call(
                api, path, every_scope_key.secret, params=scenario_params(product_key, mode, login)
            )
        )

    first, *others = FAST_SCENARIOS
    answers = {first: ask(first)}
    with ThreadPoolExecutor(max_workers=len(others)) as pool:
        answers.update(zip(others, pool.map(ask, others), strict=True))
    for login, (response, elapsed) in answers.items():
        check_scenario(api, response, elapsed, product_key, mode, login)


FRANCE_CONNECT_SCENARIOS = [
    ("scenario_inconnu", "dgfip/situation_fiscale"),
    ("scenario_lent", "cnous/etudiant_boursier"),
    ("scenario_erreur_serveur", "dss/quotient_familial"),
    ("scenario_passerelle", "mesri/statut_etudiant"),
    ("scenario_reponse_invalide", "dss/prime_activite"),
    ("scenario_forme_inattendue", "dgfip/situation_fiscale"),
    ("scenario_maintenance", "dss/revenu_solidarite_active"),
    ("scenario_erreur_serveur", "dsnj/service_national"),
    ("scenario_reponse_invalide", "gip_mds/service_civique"),
]


@pytest.mark.parametrize(
    ("login", "product_key"),
    FRANCE_CONNECT_SCENARIOS,
    ids=[login for login, _ in FRANCE_CONNECT_SCENARIOS],
)
def test_scenario_citizens_signed_in_at_the_broker(shared_broker, api, login, product_key):
    token = access_token(shared_broker, login, " ".join(scopes_of(product_key)))
    response, elapsed = timed(
        lambda: call(api, route(product_key, "france_connect"), token.access_token, recipient=None)
    )
    check_scenario(api, response, elapsed, product_key, "france_connect", login)
    assert journal_row(api, response).subject


@pytest.fixture
def patient_relayed_api(shared_broker, relay):
    """The relayed data API with a read timeout that a loaded test host cannot reach on an
    immediate answer: what is counted is retries, never a timeout."""
    with live_data_api(shared_broker, relay.url, provider_read_timeout=3.0) as server:
        yield server


def test_bad_gateway_is_retried_once_on_get_never_on_post(
    relay, patient_relayed_api, every_scope_key
):
    """502 is transient: the GET providers try twice before answering 504; DSS's POST is not
    idempotent and is never retried; a 500 is not retried either."""
    key = every_scope_key.secret
    relayed_api = patient_relayed_api
    qf = call(
        relayed_api,
        route("dss/quotient_familial", "identite"),
        key,
        params=identite_params("scenario_passerelle"),
    )
    assert_error(qf, 504, "37001")
    assert relay.count("/cnaf/") == 2
    statut = call(
        relayed_api,
        route("france_travail/statut", "identifiant"),
        key,
        identifiant=IDENTIFIANT["scenario_passerelle"],
    )
    assert_error(statut, 504, "24001")
    assert relay.count("/france_travail/") == 2
    rsa = call(
        relayed_api,
        route("dss/revenu_solidarite_active", "identite"),
        key,
        params=identite_params("scenario_passerelle"),
    )
    assert_error(rsa, 504, "37001")
    assert relay.count("/dss/") == 1
    server_error = call(
        relayed_api,
        route("dss/quotient_familial", "identite"),
        key,
        params=identite_params("scenario_erreur_serveur"),
    )
    assert_error(server_error, 504, "37001")
    assert relay.count("/cnaf/") == 3
    for response in (qf, statut, rsa, server_error):
        assert journal_row(relayed_api, response).outcome == "unavailable"


def test_breaker_opens_after_server_errors_and_spares_other_providers(
    relay, relayed_api, every_scope_key
):
    key = every_scope_key.secret
    qf = route("dss/quotient_familial", "identite")
    for _ in range(BREAKER_FAILURES):
        assert_error(
            call(relayed_api, qf, key, params=identite_params("scenario_erreur_serveur")),
            504,
            "37001",
        )
    assert relay.count("/cnaf/") == BREAKER_FAILURES

    # The slow citizen would cost the 0.4 s read timeout: with the circuit open, no wait.
    response, elapsed = timed(
        lambda: call(relayed_api, qf, key, params=identite_params("scenario_lent"))
    )
    error = assert_error(response, 504, "37001")
    assert error["meta"]["provider"] == "CNAV"
    assert elapsed < NO_WAIT, elapsed
    # Even a citizen the CNAF knows is refused without a call, and the health check says so.
    request_id = f"breaker-{secrets.token_hex(8)}"  # the caller's own id is kept
    ordinary, elapsed = timed(
        lambda: call(
            relayed_api,
            qf,
            key,
            params=identite_params("test"),
            headers={"X-Request-ID": request_id},
        )
    )
    assert_error(ordinary, 504, "37001")
    assert ordinary.headers["x-request-id"] == request_id
    assert elapsed < NO_WAIT, elapsed
    row = journal_row(relayed_api, ordinary)
    assert (row.request_id, row.outcome, row.error_code) == (request_id, "unavailable", "37001")
    assert_error(call(relayed_api, "/v3/cnaf/ping", recipient=None), 504, "37001")
    assert relay.count("/cnaf/") == BREAKER_FAILURES  # nothing reached the CNAF

    # The other providers still answer.
    rsa = call(
        relayed_api,
        route("dss/revenu_solidarite_active", "identite"),
        key,
        params=identite_params("beneficiaire_rsa"),
    )
    assert assert_ok(rsa)["est_beneficiaire"] is True
    statut = call(
        relayed_api, route("france_travail/statut", "identifiant"), key, identifiant="4127395M"
    )
    assert assert_ok(statut)["identifiant"] == "4127395M"
    assert call(relayed_api, "/v3/dss/ping", recipient=None).json()["status"] == "ok"
