"""The data API over real HTTP: broker → access token → data API → provider simulators."""

from __future__ import annotations

import httpx
from joserfc import jwt
from sqlmodel import select

from broker.store.data_access_models import AccessJournal
from tests.helpers import AuthorizationRequest, Browser, redeem, register_client

QF = "/v3/dss/quotient_familial/france_connect"
QF_SCOPE = "openid profile cnaf_quotient_familial cnaf_enfants"


def token_for(broker, login: str = "nom_composé", scope: str = QF_SCOPE, name="CCAS"):
    client = register_client(broker.state, name=name, scope=scope)
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request, login=login)
    tokens = redeem(broker.url, client, received["code"], request.verifier).json()
    return client, request, received, tokens


def get(data_api, path: str, token: str | None = None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(data_api.url + path, headers=headers, params=params, timeout=10)


def journal(data_api) -> list[AccessJournal]:
    with data_api.state.db.reader() as s:
        return list(s.exec(select(AccessJournal).order_by(AccessJournal.id)).all())


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"]
    error = response.json()["errors"][0]
    assert error["code"] == code and error["title"] and error["detail"]
    return error


def test_france_connect_mode_serves_only_the_consented_fields(broker, data_api):
    _, _, _, tokens = token_for(broker)
    response = get(data_api, QF, tokens["access_token"])
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] and response.headers["ratelimit-limit"] == "1200"
    data = response.json()["data"]
    assert set(data) == {"quotient_familial", "enfants"}
    assert data["quotient_familial"]["valeur"] == 635
    assert [e["prenoms"] for e in data["enfants"]] == ["Lou", "Zoé Marie", "Henry"]

    [row] = journal(data_api)
    sub = jwt.decode(tokens["id_token"], broker.state.keys.verification_keys()).claims["sub"]
    assert (row.outcome, row.status, row.credential, row.mode) == (
        "ok",
        200,
        "access_token",
        "france_connect",
    )
    assert row.subject == sub and row.identity_digest and row.service_id
    assert row.scopes == ["cnaf_enfants", "cnaf_quotient_familial"]
    assert row.request_id == response.headers["x-request-id"]


def test_attack_revoked_token_fails_on_the_very_next_request(broker, data_api):
    client, request, received, tokens = token_for(broker)
    assert get(data_api, QF, tokens["access_token"]).status_code == 200
    # Replaying the code revokes the tokens issued from it (RFC 6749 §4.1.2).
    assert redeem(broker.url, client, received["code"], request.verifier).status_code == 400
    assert_error(
        get(data_api, QF, tokens["access_token"]), 401, "00105"
    )  # siade: "jeton sur liste noire"
    assert [r.outcome for r in journal(data_api)] == ["ok", "unauthorized"]


def test_attack_missing_forged_or_foreign_credentials(broker, data_api):
    assert_error(get(data_api, QF), 401, "00101")
    assert_error(get(data_api, QF, "not-a-jwt"), 401, "00101")
    _, _, _, tokens = token_for(broker)
    header, payload, signature = tokens["access_token"].split(".")
    assert_error(get(data_api, QF, f"{header}.{payload}.{signature[::-1]}"), 401, "00101")
    # The ID token is signed by the same keys but is not an access token.
    assert_error(get(data_api, QF, tokens["id_token"]), 401, "00101")
    assert_error(get(data_api, QF, "bpk_unknownkey"), 401, "00101")


def test_attack_token_without_a_scope_of_the_product(broker, data_api):
    _, _, _, tokens = token_for(broker, login="test", scope="openid profile dgfip_rfr")
    error = assert_error(get(data_api, QF, tokens["access_token"]), 403, "00100")
    assert "cnaf_quotient_familial" in error["detail"]


def test_attack_revoked_habilitation_stops_the_token_at_once(broker, data_api):
    from broker.admin.habilitations import revoke_habilitation
    from broker.store.data_access_models import Habilitation

    _, _, _, tokens = token_for(broker)
    assert get(data_api, QF, tokens["access_token"]).status_code == 200
    with broker.state.db.transaction() as s:
        for habilitation in s.exec(select(Habilitation)).all():
            revoke_habilitation(s, habilitation.id)
    assert_error(get(data_api, QF, tokens["access_token"]), 403, "00100")


def test_attack_token_used_in_api_key_mode_and_unknown_routes(broker, data_api):
    _, _, _, tokens = token_for(broker)
    identite = "/v3/dss/quotient_familial/identite"
    assert_error(get(data_api, identite, tokens["access_token"]), 403, "00100")
    assert_error(
        get(data_api, "/v3/dss/quotient_familial/ine", tokens["access_token"]), 404, "00404"
    )
    assert_error(get(data_api, "/v3/nope/nothing/france_connect"), 404, "00404")
    assert_error(get(data_api, "/nothing-here"), 404, "00404")


def test_france_connect_mode_refuses_identity_parameters(broker, data_api):
    _, _, _, tokens = token_for(broker)
    error = assert_error(
        get(data_api, QF, tokens["access_token"], nomNaissance="MARTIN"), 422, "00366"
    )  # siade's code for the identity parameters
    assert error["source"] == {"parameter": "nomNaissance"}


def test_journal_unavailable_means_no_data(broker, data_api):
    from sqlalchemy import text

    _, _, _, tokens = token_for(broker)
    with broker.state.db.transaction() as s:
        s.exec(text("ALTER TABLE access_journal RENAME TO access_journal_away"))
    try:
        response = get(data_api, QF, tokens["access_token"])
        error = assert_error(response, 503, "00503")
        assert "data" not in response.json() and "journalis" in error["detail"]
    finally:
        with broker.state.db.transaction() as s:
            s.exec(text("ALTER TABLE access_journal_away RENAME TO access_journal"))


def test_pings(data_api):
    assert httpx.get(data_api.url + "/v3/ping").json() == {"status": "ok"}
    assert httpx.get(data_api.url + "/v3/cnaf/ping").json()["status"] == "ok"
    assert_error(httpx.get(data_api.url + "/v3/nope/ping"), 404, "00404")


def test_cache_serves_by_identity_encrypted_and_bypassable(broker, data_api_factory):
    data_api = data_api_factory(cache_lifetimes={"dss/quotient_familial": 300})
    _, _, _, first = token_for(broker)
    _, _, _, second = token_for(broker, name="Autre CCAS", scope="openid cnaf_quotient_familial")
    one = get(data_api, QF, first["access_token"])
    assert one.status_code == 200 and one.headers["x-response-cached"] == "false"
    # Another service, another token, the same citizen: served from the cache, and masked
    # by the second token's own scopes (no children).
    two = get(data_api, QF, second["access_token"])
    assert two.headers["x-response-cached"] == "true"
    assert set(two.json()["data"]) == {"quotient_familial"}
    bypass = httpx.get(
        data_api.url + QF,
        headers={"Authorization": f"Bearer {first['access_token']}", "Cache-Control": "no-cache"},
    )
    assert bypass.status_code == 200 and bypass.headers["x-response-cached"] == "false"
    assert [r.cached for r in journal(data_api)] == [False, True, False]
    # Nothing in the store is readable: no name, no value in clear.
    store = data_api.state.access.cache.store
    for raw in [entry.data for entry in store._store.values()]:
        assert b"TROIS-DUPRE" not in raw and b"635" not in raw


def test_no_cache_header_without_caching(broker, data_api):
    _, _, _, tokens = token_for(broker)
    assert "x-response-cached" not in get(data_api, QF, tokens["access_token"]).headers


def test_data_api_started_before_any_signing_key_exists(broker, data_api):
    """A fresh deployment may start the data API before the broker made its keys."""
    from broker.store.models import SigningKey

    with broker.state.db.transaction() as s:
        for key in s.exec(select(SigningKey)).all():
            s.delete(key)
    data_api.state.access.keys.invalidate()
    assert_error(get(data_api, QF, "eyJhbGciOiJFUzI1NiIsImtpZCI6IngifQ.e30.abc"), 401, "00101")


def test_openapi_document_is_served(data_api):
    response = httpx.get(data_api.url + "/v3/openapi.json", headers={"Host": "evil.example"})
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert "/v3/dss/quotient_familial/identite" in document["paths"]
    assert document["servers"] == [{"url": "/"}]  # relative: never the Host header


def test_attack_token_stays_bound_to_the_purpose_consented_to(broker, data_api):
    """A second habilitation of the same service, for another purpose, covering the same
    scopes, does not take over the consent given under the first one."""
    from broker.admin.habilitations import revoke_habilitation
    from broker.store.data_access_models import Habilitation
    from tests.helpers import habilitate

    _, _, _, tokens = token_for(broker)
    assert get(data_api, QF, tokens["access_token"]).status_code == 200
    second = habilitate(
        broker.state,
        "CCAS",
        "cnaf_quotient_familial cnaf_enfants",
        purpose="Enquête statistique sur les familles",
    )
    with broker.state.db.transaction() as s:
        for habilitation in s.exec(select(Habilitation)).all():
            if habilitation.id != second["id"]:
                revoke_habilitation(s, habilitation.id)
    assert_error(get(data_api, QF, tokens["access_token"]), 403, "00100")


def test_attack_remembered_consent_does_not_carry_over_to_another_purpose(broker):
    from broker.admin.habilitations import revoke_habilitation
    from broker.store.data_access_models import Habilitation
    from tests.helpers import habilitate

    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client), login="nom_composé")
    again = browser.authorize(AuthorizationRequest(client))
    assert "/consent" not in again.headers["location"]  # remembered: straight back with a code
    second = habilitate(
        broker.state,
        "CCAS",
        "cnaf_quotient_familial cnaf_enfants",
        purpose="Enquête statistique sur les familles",
    )
    with broker.state.db.transaction() as s:
        for habilitation in s.exec(select(Habilitation)).all():
            if habilitation.id != second["id"]:
                revoke_habilitation(s, habilitation.id)
    broker.state.context.clients.invalidate()
    third = browser.authorize(AuthorizationRequest(client))
    assert third.headers["location"].endswith("/consent")
    assert "Enquête statistique" in browser.get(third.headers["location"]).text


def test_withdrawn_consent_stops_the_token_on_the_next_request(broker, data_api):
    from sqlalchemy import update

    from consent.models import ConsentGrant

    _, _, _, tokens = token_for(broker)
    assert get(data_api, QF, tokens["access_token"]).status_code == 200
    with broker.state.db.transaction() as s:
        s.exec(update(ConsentGrant).values(status="revoked"))
    error = assert_error(get(data_api, QF, tokens["access_token"]), 401, "00101")
    assert "consentement" in error["detail"]
