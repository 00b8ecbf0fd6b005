"""The fixture kit of the protocol unit tests: a broker on in-memory ports (``memory``) with one
client per authentication method, driven directly (no socket, no database, no web framework),
and builders for the requests the tests send.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from joserfc import jws, jwt
from joserfc.jwk import ECKey

from broker.catalogue.scopes import REGISTRY
from broker.core.security import digest
from broker.oidc.authorize import NeedsInteraction, Outcome, RedirectToClient, authorize, issue_code
from broker.oidc.client_auth import JwksCache
from broker.oidc.config import OidcConfig
from broker.oidc.dpop import token_hash
from broker.oidc.introspection import IntrospectionServer
from broker.oidc.models import (
    Authentication,
    CitizenIdentity,
    Client,
    HabilitationGrant,
)
from broker.oidc.request import HttpRequestData
from broker.oidc.server import BrokerServer, ProtocolResponse
from tests.broker.oidc.memory import (
    DATA_SCOPE,
    HABILITATION,
    MemoryConsentGrants,
    MemoryOidcStore,
    MemoryProviders,
    broker_keys,
    client_signing_key,
    now,
)

ISSUER = "https://broker.example"
AUTHORIZATION_ENDPOINT = f"{ISSUER}/authorize"
TOKEN_ENDPOINT = f"{ISSUER}/token"
USERINFO_ENDPOINT = f"{ISSUER}/userinfo"
INTROSPECTION_ENDPOINT = f"{ISSUER}/introspect"
RESOURCE_AUDIENCE = "https://data.broker.example"
CONFIG = OidcConfig(
    issuer=ISSUER,
    resource_audience=RESOURCE_AUDIENCE,
    pairwise_key=b"pairwise-subject-key-for-the-tests",
    allow_insecure_transport=False,
)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
INTROSPECTION_JWT = "application/token-introspection+jwt"

IDENTITY_SCOPE = "openid profile birth email"
CLIENT_SCOPE = f"{IDENTITY_SCOPE} {DATA_SCOPE}"
CITIZEN = CitizenIdentity(
    id="citizen-1",
    given_name="Angela Claire Louise",
    family_name="DUBOIS",
    birthdate="1962-08-24",
    gender="female",
    birthplace="75107",
    birthcountry="99100",
    email="angela.dubois@example.fr",
)


def citizen_session(acr: str = "eidas2", auth_time: int | None = None) -> Authentication:
    """The citizen's single sign-on session, as the identity provider established it."""
    return Authentication(
        citizen_id=CITIZEN.id,
        acr=acr,
        amr=["pwd"],
        auth_time=now() - 5 if auth_time is None else auth_time,
        idp="demo",
    )


# --- HTTP-side values ------------------------------------------------------------------------


class Headers(Mapping[str, str]):
    """Case-insensitive request headers, as a web framework hands them over."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = {k.lower(): v for k, v in (values or {}).items()}

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def basic_auth(client_id: str, secret: str) -> dict[str, str]:
    """RFC 6749 §2.3.1: both parts form-urlencoded, then Basic."""
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def http_request(
    method: str,
    uri: str,
    params: Mapping[str, str | None],
    headers: Mapping[str, str] | None = None,
) -> HttpRequestData:
    """A parsed request; parameters given as None are left out."""
    return HttpRequestData(
        method=method,
        uri=uri,
        headers=Headers(headers),
        params={k: [v] for k, v in params.items() if v is not None},
    )


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def without_query(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


# --- DPoP ------------------------------------------------------------------------------------


@dataclass
class DpopKey:
    """A client's DPoP key pair, making proofs (RFC 9449 §4.2) as a client library would,
    with every part a test may want to get wrong."""

    key: Any = field(default_factory=lambda: ECKey.generate_key("P-256", private=True))
    alg: str = "ES256"

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(
        self,
        method: str = "POST",
        url: str = TOKEN_ENDPOINT,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: int | None = None,
        jti: str | None = None,
        header: Mapping[str, Any] | None = None,
        claims: Mapping[str, Any] | None = None,
        signing_key: Any = None,
    ) -> str:
        """``header`` and ``claims`` are merged over the proper ones (a None value removes
        one); ``signing_key`` signs instead of the key the header names."""
        protected = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.key.as_dict(private=False)}
        payload: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": now() if iat is None else iat,
        }
        if access_token is not None:
            payload["ath"] = token_hash(access_token)
        if nonce is not None:
            payload["nonce"] = nonce
        protected = {k: v for k, v in {**protected, **(header or {})}.items() if v is not None}
        payload = {k: v for k, v in {**payload, **(claims or {})}.items() if v is not None}
        key = signing_key or self.key
        return jws.serialize_compact(
            protected, json.dumps(payload).encode(), key, algorithms=[protected["alg"]]
        )


# --- Clients ---------------------------------------------------------------------------------


@dataclass
class RegisteredClient:
    client: Client
    secret: str | None = None
    key: ECKey | None = None  # the private key of a private_key_jwt client

    @property
    def client_id(self) -> str:
        return self.client.client_id

    @property
    def redirect_uri(self) -> str:
        return self.client.redirect_uris[0]

    @property
    def auth_method(self) -> str:
        return self.client.auth_method


def client_assertion(
    client_id: str,
    key: Any,
    *,
    alg: str = "ES256",
    kid: str | None = "rp-key-1",
    audience: str | list[str] = TOKEN_ENDPOINT,
    issued_at: int | None = None,
    lifetime: int = 60,
    jti: str | None = None,
    **claims: Any,
) -> str:
    """An RFC 7523 client assertion, as a private_key_jwt client signs it."""
    issued_at = now() if issued_at is None else issued_at
    header = {"alg": alg, **({"kid": kid} if kid else {})}
    payload = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": jti or secrets.token_urlsafe(12),
        "iat": issued_at,
        "exp": issued_at + lifetime,
        **claims,
    }
    return jwt.encode(header, payload, key, algorithms=[alg])


def credentials(client: RegisteredClient) -> tuple[dict[str, str], dict[str, str]]:
    """(form parameters, headers) authenticating ``client`` with its registered method."""
    if client.auth_method == "client_secret_basic":
        assert client.secret
        return {}, basic_auth(client.client_id, client.secret)
    if client.auth_method == "client_secret_post":
        return {"client_id": client.client_id, "client_secret": client.secret or ""}, {}
    assert client.key is not None
    # FAPI 2.0 Security Profile §5.3.2.1: the issuer, as a string, is the only audience.
    audience = ISSUER if client.client.fapi2 else TOKEN_ENDPOINT
    return {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(client.client_id, client.key, audience=audience),
    }, {}


def assertion_auth(assertion: str) -> tuple[dict[str, str], dict[str, str]]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}, {}


# --- The broker ------------------------------------------------------------------------------


@dataclass
class IssuedCode:
    """What the client received at its redirect URI, and what it kept for the token request."""

    code: str
    verifier: str
    nonce: str
    state: str
    grant_id: str | None
    location: str

    @property
    def params(self) -> dict[str, str]:
        return query(self.location)


@dataclass
class AuthorizationRequest:
    client: RegisteredClient
    scope: str | None = None
    verifier: str = ""
    challenge: str = ""
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    extra: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.verifier:
            self.verifier, self.challenge = pkce_pair()
        elif not self.challenge:
            self.challenge = s256(self.verifier)

    def params(self) -> dict[str, str | None]:
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.client.redirect_uri,
            "scope": self.scope or self.client.client.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }
        params.update(self.extra)
        return params


def no_covering_grant(citizen_id: str, client: Client, scopes: list[str]) -> str | None:
    return None


class OidcKit:
    """The protocol core with in-memory ports: three registered clients (``basic``, ``post``,
    ``jwt``, one per authentication method), each in its own sector."""

    def __init__(self) -> None:
        self.config = CONFIG
        self.store = MemoryOidcStore()
        self.store.citizens[CITIZEN.id] = CITIZEN
        self.grants = MemoryConsentGrants(self.store)
        self.providers = MemoryProviders()
        self.keys = broker_keys()
        self.jwks_cache = JwksCache()
        self.basic = self.register("service-a", "client_secret_basic")
        self.post = self.register("service-b", "client_secret_post")
        self.jwt = self.register("service-c", "private_key_jwt")

    def register(
        self,
        name: str,
        auth_method: str,
        *,
        sector: str | None = None,
        scope: str = CLIENT_SCOPE,
        habilitations: tuple[HabilitationGrant, ...] = (HABILITATION,),
        **overrides: Any,
    ) -> RegisteredClient:
        sector = sector or f"https://{name}.example"
        secret = key = None
        values: dict[str, Any] = {}
        if auth_method == "private_key_jwt":
            key = client_signing_key()
            values["jwks"] = {"keys": [key.as_dict(private=False)]}
        else:
            secret = secrets.token_urlsafe(32)
            values["secret_digest"] = digest(secret)
        values.update(overrides)
        client = Client(
            client_id=f"{name}-{secrets.token_hex(4)}",
            name=name,
            service_id=name,
            sector_identifier=sector,
            auth_method=auth_method,
            redirect_uris=[f"https://{name}.example/callback"],
            scope=scope,
            habilitations=habilitations,
            **values,
        )
        self.store.clients[client.client_id] = client
        return RegisteredClient(client, secret, key)

    def server(self) -> BrokerServer:
        """authlib's server for one request, as ``FlowContext.server`` builds it."""
        return BrokerServer(
            self.config, self.store, self.keys, self.jwks_cache, REGISTRY.names(), self.grants
        )

    # The front channel

    def authorize(
        self,
        params: Mapping[str, str | None],
        session: Authentication | None = None,
        covering_grant: Callable[[str, Client, list[str]], str | None] = no_covering_grant,
    ) -> Outcome:
        http = http_request("GET", AUTHORIZATION_ENDPOINT, params)
        return authorize(self.server(), http, session, covering_grant, now())

    def obtain_code(
        self,
        client: RegisteredClient,
        *,
        request: AuthorizationRequest | None = None,
        granted_scope: str | None = None,
        grant_id: str | None = "",
        recurring: bool = True,
        session: Authentication | None = None,
    ) -> IssuedCode:
        """The citizen, signed in, approves: the authorize step asks for consent, then
        ``issue_code`` redirects with a code. ``grant_id=""`` records a new consent grant
        (recurring or one-time) covering the granted scope; None issues a code on no grant."""
        request = request or AuthorizationRequest(client)
        session = session or citizen_session()
        outcome = self.authorize(request.params(), session)
        assert isinstance(outcome, NeedsInteraction), outcome
        assert outcome.step == "consent", outcome
        granted = granted_scope or " ".join(outcome.params["scope"].split())
        if grant_id == "":
            grant_id = f"grant-{secrets.token_hex(6)}"
            self.grants.add(grant_id, granted, recurring=recurring)
        location = issue_code(self.server(), outcome.params, session, granted, grant_id)
        received = query(location)
        assert "code" in received, location
        return IssuedCode(
            received["code"], request.verifier, request.nonce, request.state, grant_id, location
        )

    # The token endpoint

    def token(
        self,
        params: Mapping[str, str | None],
        auth: tuple[Mapping[str, str], Mapping[str, str]] = ({}, {}),
        dpop: str | None = None,
    ) -> ProtocolResponse:
        """``dpop``: a proof, sent in the DPoP header."""
        form, headers = auth
        if dpop is not None:
            headers = {**headers, "DPoP": dpop}
        http = http_request("POST", TOKEN_ENDPOINT, {**form, **params}, headers)
        return self.server().create_token_response(http)

    def redeem(
        self,
        client: RegisteredClient,
        code: str,
        verifier: str | None,
        *,
        auth: tuple[Mapping[str, str], Mapping[str, str]] | None = None,
        dpop: str | None = None,
        **overrides: str | None,
    ) -> ProtocolResponse:
        params = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "code_verifier": verifier,
            **overrides,
        }
        return self.token(params, auth if auth is not None else credentials(client), dpop)

    def refresh(
        self,
        client: RegisteredClient,
        refresh_token: str,
        *,
        auth: tuple[Mapping[str, str], Mapping[str, str]] | None = None,
        dpop: str | None = None,
        **overrides: str | None,
    ) -> ProtocolResponse:
        params = {"grant_type": "refresh_token", "refresh_token": refresh_token, **overrides}
        return self.token(params, auth if auth is not None else credentials(client), dpop)

    def tokens(self, client: RegisteredClient, **code_options: Any) -> dict[str, Any]:
        """A code obtained and redeemed: the token response's body (with the code)."""
        issued = self.obtain_code(client, **code_options)
        response = self.redeem(client, issued.code, issued.verifier)
        assert response.status == 200, response.body
        return {**response.body, "code": issued.code, "issued": issued}

    # Introspection

    def introspection_server(self) -> IntrospectionServer:
        """The introspection endpoint for one request, as ``BackChannel.introspect`` builds it."""
        return IntrospectionServer(
            self.config,
            self.store,
            self.providers,
            self.keys.verification_keys(),
            self.keys.signing_key(),
            self.grants.standing,
        )

    def introspect(
        self, token: str, credentials: tuple[str, str] | None, accept: str | None = None
    ) -> ProtocolResponse:
        headers = basic_auth(*credentials) if credentials else {}
        if accept:
            headers["Accept"] = accept
        http = http_request("POST", INTROSPECTION_ENDPOINT, {"token": token}, headers)
        return self.introspection_server().introspect(http)


def redirect_params(outcome: Outcome, client: RegisteredClient) -> dict[str, str]:
    """The parameters of a redirect to ``client``'s redirect URI (and nowhere else)."""
    assert isinstance(outcome, RedirectToClient), outcome
    assert without_query(outcome.location) == client.redirect_uri, outcome.location
    return query(outcome.location)
