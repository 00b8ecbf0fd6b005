"""Pushed authorization requests (RFC 9126) on the protocol core: the push (§2: client
authentication as at the token endpoint, the request checked as /authorize checks it, a
single-use short-lived ``request_uri``), its use at /authorize (§4: the pushed parameters only,
for the client that pushed them), and clients required to push (§6)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from broker.core.security import digest
from broker.oidc import par
from broker.oidc.authorize import ErrorPage, NeedsInteraction, authorize
from broker.oidc.request import HttpRequestData
from broker.oidc.server import ProtocolResponse
from tests.broker.oidc.kit import (
    AUTHORIZATION_ENDPOINT,
    ISSUER,
    TOKEN_ENDPOINT,
    AuthorizationRequest,
    OidcKit,
    RegisteredClient,
    assertion_auth,
    basic_auth,
    citizen_session,
    client_assertion,
    credentials,
    http_request,
    redirect_params,
)
from tests.broker.oidc.memory import now

PAR_ENDPOINT = f"{ISSUER}/par"


@dataclass
class PushedRow:
    client_id: str
    params: dict[str, str]
    expires_at: int
    used_at: int | None = None


@dataclass
class MemoryPushedRequests:
    """``par.PushedRequests`` in memory, with the SQL store's rules."""

    rows: dict[str, PushedRow] = field(default_factory=dict)

    def save(self, uri_digest, client_id, params, created_at, expires_at) -> None:
        assert uri_digest not in self.rows
        self.rows[uri_digest] = PushedRow(client_id, dict(params), expires_at)

    def consume(self, uri_digest, client_id, now) -> dict[str, str] | None:
        row = self.rows.get(uri_digest)
        if row is None or row.client_id != client_id or row.used_at is not None:
            return None
        if row.expires_at <= now:
            return None
        row.used_at = now
        return dict(row.params)


@pytest.fixture
def pushed() -> MemoryPushedRequests:
    return MemoryPushedRequests()


def push(
    kit: OidcKit,
    store: MemoryPushedRequests,
    client: RegisteredClient,
    params: dict[str, Any] | None = None,
    auth: tuple[dict[str, str], dict[str, str]] | None = None,
) -> ProtocolResponse:
    params = AuthorizationRequest(client).params() if params is None else params
    form, headers = credentials(client) if auth is None else auth
    http = http_request("POST", PAR_ENDPOINT, {**form, **params}, headers)
    return par.push(kit.server(), http, store, now())


def at_authorize(client_id: str, request_uri: str, **query: str) -> HttpRequestData:
    return http_request(
        "GET", AUTHORIZATION_ENDPOINT, {"client_id": client_id, "request_uri": request_uri, **query}
    )


def resolve(kit, store, http, at: int | None = None):
    return par.resolve(kit.server(), http, store, now() if at is None else at)


def assert_error(response: ProtocolResponse, error: str, status: int | None = None) -> None:
    """An OAuth error in JSON: 400, or 400 or 401 for invalid_client (RFC 6749 §5.2)."""
    allowed = (status,) if status else (400, 401) if error == "invalid_client" else (400,)
    assert response.status in allowed, response.body
    assert response.body["error"] == error, response.body
    assert response.location is None  # never a redirect from the push
    assert "request_uri" not in response.body


# --- The push (§2) -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["basic", "post", "jwt"])
def test_push_with_each_authentication_method(kit, pushed, name):
    client = getattr(kit, name)
    response = push(kit, pushed, client)
    assert response.status == 201, response.body
    request_uri = response.body["request_uri"]
    assert request_uri.startswith("urn:ietf:params:oauth:request_uri:")
    assert len(request_uri.removeprefix(par.REQUEST_URI_PREFIX)) >= 43  # 256 bits
    assert response.body["expires_in"] == kit.config.pushed_request_ttl
    assert ("Cache-Control", "no-store") in response.headers
    # Kept as a digest, for this client, without its credentials.
    row = pushed.rows[digest(request_uri)]
    assert request_uri not in pushed.rows and row.client_id == client.client_id
    assert not par.CREDENTIALS & row.params.keys()


def test_request_uri_lifetime_follows_the_setting(kit, pushed):
    kit.config = replace(kit.config, pushed_request_ttl=90)
    assert push(kit, pushed, kit.basic).body["expires_in"] == 90


def test_attack_push_without_client_authentication(kit, pushed):
    params = AuthorizationRequest(kit.basic).params()
    assert_error(push(kit, pushed, kit.basic, params, auth=({}, {})), "invalid_client")
    assert not pushed.rows


def test_attack_push_with_a_wrong_secret(kit, pushed):
    wrong = ({}, basic_auth(kit.basic.client_id, "wrong"))
    assert_error(push(kit, pushed, kit.basic, auth=wrong), "invalid_client", 401)


def test_attack_push_with_another_method_than_registered(kit, pushed):
    as_post = ({"client_id": kit.basic.client_id, "client_secret": kit.basic.secret}, {})
    assert_error(push(kit, pushed, kit.basic, auth=as_post), "invalid_client")


def test_attack_push_naming_another_client(kit, pushed):
    """Authenticated as one client, pushing a request in the name of another."""
    params = AuthorizationRequest(kit.post).params()
    assert_error(push(kit, pushed, kit.basic, params), "invalid_request")
    params.pop("client_id")
    assert_error(push(kit, pushed, kit.basic, params), "invalid_request")
    assert not pushed.rows


def test_attack_replayed_assertion_at_the_push(kit, pushed):
    auth = assertion_auth(client_assertion(kit.jwt.client_id, kit.jwt.key))
    assert push(kit, pushed, kit.jwt, auth=auth).status == 201
    assert_error(push(kit, pushed, kit.jwt, auth=auth), "invalid_client")


@pytest.mark.parametrize("audience", [ISSUER, TOKEN_ENDPOINT, PAR_ENDPOINT])
def test_assertion_audiences_accepted_at_the_push(kit, pushed, audience):
    """§2: the issuer, the token endpoint and the PAR endpoint all name the broker."""
    auth = assertion_auth(client_assertion(kit.jwt.client_id, kit.jwt.key, audience=audience))
    assert push(kit, pushed, kit.jwt, auth=auth).status == 201


def test_assertion_for_another_server_is_refused_at_the_push(kit, pushed):
    assertion = client_assertion(kit.jwt.client_id, kit.jwt.key, audience="https://other.example")
    assert_error(push(kit, pushed, kit.jwt, auth=assertion_auth(assertion)), "invalid_client")


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        pytest.param({"request_uri": par.REQUEST_URI_PREFIX + "x"}, "invalid_request", id="uri"),
        pytest.param({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported", id="jar"),
        pytest.param({"redirect_uri": "https://evil.example/cb"}, "invalid_request", id="redir"),
        pytest.param({"redirect_uri": None}, "invalid_request", id="no-redirect-uri"),
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="token"),
        pytest.param({"scope": "profile"}, "invalid_scope", id="no-openid"),
        pytest.param({"scope": "openid cnous_statut_boursier"}, "invalid_scope", id="habilitation"),
        pytest.param({"code_challenge": None}, "invalid_request", id="no-pkce"),
        pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="plain-pkce"),
        pytest.param({"code_challenge_method": None}, "invalid_request", id="no-pkce-method"),
        pytest.param({"prompt": "bogus"}, "invalid_request", id="prompt"),
        pytest.param({"prompt": "none login"}, "invalid_request", id="prompt-none-and-more"),
        pytest.param({"max_age": "-1"}, "invalid_request", id="max_age"),
        pytest.param({"acr_values": "loa-high"}, "invalid_request", id="acr"),
        pytest.param({"response_mode": "fragment"}, "invalid_request", id="fragment"),
        pytest.param({"response_mode": "form_post"}, "invalid_request", id="form_post"),
        pytest.param({"response_type": 'co"de'}, "unsupported_response_type", id="quote"),
        pytest.param({"redirect_uri": 'https://service-a.example/"'}, "invalid_request", id="q2"),
        pytest.param({"nonce": "a\x00b"}, "invalid_request", id="nul"),
        pytest.param({"login_hint": "a\nb"}, "invalid_request", id="line-feed"),
        pytest.param({"x\u202e": "y"}, "invalid_request", id="hostile-name"),
        pytest.param({"state": "s" * 5000}, "invalid_request", id="too-long"),
    ],
)
def test_pushed_request_is_checked_as_authorize_checks_it(kit, pushed, extra, error):
    params = {k: v for k, v in {**AuthorizationRequest(kit.basic).params(), **extra}.items() if v}
    assert_error(push(kit, pushed, kit.basic, params), error)
    assert not pushed.rows


def test_repeated_parameter_is_refused(kit, pushed):
    form, headers = credentials(kit.basic)
    http = http_request("POST", PAR_ENDPOINT, {**form, **AuthorizationRequest(kit.basic).params()})
    http = replace(http, headers=headers)
    http.params["scope"] = ["openid", "openid profile"]
    assert_error(par.push(kit.server(), http, pushed, now()), "invalid_request")


def test_prompt_none_is_judged_at_authorize_not_at_the_push(kit, pushed):
    request = AuthorizationRequest(kit.basic, extra={"prompt": "none"})
    response = push(kit, pushed, kit.basic, request.params())
    assert response.status == 201
    resolved = resolve(kit, pushed, at_authorize(kit.basic.client_id, response.body["request_uri"]))
    received = redirect_params(authorize_pushed(kit, resolved), kit.basic)
    assert received["error"] == "login_required" and received["state"] == request.state


# --- At /authorize (§4) ------------------------------------------------------------------------


def authorize_pushed(kit, resolved, session=None):
    assert isinstance(resolved, HttpRequestData), resolved
    return authorize(kit.server(), resolved, session, lambda *_: None, now(), pushed=True)


def test_request_uri_gives_the_pushed_parameters(kit, pushed):
    request = AuthorizationRequest(kit.basic, extra={"acr_values": "eidas2"})
    request_uri = push(kit, pushed, kit.basic, request.params()).body["request_uri"]
    resolved = resolve(kit, pushed, at_authorize(kit.basic.client_id, request_uri))
    outcome = authorize_pushed(kit, resolved, citizen_session())
    assert isinstance(outcome, NeedsInteraction) and outcome.step == "consent"
    assert outcome.params == request.params()


def test_attack_parameters_added_to_the_query_are_ignored(kit, pushed):
    request = AuthorizationRequest(kit.basic, scope="openid profile")
    request_uri = push(kit, pushed, kit.basic, request.params()).body["request_uri"]
    query = {
        "scope": "openid profile birth email dgfip_rfr",
        "state": "attacker",
        "redirect_uri": "https://evil.example/cb",
        "code_challenge": "attacker-challenge-attacker-challenge-attacker-challenge",
        "prompt": "none",
    }
    resolved = resolve(kit, pushed, at_authorize(kit.basic.client_id, request_uri, **query))
    outcome = authorize_pushed(kit, resolved, citizen_session())
    assert isinstance(outcome, NeedsInteraction)
    assert outcome.params == request.params()


def test_attack_request_uri_replayed(kit, pushed):
    request_uri = push(kit, pushed, kit.basic).body["request_uri"]
    assert isinstance(
        resolve(kit, pushed, at_authorize(kit.basic.client_id, request_uri)), HttpRequestData
    )
    again = resolve(kit, pushed, at_authorize(kit.basic.client_id, request_uri))
    assert again == ErrorPage("invalid_request_uri", again.description)


def test_attack_request_uri_of_another_client(kit, pushed):
    request_uri = push(kit, pushed, kit.basic).body["request_uri"]
    stolen = resolve(kit, pushed, at_authorize(kit.post.client_id, request_uri))
    assert isinstance(stolen, ErrorPage) and stolen.error == "invalid_request_uri"
    # The attempt did not use it up: the client that pushed it still can.
    assert isinstance(
        resolve(kit, pushed, at_authorize(kit.basic.client_id, request_uri)), HttpRequestData
    )


def test_attack_expired_request_uri(kit, pushed):
    response = push(kit, pushed, kit.basic)
    request_uri, ttl = response.body["request_uri"], response.body["expires_in"]
    late = resolve(kit, pushed, at_authorize(kit.basic.client_id, request_uri), at=now() + ttl)
    assert isinstance(late, ErrorPage) and late.error == "invalid_request_uri"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"request_uri": par.REQUEST_URI_PREFIX + "guessed"}, id="unknown"),
        pytest.param({"request_uri": "https://service-a.example/r/1"}, id="not-a-pushed-one"),
        pytest.param({"request_uri": par.REQUEST_URI_PREFIX + "x" * 500}, id="too-long"),
        pytest.param({"request_uri": ""}, id="empty"),
    ],
)
def test_unknown_request_uri_gets_an_error_page(kit, pushed, query):
    outcome = resolve(kit, pushed, at_authorize(kit.basic.client_id, query["request_uri"]))
    assert isinstance(outcome, ErrorPage) and outcome.error == "invalid_request_uri"


def test_request_uri_needs_exactly_one_client_id(kit, pushed):
    request_uri = push(kit, pushed, kit.basic).body["request_uri"]
    http = at_authorize(kit.basic.client_id, request_uri)
    http.params.pop("client_id")
    outcome = resolve(kit, pushed, http)
    assert isinstance(outcome, ErrorPage) and outcome.error == "invalid_request"
    http.params["client_id"] = [kit.basic.client_id, kit.basic.client_id]
    assert isinstance(resolve(kit, pushed, http), ErrorPage)
    # Neither attempt used it up.
    assert isinstance(
        resolve(kit, pushed, at_authorize(kit.basic.client_id, request_uri)), HttpRequestData
    )


def test_no_request_uri_means_a_request_sent_directly(kit, pushed):
    http = http_request("GET", AUTHORIZATION_ENDPOINT, AuthorizationRequest(kit.basic).params())
    assert resolve(kit, pushed, http) is None


def test_client_policy_is_checked_again_at_authorize(kit, pushed):
    """§7.4: what changed since the push (a redirect URI removed) is refused at /authorize."""
    request_uri = push(kit, pushed, kit.basic).body["request_uri"]
    kit.basic.client.redirect_uris = ["https://service-a.example/elsewhere"]
    resolved = resolve(kit, pushed, at_authorize(kit.basic.client_id, request_uri))
    outcome = authorize_pushed(kit, resolved, citizen_session())
    assert isinstance(outcome, ErrorPage)


# --- Clients required to push (§5, §6) ----------------------------------------------------------


def direct(kit, client: RegisteredClient, session=None):
    return kit.authorize(AuthorizationRequest(client).params(), session or citizen_session())


def test_attack_client_requiring_par_sending_parameters_directly(kit):
    client = kit.register(
        "service-p", "client_secret_basic", require_pushed_authorization_requests=True
    )
    received = redirect_params(direct(kit, client), client)
    assert received["error"] == "invalid_request" and received["iss"] == ISSUER
    assert "code" not in received


def test_every_client_must_push_when_the_deployment_says_so(kit):
    kit.config = replace(kit.config, require_pushed_authorization_requests=True)
    received = redirect_params(direct(kit, kit.basic), kit.basic)
    assert received["error"] == "invalid_request"


def test_client_requiring_par_with_an_unregistered_redirect_uri_gets_a_page(kit):
    client = kit.register(
        "service-p", "client_secret_basic", require_pushed_authorization_requests=True
    )
    request = AuthorizationRequest(client, extra={"redirect_uri": "https://evil.example/cb"})
    outcome = kit.authorize(request.params(), citizen_session())
    assert isinstance(outcome, ErrorPage)


def test_client_requiring_par_is_served_through_a_pushed_request(kit, pushed):
    client = kit.register(
        "service-p", "client_secret_basic", require_pushed_authorization_requests=True
    )
    request_uri = push(kit, pushed, client).body["request_uri"]
    resolved = resolve(kit, pushed, at_authorize(client.client_id, request_uri))
    outcome = authorize_pushed(kit, resolved, citizen_session())
    assert isinstance(outcome, NeedsInteraction)


def test_pushed_request_carries_dpop_jkt_through(kit, pushed):
    """RFC 9449 §10: the key thumbprint a code is to be bound to travels with the request."""
    jkt = secrets.token_urlsafe(32)
    request = AuthorizationRequest(kit.basic, extra={"dpop_jkt": jkt})
    request_uri = push(kit, pushed, kit.basic, request.params()).body["request_uri"]
    resolved = resolve(kit, pushed, at_authorize(kit.basic.client_id, request_uri))
    outcome = authorize_pushed(kit, resolved, citizen_session())
    assert isinstance(outcome, NeedsInteraction) and outcome.params["dpop_jkt"] == jkt


# --- DPoP at the push (RFC 9449 §10.1) ----------------------------------------------------------


def dpop_proof(key: ECKey, htu: str = PAR_ENDPOINT, **claims: Any) -> str:
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    payload = {"jti": secrets.token_urlsafe(12), "htm": "POST", "htu": htu, "iat": now()}
    return jwt.encode(header, {**payload, **claims}, key, algorithms=["ES256"])


def push_with_proof(kit, store, client, proof: str, **extra: str) -> ProtocolResponse:
    form, headers = credentials(client)
    params = {**AuthorizationRequest(client).params(), **extra}
    http = http_request("POST", PAR_ENDPOINT, {**form, **params}, {**headers, "DPoP": proof})
    return par.push(kit.server(), http, store, now())


def test_proof_at_the_push_binds_the_code_to_its_key(kit, pushed):
    key = ECKey.generate_key("P-256", private=True)
    response = push_with_proof(kit, pushed, kit.basic, dpop_proof(key))
    assert response.status == 201, response.body
    assert pushed.rows[digest(response.body["request_uri"])].params["dpop_jkt"] == key.thumbprint()


def test_proof_and_dpop_jkt_naming_the_same_key(kit, pushed):
    key = ECKey.generate_key("P-256", private=True)
    proof = dpop_proof(key)
    assert push_with_proof(kit, pushed, kit.basic, proof, dpop_jkt=key.thumbprint()).status == 201


def test_attack_proof_and_dpop_jkt_naming_different_keys(kit, pushed):
    key, other = (ECKey.generate_key("P-256", private=True) for _ in range(2))
    response = push_with_proof(kit, pushed, kit.basic, dpop_proof(key), dpop_jkt=other.thumbprint())
    assert_error(response, "invalid_dpop_proof")
    assert not pushed.rows


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"htu": TOKEN_ENDPOINT}, id="made-for-the-token-endpoint"),
        pytest.param({"htm": "GET"}, id="wrong-method"),
        pytest.param({"iat": now() - 3600}, id="old"),
    ],
)
def test_attack_proof_not_made_for_the_push(kit, pushed, claims):
    key = ECKey.generate_key("P-256", private=True)
    response = push_with_proof(kit, pushed, kit.basic, dpop_proof(key, **claims))
    assert_error(response, "invalid_dpop_proof")


def test_attack_proof_replayed_at_the_push(kit, pushed):
    proof = dpop_proof(ECKey.generate_key("P-256", private=True))
    assert push_with_proof(kit, pushed, kit.basic, proof).status == 201
    assert_error(push_with_proof(kit, pushed, kit.basic, proof), "invalid_dpop_proof")


@pytest.mark.parametrize("jkt", ["short", "x" * 44, ("a+b/" * 11)[:43]])
def test_malformed_dpop_jkt_is_refused(kit, pushed, jkt):
    params = {**AuthorizationRequest(kit.basic).params(), "dpop_jkt": jkt}
    assert_error(push(kit, pushed, kit.basic, params), "invalid_request")
