"""The demo agents' identity provider ("Identité agents (démo)", the demo's ProConnect): its
own issuer, keys and accounts (the test agents, listed on its login page), ProConnect's claims;
the citizens' providers know nothing of the agents, nor it of the citizens."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from litestar.testing import TestClient

from broker.core.settings import Settings
from broker.demo.accounts import DEMO_ACCOUNTS
from broker.demo.agents import AGENTS, OPERATOR_SIRET, VILLEBOURG, VILLEBOURG_SIRET
from broker.demo.idp import DemoIdpOptions, create_demo_idp_app
from broker.demo.idp.accounts import DemoAccounts
from broker.demo.idp.registration import portal_as_client
from broker.demo.idp.sites import SITES
from broker.resources.params import valid_siret
from tests.broker.demo.idp.test_demo_idp import CSRF, exchange
from tests.helpers import pkce_pair

BASE = "http://testserver.local"
SITE = "agents-demo"
PORTAL = "https://portail.example"
SCOPE = "openid email given_name usual_name siret organizational_unit"
CITIZENS = DemoAccounts(DEMO_ACCOUNTS, "benchmark")
AGENT_ACCOUNTS = DemoAccounts(AGENTS, "benchmark")
SETTINGS = Settings(
    key_encryption_secret="test-secret-for-the-agents-provider-0123456789",
    issuer="http://127.0.0.1:8000",
    portal_url=PORTAL,
)


@pytest.fixture
def idp():
    options = DemoIdpOptions(base_url=BASE)
    options.register(portal_as_client(SETTINGS))
    with TestClient(create_demo_idp_app(options, CITIZENS, AGENT_ACCOUNTS), base_url=BASE) as c:
        yield c


def login(idp, login: str, password: str = "agent123", site: str = SITE):
    verifier, challenge = pkce_pair()
    page = idp.get(
        f"/{site}/authorize",
        params={
            "response_type": "code",
            "client_id": SETTINGS.portal_idp_client_id,
            "redirect_uri": f"{PORTAL}/connexion/retour",
            "scope": SCOPE,
            "state": "st",
            "nonce": "no",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        follow_redirects=False,
    )
    response = idp.post(
        f"/{site}/login",
        data={"csrf_token": CSRF.search(page.text).group(1), "login": login, "password": password},
        follow_redirects=False,
    )
    return page, response, verifier


def test_the_agents_provider_has_its_own_issuer_scopes_and_keys(idp):
    metadata = idp.get(f"/{SITE}/.well-known/openid-configuration").json()
    assert metadata["issuer"] == f"{BASE}/{SITE}"
    assert set(SCOPE.split()) <= set(metadata["scopes_supported"])
    assert "birthdate" not in metadata["claims_supported"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    own = {k["kid"] for k in idp.get(f"/{SITE}/jwks").json()["keys"]}
    citizens = {k["kid"] for k in idp.get("/identite-demo/jwks").json()["keys"]}
    assert own and not own & citizens
    assert SITE not in SITES  # the broker does not register it for citizens


def test_the_login_page_lists_the_test_agents_not_the_citizens(idp):
    page, _, _ = login(idp, "nobody", "wrong")
    for agent in AGENTS:
        assert f"<code>{agent.login}</code>" in page.text
    assert VILLEBOURG in page.text
    assert "<code>test</code>" not in page.text  # the first test citizen


def test_an_agent_signs_in_with_proconnect_claims(idp):
    villebourg = next(a for a in AGENTS if a.siret == VILLEBOURG_SIRET)
    _, response, verifier = login(idp, villebourg.login)
    assert response.status_code == 303
    received = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    assert received["iss"] == f"{BASE}/{SITE}"
    token = exchange(
        idp,
        received["code"],
        verifier,
        site=SITE,
        redirect=f"{PORTAL}/connexion/retour",
        basic=(SETTINGS.portal_idp_client_id, SETTINGS.portal_client_secret),
    ).json()
    keys = KeySet.import_key_set(idp.get(f"/{SITE}/jwks").json())
    claims = jwt.decode(token["id_token"], keys, algorithms=["ES256"]).claims
    assert claims["acr"] == "eidas1" and claims["exp"] > time.time()
    info = idp.get(
        f"/{SITE}/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert info.json() == {
        "sub": claims["sub"],
        "email": villebourg.email,
        "given_name": villebourg.given_name,
        "usual_name": villebourg.usual_name,
        "siret": VILLEBOURG_SIRET,
        "organizational_unit": VILLEBOURG,
    }


def test_citizens_cannot_sign_in_at_the_agents_provider_nor_agents_at_the_citizens(idp):
    _, citizen, _ = login(idp, "test", "123")
    assert citizen.status_code == 401
    _, agent, _ = login(idp, AGENTS[0].login, site="identite-demo")
    assert agent.status_code == 401


def test_the_portal_is_registered_with_its_callback_and_a_derived_secret():
    client = portal_as_client(SETTINGS)
    assert client.redirect_uris == {f"{PORTAL}/connexion/retour"}
    assert client.post_logout_redirect_uris == {f"{PORTAL}/deconnexion/terminee"}
    assert client.client_secret == SETTINGS.portal_client_secret  # both sides derive it
    assert len(client.client_secret) == 64
    other = SETTINGS.model_copy(update={"portal_idp_client_id": "another-portal"})
    assert portal_as_client(other).client_secret != client.client_secret


def test_there_is_a_test_agent_for_every_role():
    roles = {role for agent in AGENTS for role, _ in agent.roles}
    assert roles == {"instructor", "administrator", "data_provider"}
    providers = {provider for agent in AGENTS for role, provider in agent.roles if provider}
    assert providers == {"cnaf", "cnous"}
    sirets = {agent.siret for agent in AGENTS}
    assert {VILLEBOURG_SIRET, "20005478900017", OPERATOR_SIRET} <= sirets
    assert all(valid_siret(agent.siret) for agent in AGENTS)
    instructor = next(a for a in AGENTS if ("instructor", "") in a.roles)
    assert instructor.siret  # an instructor who can file requests (and must not approve them)
    assert len({agent.login for agent in AGENTS}) == len(AGENTS)
    assert len({agent.email for agent in AGENTS}) == len(AGENTS)
