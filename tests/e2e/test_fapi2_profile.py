"""The FAPI 2.0 Security Profile (final) for clients registered with ``--profile fapi2``, over
real HTTP: one test (at least) per requirement of §5.3.2 "Requirements for authorization
servers" that applies to the broker, each trying to break it. The requirement is named in each
test's docstring (5.3.2.1-n: general requirements, item n; 5.3.2.2-n: authorization endpoint
flows, item n)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from broker.admin.clients import AdminError, ClientRegistration, add_client
from broker.oidc.dpop import token_hash
from tests.e2e.test_par import (
    assert_invalid_request_uri,
    assertion_form,
    authorize_pushed,
    follow,
    pushed_uri,
)
from tests.flow_state_edits import rewrite_code, stored_code
from tests.helpers import AuthorizationRequest, Browser, RegisteredClient, query, register_client
from tests.servers import start_server

NONCE_64 = "n" * 64


@dataclass
class Fapi2Client:
    registered: RegisteredClient
    key: ECKey  # signs its client assertions
    dpop_key: ECKey  # its DPoP key

    @property
    def client_id(self) -> str:
        return self.registered.client_id

    @property
    def redirect_uri(self) -> str:
        return self.registered.redirect_uri


def fapi2_client(broker, **kwargs: Any) -> Fapi2Client:
    key = ECKey.generate_key("P-256", parameters={"kid": "fapi-1"}, private=True)
    jwks = kwargs.pop("jwks", {"keys": [key.as_dict(private=False)]})
    registered = register_client(
        broker.state, auth_method="private_key_jwt", jwks=jwks, profile="fapi2", **kwargs
    )
    return Fapi2Client(registered, key, ECKey.generate_key("P-256", private=True))


def dpop_proof(key: ECKey, htu: str, htm: str = "POST", **claims: Any) -> str:
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    payload = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(time.time())}
    return jwt.encode(header, {**payload, **claims}, key, algorithms=["ES256"])


def push(broker, client: Fapi2Client, params: dict[str, str], **auth: Any) -> httpx.Response:
    """POST /par, authenticated with an assertion (``auth``: assertion_form's options)."""
    auth.setdefault("audience", broker.url)
    form = assertion_form(client.client_id, client.key, auth.pop("audience"), **auth)
    return httpx.post(f"{broker.url}/par", data={**params, **form}, timeout=10)


def request_for(client: Fapi2Client, **extra: str) -> AuthorizationRequest:
    return AuthorizationRequest(client.registered, nonce=NONCE_64, extra=extra)


def sign_in(broker, client: Fapi2Client, request: AuthorizationRequest) -> dict[str, str]:
    request_uri = pushed_uri(push(broker, client, request.params()))
    browser = Browser(broker.url)
    return follow(
        browser, authorize_pushed(browser, client.client_id, request_uri), client.redirect_uri
    )


def redeem(
    broker, client: Fapi2Client, code: str, verifier: str, proof: str | None = "make"
) -> httpx.Response:
    """The token request, with a DPoP proof made with the client's key unless told."""
    headers = {}
    if proof == "make":
        proof = dpop_proof(client.dpop_key, f"{broker.url}/token")
    if proof is not None:
        headers["DPoP"] = proof
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client.redirect_uri,
        "code_verifier": verifier,
        **assertion_form(client.client_id, client.key, broker.url),
    }
    return httpx.post(f"{broker.url}/token", data=data, headers=headers, timeout=10)


def unverified_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def assert_error(response: httpx.Response, error: str, statuses=(400,)) -> None:
    assert response.status_code in statuses, response.text
    assert response.json()["error"] == error, response.text


# --- The whole flow -------------------------------------------------------------------------------


def test_fapi2_flow(broker):
    """5.3.2.2-2 (PAR), -7 (iss), -11 (303), -14 (a 64-character nonce), 5.3.2.1-4/5 (DPoP)."""
    client = fapi2_client(broker)
    request = request_for(client)
    request_uri = pushed_uri(push(broker, client, request.params()))
    browser = Browser(broker.url)
    first = authorize_pushed(browser, client.client_id, request_uri)
    assert first.status_code == 303
    received = follow(browser, first, client.redirect_uri)
    assert received["iss"] == broker.url and received["state"] == request.state

    tokens = redeem(broker, client, received["code"], request.verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert unverified_claims(body["id_token"])["nonce"] == NONCE_64
    assert body["token_type"] == "DPoP"
    assert unverified_claims(body["access_token"])["cnf"]["jkt"] == client.dpop_key.thumbprint()


def test_fapi2_discovery(broker):
    """5.3.2.1-1: the metadata document says what a FAPI 2.0 client needs."""
    meta = httpx.get(f"{broker.url}/.well-known/openid-configuration").json()
    assert meta["issuer"] == broker.url
    assert meta["pushed_authorization_request_endpoint"] == f"{broker.url}/par"
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"ES256", "PS256"} <= set(meta["dpop_signing_alg_values_supported"])


# --- 5.3.2.1 General requirements -------------------------------------------------------------


def test_attack_fapi2_password_grant(broker):
    """5.3.2.1-2: the resource owner password credentials grant is refused."""
    client = fapi2_client(broker)
    data = {
        "grant_type": "password",
        "username": "test",
        "password": "123",
        **assertion_form(client.client_id, client.key, broker.url),
    }
    response = httpx.post(f"{broker.url}/token", data=data, timeout=10)
    assert_error(response, "unsupported_grant_type")


def test_attack_fapi2_as_a_public_client(broker):
    """5.3.2.1-3 and 5.3.2.2-4: no request without client authentication."""
    client = fapi2_client(broker)
    request = request_for(client)
    anonymous = httpx.post(f"{broker.url}/par", data=request.params(), timeout=10)
    assert_error(anonymous, "invalid_client", (400, 401))
    received = sign_in(broker, client, request)
    data = {
        "grant_type": "authorization_code",
        "code": received["code"],
        "redirect_uri": client.redirect_uri,
        "code_verifier": request.verifier,
        "client_id": client.client_id,
    }
    headers = {"DPoP": dpop_proof(client.dpop_key, f"{broker.url}/token")}
    token = httpx.post(f"{broker.url}/token", data=data, headers=headers, timeout=10)
    assert_error(token, "invalid_client", (400, 401))


def test_attack_fapi2_token_request_without_dpop_proof(broker):
    """5.3.2.1-4/5: only sender-constrained access tokens (DPoP): no proof, no token."""
    client = fapi2_client(broker)
    request = request_for(client)
    received = sign_in(broker, client, request)
    response = redeem(broker, client, received["code"], request.verifier, proof=None)
    assert response.status_code == 400, response.text
    assert response.json()["error"] in ("invalid_dpop_proof", "invalid_request")
    assert "access_token" not in response.json()


def test_fapi2_client_authenticates_with_private_key_jwt_only(state):
    """5.3.2.1-6: registration refuses any other method; a secret never authenticates one."""
    for method in ("client_secret_basic", "client_secret_post"):
        with pytest.raises(AdminError, match="private_key_jwt"), state.db.transaction() as s:
            add_client(
                s,
                ClientRegistration(
                    name="Banque",
                    redirect_uris=["https://service.example/cb"],
                    scope="openid profile",
                    auth_method=method,
                    profile="fapi2",
                ),
            )


def test_attack_fapi2_open_redirect(broker):
    """5.3.2.1-7: an unregistered redirect URI is answered, never redirected to."""
    client = fapi2_client(broker)
    params = request_for(client, redirect_uri="http://127.0.0.1:9/evil").params()
    at_par = push(broker, client, params)
    assert_error(at_par, "invalid_request")
    assert "location" not in at_par.headers
    page = Browser(broker.url).get("/authorize", params=params)
    assert page.status_code == 400 and "location" not in page.headers


@pytest.mark.parametrize(
    "audience",
    [
        pytest.param("{url}/token", id="token-endpoint"),
        pytest.param("{url}/par", id="par-endpoint"),
        pytest.param(["{url}"], id="issuer-in-an-array"),
    ],
)
def test_attack_fapi2_assertion_audience_other_than_the_issuer(broker, audience):
    """5.3.2.1-8 (final): only the issuer identifier, as a string, is the audience."""
    client = fapi2_client(broker)
    if isinstance(audience, list):
        audience = [a.format(url=broker.url) for a in audience]
    else:
        audience = audience.format(url=broker.url)
    request = request_for(client)
    assert_error(
        push(broker, client, request.params(), audience=audience), "invalid_client", (400, 401)
    )
    received = sign_in(broker, client, request)
    data = {
        "grant_type": "authorization_code",
        "code": received["code"],
        "redirect_uri": client.redirect_uri,
        "code_verifier": request.verifier,
        **assertion_form(client.client_id, client.key, audience),
    }
    headers = {"DPoP": dpop_proof(client.dpop_key, f"{broker.url}/token")}
    token = httpx.post(f"{broker.url}/token", data=data, headers=headers, timeout=10)
    assert_error(token, "invalid_client", (400, 401))
    # Authenticated as the profile says, the same code is still good.
    assert redeem(broker, client, received["code"], request.verifier).status_code == 200


def test_attack_fapi2_assertion_signed_with_rs256(broker):
    """5.4.1 and the client profile: ES256 or PS256 only, though an RS256 signature verifies."""
    ec = ECKey.generate_key("P-256", parameters={"kid": "fapi-ec"}, private=True)
    rsa = RSAKey.generate_key(2048, parameters={"kid": "fapi-rsa"}, private=True)
    jwks = {"keys": [ec.as_dict(private=False), rsa.as_dict(private=False)]}
    client = fapi2_client(broker, jwks=jwks)
    client.key = rsa
    params = request_for(client).params()
    assert_error(push(broker, client, params, alg="RS256"), "invalid_client", (400, 401))
    assert push(broker, client, params, alg="PS256").status_code == 201


def test_fapi2_codes_live_at_most_60_seconds(settings_factory):
    """5.3.2.1-12: whatever BROKER_CODE_TTL says; a code past its minute is refused."""
    with start_server(lambda issuer: settings_factory(issuer, code_ttl=120)) as broker:
        client = fapi2_client(broker)
        ordinary = register_client(broker.state, name="Mairie")
        request = request_for(client)
        before = int(time.time())
        received = sign_in(broker, client, request)
        after = int(time.time())
        assert stored_code(broker.state, received["code"]).expires_at <= after + 60
        other = AuthorizationRequest(ordinary)
        other_code = Browser(broker.url).sign_in(other)["code"]
        assert stored_code(broker.state, other_code).expires_at >= before + 120
        # The clock: the fapi2 code's minute has passed.
        rewrite_code(broker.state, received["code"], expires_at=int(time.time()))
        late = redeem(broker, client, received["code"], request.verifier)
        assert_error(late, "invalid_grant")


def test_attack_fapi2_code_not_bound_to_the_pushed_dpop_key(broker):
    """5.3.2.1-13: authorization code binding to a DPoP key (RFC 9449 §10): the code of a
    request pushed with dpop_jkt is redeemed only with that key."""
    client = fapi2_client(broker)
    request = request_for(client, dpop_jkt=client.dpop_key.thumbprint())
    received = sign_in(broker, client, request)
    thief_key = ECKey.generate_key("P-256", private=True)
    stolen = redeem(
        broker,
        client,
        received["code"],
        request.verifier,
        dpop_proof(thief_key, f"{broker.url}/token"),
    )
    assert stolen.status_code == 400 and stolen.json()["error"] in (
        "invalid_grant",
        "invalid_dpop_proof",
    )
    assert "access_token" not in stolen.json()


@pytest.mark.parametrize(("offset", "accepted"), [(10, True), (61, False)])
def test_fapi2_assertion_issued_in_the_future(broker, offset, accepted):
    """5.3.2.1-14: iat up to 10 s ahead is accepted, more than 60 s ahead refused."""
    client = fapi2_client(broker)
    iat = int(time.time()) + offset
    claims = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": broker.url,
        "jti": secrets.token_urlsafe(12),
        "iat": iat,
        "exp": iat + 60,
    }
    signed = jwt.encode({"alg": "ES256", "kid": "fapi-1"}, claims, client.key, algorithms=["ES256"])
    form = {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": signed,
    }
    response = httpx.post(f"{broker.url}/par", data={**request_for(client).params(), **form})
    assert (response.status_code == 201) is accepted, response.text


# --- 5.3.2.2 Authorization endpoint flows -----------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="5.3.2.2-1"),
        pytest.param({"code_challenge": None}, "invalid_request", id="5.3.2.2-5-no-pkce"),
        pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="5.3.2.2-5-plain"),
        pytest.param({"redirect_uri": None}, "invalid_request", id="5.3.2.2-6"),
        pytest.param({"response_mode": "fragment"}, "invalid_request", id="query-only"),
        pytest.param({"response_mode": "form_post"}, "invalid_request", id="no-form-post"),
    ],
)
def test_attack_fapi2_pushed_request_breaking_the_profile(broker, extra, error):
    """5.3.2.2-1 (code only), -5 (PKCE S256), -6 (redirect_uri required when pushing), and
    the query response mode only."""
    client = fapi2_client(broker)
    params = {k: v for k, v in {**request_for(client).params(), **extra}.items() if v is not None}
    assert_error(push(broker, client, params), error)


def test_attack_fapi2_authorization_request_without_par(broker):
    """5.3.2.2-3: an authorization request sent without PAR is refused (iss included)."""
    client = fapi2_client(broker)
    response = Browser(broker.url).authorize(request_for(client))
    assert response.status_code == 303
    assert response.headers["location"].startswith(client.redirect_uri)
    received = query(response.headers["location"])
    assert received["error"] == "invalid_request" and received["iss"] == broker.url


def test_fapi2_redirect_uris_are_https_or_loopback(state):
    """5.3.2.2-8: no plain http redirect URI but loopback."""
    with pytest.raises(AdminError, match="plain http"), state.db.transaction() as s:
        add_client(
            s,
            ClientRegistration(
                name="Banque",
                redirect_uris=["http://service.example/cb"],
                scope="openid profile",
                auth_method="private_key_jwt",
                jwks={"keys": [ECKey.generate_key("P-256").as_dict(private=False)]},
                profile="fapi2",
            ),
        )


def test_attack_fapi2_code_replayed(broker):
    """5.3.2.2-9: a code used once is refused."""
    client = fapi2_client(broker)
    request = request_for(client)
    received = sign_in(broker, client, request)
    assert redeem(broker, client, received["code"], request.verifier).status_code == 200
    assert_error(redeem(broker, client, received["code"], request.verifier), "invalid_grant")


def test_attack_fapi2_request_uri_replayed(broker):
    """RFC 9126 one-time use (the profile's NOTE 3)."""
    client = fapi2_client(broker)
    request_uri = pushed_uri(push(broker, client, request_for(client).params()))
    assert authorize_pushed(Browser(broker.url), client.client_id, request_uri).status_code == 303
    assert_invalid_request_uri(authorize_pushed(Browser(broker.url), client.client_id, request_uri))


def test_fapi2_request_uri_lives_less_than_600_seconds(settings_factory):
    """5.3.2.2-12, whatever BROKER_PUSHED_REQUEST_TTL says."""
    with start_server(lambda issuer: settings_factory(issuer, pushed_request_ttl=600)) as broker:
        client = fapi2_client(broker)
        body = push(broker, client, request_for(client).params()).json()
        assert body["expires_in"] < 600


def test_fapi2_authorization_endpoint_offers_no_cors(broker):
    """5.3.1.3: no CORS at the authorization endpoint."""
    client = fapi2_client(broker)
    request_uri = pushed_uri(push(broker, client, request_for(client).params()))
    response = authorize_pushed(Browser(broker.url), client.client_id, request_uri)
    assert "access-control-allow-origin" not in response.headers
    origin = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    preflight = httpx.options(f"{broker.url}/authorize", headers=origin)
    assert "access-control-allow-origin" not in preflight.headers


# --- The profile's DPoP algorithms at /par and at the resources (5.4.1) --------------------------

QF_PATH = "/dss/quotient_familial/france_connect"
QF_SCOPE = "openid profile cnaf_quotient_familial cnaf_enfants"


def rsa_proof(key: RSAKey, alg: str, htu: str, htm: str = "POST", **claims: Any) -> str:
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False)}
    payload = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(time.time())}
    return jwt.encode(header, {**payload, **claims}, key, algorithms=[alg])


def test_attack_fapi2_push_with_an_rs256_dpop_proof(broker):
    """5.4.1: a FAPI 2.0 client's proofs are signed with PS256, ES256 or EdDSA, at /par too."""
    client = fapi2_client(broker)
    rsa = RSAKey.generate_key(2048, private=True)
    form = {
        **request_for(client).params(),
        **assertion_form(client.client_id, client.key, broker.url),
    }
    for alg, expected in (("RS256", 400), ("PS256", 201)):
        proof = rsa_proof(rsa, alg, f"{broker.settings.issuer_url}/par")
        pushed = httpx.post(f"{broker.url}/par", data=form, headers={"DPoP": proof}, timeout=10)
        assert pushed.status_code == expected, pushed.text
        if expected == 400:
            assert pushed.json()["error"] == "invalid_dpop_proof"
            assert "FAPI" in pushed.json()["error_description"]
        form = {**form, **assertion_form(client.client_id, client.key, broker.url)}


def test_attack_fapi2_token_presented_with_an_rs256_proof_at_the_resources(broker, data_api):
    """5.4.1 at userinfo and at the data API: the token of a FAPI 2.0 client, bound to an RSA
    key, is refused with a proof signed RS256 by that very key, and accepted with PS256."""
    client = fapi2_client(broker, scope=QF_SCOPE)
    rsa = RSAKey.generate_key(2048, private=True)
    issuer = broker.settings.issuer_url
    request = request_for(client)
    received = sign_in(broker, client, request)
    proof = rsa_proof(rsa, "PS256", f"{issuer}/token")
    tokens = redeem(broker, client, received["code"], request.verifier, proof)
    assert tokens.status_code == 200, tokens.text
    token = tokens.json()["access_token"]
    ath = token_hash(token)
    resources = (
        (f"{broker.url}/userinfo", f"{issuer}/userinfo"),
        (f"{data_api.url}/v3{QF_PATH}", f"{broker.settings.resource_server_audience}/v3{QF_PATH}"),
    )
    for address, htu in resources:
        for alg, expected in (("RS256", 401), ("PS256", 200)):
            headers = {
                "Authorization": f"DPoP {token}",
                "DPoP": rsa_proof(rsa, alg, htu, "GET", ath=ath),
            }
            response = httpx.get(address, headers=headers, timeout=10)
            assert response.status_code == expected, (address, alg, response.text)
            if expected == 401:
                challenge = response.headers["www-authenticate"]
                assert challenge.startswith('DPoP error="invalid_dpop_proof"'), challenge
                assert "FAPI 2.0" in challenge
