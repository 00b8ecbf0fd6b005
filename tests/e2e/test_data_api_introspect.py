"""``GET /v3/introspect`` over real HTTP: an API key, a citizen's access token, a DPoP-bound
token with its proof, a token whose habilitation ended or whose consent was withdrawn; and
every 403 linking it."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from broker.admin.habilitations import revoke_habilitation
from broker.resources.resource_metadata import metadata_url
from consent.models import ConsentGrant
from tests.e2e.data_api_support import (
    DINUM,
    access_token,
    api_key,
    assert_error,
    call,
    live_broker,
    live_data_api,
    route,
)
from tests.e2e.test_dpop import DpopClient, bound_tokens
from tests.helpers import register_client

QF = "dss/quotient_familial"
QF_SCOPE = "cnaf_quotient_familial cnaf_enfants"
LOGIN = "nom_composé"


@pytest.fixture(scope="module")
def shared_broker(db_factory, tmp_path_factory, demo_idp):
    with live_broker(db_factory, tmp_path_factory.mktemp("var"), demo_idp) as server:
        yield server


@pytest.fixture(scope="module")
def api(shared_broker, simulators):
    with live_data_api(shared_broker, simulators) as server:
        yield server


def introspect(api, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(f"{api.url}/v3/introspect", headers=headers or {}, timeout=10)


def routes_of(described: dict) -> set[str]:
    return {r for product in described["products"] for r in product["routes"]}


def test_an_api_key_holder_lists_its_rights(shared_broker, api):
    key = api_key(shared_broker, QF_SCOPE)
    response = introspect(api, {"X-Api-Key": key.secret})
    assert response.status_code == 200, response.text
    described = response.json()
    assert described["_id"] == key.id and described["scopes"] == sorted(QF_SCOPE.split())
    assert described["habilitation"]["id"] == key.habilitation_id
    assert described["habilitation"]["status"] == "active"
    assert described["allowed_recipients"] == [DINUM] and described["recipient_required"]
    assert route(QF, "identite") in routes_of(described)
    assert route(QF, "france_connect") not in routes_of(described)
    # What it lists is what the key gets: past the rights, to the parameters (none sent).
    listed = call(api, route(QF, "identite"), key.secret, header="x-api-key")
    assert listed.status_code == 422, listed.text


def test_a_token_holder_lists_its_rights(shared_broker, api):
    token = access_token(shared_broker, LOGIN, QF_SCOPE)
    response = introspect(api, {"Authorization": f"Bearer {token.access_token}"})
    assert response.status_code == 200, response.text
    described = response.json()
    now = int(time.time())
    assert described["credential"]["type"] == "access_token"
    assert described["credential"]["client_id"] == token.client_id
    assert described["credential"]["dpop_bound"] is False
    assert now < described["credential"]["expires_at"] <= now + 3600
    assert described["recipient_required"] is False
    assert routes_of(described) >= {route(QF, "france_connect")}
    assert all(r.endswith("/france_connect") for r in routes_of(described))


def test_every_403_links_the_rights(shared_broker, api):
    token = access_token(shared_broker, LOGIN, QF_SCOPE)
    refused = call(api, route("cnous/etudiant_boursier", "france_connect"), token.access_token)
    error = assert_error(refused, 403, "00100")
    link = shared_broker.settings.resource_server_audience + "/v3/introspect"
    assert error["meta"]["introspect"] == link and link in error["detail"]


def test_a_dpop_bound_token_introspects_with_a_proof_of_this_call(shared_broker, api):
    client = register_client(shared_broker.state, name="CCAS DPoP", scope="openid " + QF_SCOPE)
    dpop = DpopClient()
    tokens = bound_tokens(shared_broker, client, dpop)
    token = tokens["access_token"]
    htu = shared_broker.settings.resource_server_audience + "/v3/introspect"
    proof = dpop.proof("GET", htu, access_token=token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    answered = introspect(api, headers)
    assert answered.status_code == 200, answered.text
    assert answered.json()["credential"]["dpop_bound"] is True
    replayed = introspect(api, headers)
    assert replayed.status_code == 401
    assert 'error="invalid_dpop_proof"' in replayed.headers["www-authenticate"]
    as_bearer = introspect(api, {"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401
    elsewhere = dpop.proof("GET", htu.replace("/v3/", "/v4/"), access_token=token)
    wrong_htu = introspect(api, {"Authorization": f"DPoP {token}", "DPoP": elsewhere})
    assert wrong_htu.status_code == 401


def test_a_token_whose_habilitation_ended_is_told_so(shared_broker, api):
    token = access_token(shared_broker, LOGIN, QF_SCOPE, service="Service révoqué")
    with shared_broker.state.db.transaction() as session:
        described = introspect(api, {"Authorization": f"Bearer {token.access_token}"}).json()
        revoke_habilitation(session, described["habilitation"]["id"])
    after = introspect(api, {"Authorization": f"Bearer {token.access_token}"})
    assert after.status_code == 200, after.text
    assert after.json()["habilitation"]["status"] == "revoked"
    assert after.json()["products"] == []


def test_attack_introspection_with_a_bad_or_withdrawn_credential(shared_broker, api):
    token = access_token(shared_broker, LOGIN, QF_SCOPE, service="Service retiré")
    with shared_broker.state.db.transaction() as session:
        session.exec(
            update(ConsentGrant)
            .where(col(ConsentGrant.client_id) == token.client_id)
            .values(status="revoked")
        )
    for headers in (
        {},
        {"Authorization": f"Bearer {token.access_token}"},  # consent withdrawn
        {"Authorization": f"Bearer {token.access_token[:-4]}AAAA"},  # signature broken
        {"X-Api-Key": "bpk_" + "0" * 40},
    ):
        refused = introspect(api, headers)
        assert refused.status_code == 401, (headers, refused.text)
        assert set(refused.json()) == {"errors"}
        assert "resource_metadata=" in refused.headers["www-authenticate"]


def test_attack_token_for_another_resource(shared_broker, simulators):
    """The data API accepts exactly its own URL as the audience: a token issued for the data
    API at BROKER_DATA_API_URL is refused by one published elsewhere, the old ``…/v3``
    audience included."""
    token = access_token(shared_broker, LOGIN, QF_SCOPE, service="Service audience")
    bearer = {"Authorization": f"Bearer {token.access_token}"}
    own = shared_broker.settings.resource_server_audience
    for elsewhere in (f"{own}/v3", "https://other-api.example"):
        with live_data_api(shared_broker, simulators, data_api_url=elsewhere) as other:
            refused = introspect(other, bearer)
            assert refused.status_code == 401, refused.text
            challenge = refused.headers["www-authenticate"]
            assert challenge.startswith('Bearer error="invalid_token"')
            # The refusal points at the metadata naming the resource this API serves.
            assert f'resource_metadata="{metadata_url(elsewhere)}"' in challenge
            path = urlsplit(metadata_url(elsewhere)).path
            metadata = httpx.get(f"{other.url}{path}", timeout=10)
            assert metadata.json()["resource"] == elsewhere
            product = call(other, route(QF, "france_connect"), token.access_token, recipient=None)
            assert product.status_code == 401
