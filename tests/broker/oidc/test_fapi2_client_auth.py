"""Client authentication of FAPI 2.0 clients (Security Profile §5.3.2.1, final): an assertion
signed with ES256 or PS256 only, whose only audience is the issuer identifier as a string; at
the token endpoint and at the pushed authorization request endpoint alike. Other clients keep
the broker's wider rules (RFC 7523 §3, RFC 9126 §2)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
from joserfc.jwk import RSAKey

from broker.oidc import par
from broker.oidc.authorize import NeedsInteraction, authorize, issue_code
from broker.oidc.request import HttpRequestData
from tests.broker.oidc.kit import (
    ISSUER,
    TOKEN_ENDPOINT,
    AuthorizationRequest,
    OidcKit,
    RegisteredClient,
    assertion_auth,
    citizen_session,
    client_assertion,
    http_request,
    query,
)
from tests.broker.oidc.memory import client_signing_key, now
from tests.broker.oidc.test_rfc9126_par import PAR_ENDPOINT, MemoryPushedRequests, at_authorize


@cache
def rsa_signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rp-rsa-1"}, private=True)


def fapi2_client(kit: OidcKit) -> RegisteredClient:
    """A FAPI 2.0 client with an EC and an RSA key (each verifies what it signed). Its tokens
    are not DPoP-bound here: these tests are about client authentication alone."""
    jwks = {
        "keys": [
            client_signing_key().as_dict(private=False),
            rsa_signing_key().as_dict(private=False),
        ]
    }
    return kit.register(
        "service-f",
        "private_key_jwt",
        jwks=jwks,
        profile="fapi2",
        require_pushed_authorization_requests=True,
    )


def assertion(client: RegisteredClient, alg: str = "ES256", **options) -> str:
    key = client_signing_key() if alg.startswith("ES") else rsa_signing_key()
    kid = "rp-key-1" if alg.startswith("ES") else "rp-rsa-1"
    options.setdefault("audience", ISSUER)
    return client_assertion(client.client_id, key, alg=alg, kid=kid, **options)


def push_with(kit: OidcKit, client: RegisteredClient, signed: str):
    form, _ = assertion_auth(signed)
    params = AuthorizationRequest(client).params()
    http = http_request("POST", PAR_ENDPOINT, {**form, **params})
    return par.push(kit.server(), http, MemoryPushedRequests(), now())


def redeem_with(kit: OidcKit, client: RegisteredClient, signed: str):
    """A token request authenticated by ``signed`` (the code is irrelevant: client
    authentication comes first and decides alone)."""
    return kit.token(
        {"grant_type": "authorization_code", "code": "x", "redirect_uri": client.redirect_uri},
        assertion_auth(signed),
    )


def pushed_code(kit: OidcKit, client: RegisteredClient) -> str:
    """A code obtained the FAPI 2.0 way: pushed, then /authorize with the request_uri."""
    store = MemoryPushedRequests()
    form, _ = assertion_auth(assertion(client))
    params = AuthorizationRequest(client).params()
    http = http_request("POST", PAR_ENDPOINT, {**form, **params})
    request_uri = par.push(kit.server(), http, store, now()).body["request_uri"]
    resolved = par.resolve(kit.server(), at_authorize(client.client_id, request_uri), store, now())
    assert isinstance(resolved, HttpRequestData)
    session = citizen_session()
    outcome = authorize(kit.server(), resolved, session, lambda *_: None, now(), pushed=True)
    assert isinstance(outcome, NeedsInteraction), outcome
    location = issue_code(kit.server(), outcome.params, session, outcome.params["scope"], None)
    return query(location)["code"]


def assert_invalid_client(response) -> None:
    assert response.status in (400, 401), response.body
    assert response.body["error"] == "invalid_client", response.body


@pytest.mark.parametrize("alg", ["ES256", "PS256"])
def test_profile_algorithms_are_accepted(kit, alg):
    client = fapi2_client(kit)
    assert push_with(kit, client, assertion(client, alg)).status == 201


@pytest.mark.parametrize("alg", ["RS256", "PS384", "RS512"])
def test_attack_other_algorithms_are_refused_though_the_key_verifies(kit, alg):
    client = fapi2_client(kit)
    assert_invalid_client(push_with(kit, client, assertion(client, alg)))
    assert_invalid_client(redeem_with(kit, client, assertion(client, alg)))


def test_ordinary_client_may_still_sign_with_rs256(kit):
    rsa = kit.register("service-r", "private_key_jwt", jwks={"keys": [rsa_signing_key().as_dict()]})
    signed = client_assertion(rsa.client_id, rsa_signing_key(), alg="RS256", kid="rp-rsa-1")
    assert push_with(kit, rsa, signed).status == 201


@pytest.mark.parametrize(
    "audience",
    [
        pytest.param(TOKEN_ENDPOINT, id="token-endpoint"),
        pytest.param(PAR_ENDPOINT, id="par-endpoint"),
        pytest.param([ISSUER], id="issuer-in-an-array"),
        pytest.param([ISSUER, "https://other.example"], id="issuer-among-others"),
        pytest.param(ISSUER + "/", id="issuer-with-a-slash"),
    ],
)
def test_attack_audience_other_than_the_issuer_string(kit, audience):
    """The audience injection attack (2025) that made the final profile accept only the
    issuer: an assertion a client made for another endpoint is not accepted here."""
    client = fapi2_client(kit)
    assert_invalid_client(push_with(kit, client, assertion(client, audience=audience)))
    assert_invalid_client(redeem_with(kit, client, assertion(client, audience=audience)))


def test_issuer_audience_passes_client_authentication_at_the_token_endpoint(kit):
    """Authenticated: the request fails further on, on its (made-up) code."""
    client = fapi2_client(kit)
    response = redeem_with(kit, client, assertion(client))
    assert response.body["error"] != "invalid_client", response.body


def test_ordinary_client_keeps_accepting_the_token_endpoint_audience(kit):
    signed = client_assertion(kit.jwt.client_id, kit.jwt.key, audience=TOKEN_ENDPOINT)
    response = redeem_with(kit, kit.jwt, signed)
    assert response.body["error"] != "invalid_client", response.body


def test_attack_fapi2_assertion_replayed(kit):
    client = fapi2_client(kit)
    signed = assertion(client)
    assert push_with(kit, client, signed).status == 201
    assert_invalid_client(push_with(kit, client, signed))


def test_attack_fapi2_client_with_a_secret(kit):
    """A secret authenticates no FAPI 2.0 client, whatever else it sends."""
    client = fapi2_client(kit)
    client.client.secret_digest = kit.basic.client.secret_digest
    form = {"client_id": client.client_id, "client_secret": kit.basic.secret}
    http = http_request("POST", PAR_ENDPOINT, {**form, **AuthorizationRequest(client).params()})
    assert_invalid_client(par.push(kit.server(), http, MemoryPushedRequests(), now()))


def test_fapi2_codes_live_at_most_a_minute(kit):
    """§5.3.2.1: whatever the deployment's code lifetime."""
    kit.config = replace(kit.config, code_ttl=300)
    client = fapi2_client(kit)
    fapi2_code = kit.store.code(pushed_code(kit, client))
    other_code = kit.store.code(kit.obtain_code(kit.basic).code)
    assert fapi2_code.expires_at - now() in (59, 60)
    assert other_code.expires_at - now() in (299, 300)


def test_fapi2_request_uri_lives_less_than_600_seconds(kit):
    """§5.3.2.2, whatever the deployment's setting."""
    kit.config = replace(kit.config, pushed_request_ttl=600)
    client = fapi2_client(kit)
    response = push_with(kit, client, assertion(client))
    assert response.status == 201 and response.body["expires_in"] < 600
