"""Token introspection for data providers that receive our access tokens directly (RFC 7662),
answered as a signed JWT when asked (RFC 9701).

Each introspecting party is a data provider: it authenticates with ``client_secret_basic`` and
learns about a token only what concerns it. A token carrying none of that provider's scopes is
reported ``active: false``, exactly like an unknown, expired or revoked one, so a provider cannot
probe tokens meant for others. The identity pivot is included because that is what a provider
matches its records on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
)
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from joserfc import jwt

from broker.catalogue.scopes import REGISTRY
from broker.core.security import same_digest
from broker.oidc.client_auth_failures import UNREADABLE_CREDENTIALS, explain
from broker.oidc.config import OidcConfig
from broker.oidc.models import AccessTokenRecord, CitizenIdentity
from broker.oidc.ports import OidcStore
from broker.oidc.request import BrokerOAuth2Request, HttpRequestData
from broker.oidc.server import ProtocolResponse
from broker.oidc.tokens import (
    InvalidAccessToken,
    pairwise_subject,
    token_audience,
    verify_access_token,
)

JWT_RESPONSE_TYPE = "application/token-introspection+jwt"
PIVOT_CLAIMS = ("given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry")


@dataclass
class IntrospectingProvider(ClientMixin):
    client_id: str
    provider: str
    secret_digest: str

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return same_digest(client_secret, self.secret_digest)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic" and endpoint == "introspection"

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(s.name for s in REGISTRY.data_scopes() if s.provider == self.provider)


@dataclass
class IntrospectedToken:
    record: AccessTokenRecord
    sub: str
    citizen: CitizenIdentity | None
    habilitated_scopes: frozenset[str] = frozenset()

    def is_expired(self) -> bool:
        return self.record.expires_at <= int(time.time())

    def is_revoked(self) -> bool:
        return self.record.revoked_at is not None


class ProviderIntrospection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ("client_secret_basic",)
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def __init__(self, server: IntrospectionServer) -> None:
        super().__init__(server)
        self.broker = server

    def check_params(self, request, client) -> None:
        # RFC 7662 §2.1: a hint the server cannot use is ignored (the search extends to every
        # token type), never an error; authlib would answer unsupported_token_type.
        if not request.form.get("token"):
            raise InvalidRequestError("The 'token' parameter is required.")

    def query_token(self, token_string: str, token_type_hint: str | None):
        server = self.broker
        try:
            record = verify_access_token(
                token_string,
                server.verification_keys,
                server.config,
                server.store,
                audience=server.config.resource_audience,
            )
        except InvalidAccessToken:
            return None
        client = server.store.get_client(record.client_id)
        if client is None:
            return None
        sub = pairwise_subject(server.config, client.sector_identifier, record.citizen_id)
        # As at the data API: data scopes count only while the consent grant holds and the
        # habilitation it was given under is active and covers them.
        now = int(time.time())
        active, habilitation_id = server.grant_standing(record.grant_id, now)
        habilitation = (
            next(
                (h for h in client.habilitations if h.id == habilitation_id and h.active_at(now)),
                None,
            )
            if active
            else None
        )
        scopes = set(record.scope.split()) & habilitation.scopes if habilitation else set()
        return IntrospectedToken(
            record, sub, server.store.get_citizen(record.citizen_id), frozenset(scopes)
        )

    def check_permission(
        self, token: IntrospectedToken, client: IntrospectingProvider, request
    ) -> bool:
        return bool(token.habilitated_scopes & client.scopes)

    def introspect_token(self, token: IntrospectedToken) -> dict[str, Any]:
        provider = self.broker.introspecting_party()
        scopes = [
            s
            for s in token.record.scope.split()
            if s in provider.scopes and s in token.habilitated_scopes
        ]
        payload: dict[str, Any] = {
            "active": True,
            "scope": " ".join(scopes),
            "client_id": token.record.client_id,
            "sub": token.sub,
            "exp": token.record.expires_at,
            "iss": self.broker.config.issuer,
            "aud": token_audience(self.broker.config),  # as in the token (RFC 8707 §2)
            "token_type": "DPoP" if token.record.jkt else "Bearer",
        }
        if token.record.jkt:
            # RFC 9449 §6.2: the key the token is bound to, for a provider that checks proofs.
            payload["cnf"] = {"jkt": token.record.jkt}
        if token.citizen is not None:
            payload.update({claim: token.citizen.claim(claim) for claim in PIVOT_CLAIMS})
        return payload

    def authenticate_token(self, request, client):
        self.broker.current_client = client
        return super().authenticate_token(request, client)


class IntrospectionServer(AuthorizationServer):
    """An authlib server with only the introspection endpoint, for one request."""

    def __init__(
        self,
        config: OidcConfig,
        store: OidcStore,
        providers,
        verification_keys,
        signing_key,
        grant_standing,
    ) -> None:
        """``grant_standing(grant_id, now)`` -> (active, habilitation id) of a consent grant."""
        super().__init__()
        self.config = config
        self.store = store
        self.grant_standing = grant_standing
        self.providers = providers
        self.verification_keys = verification_keys
        self.signing_key = signing_key
        self.current_client: IntrospectingProvider | None = None
        self.register_endpoint(ProviderIntrospection(self))

    def introspecting_party(self) -> IntrospectingProvider:
        """The data provider that authenticated for this request."""
        if self.current_client is None:  # authlib authenticates before it introspects
            raise InvalidClientError()
        return self.current_client

    def query_client(self, client_id: str) -> IntrospectingProvider | None:
        return self.providers.get_introspection_client(client_id)

    def authenticate_client(self, request, methods, endpoint="token"):
        """authlib's client authentication, its failures told plainly (``explain``)."""
        try:
            return super().authenticate_client(request, methods, endpoint)
        except (InvalidClientError, *UNREADABLE_CREDENTIALS) as error:
            unknown = "no data provider's introspection client is registered under this client_id"
            raise explain(request, error, methods, self.query_client, unknown) from error

    def create_oauth2_request(self, request) -> BrokerOAuth2Request:
        if isinstance(request, BrokerOAuth2Request):
            return request
        return BrokerOAuth2Request(request, self.config.allow_insecure_transport)

    def handle_response(self, status, body, headers) -> ProtocolResponse:
        return ProtocolResponse(status, body, list(headers))

    def send_signal(self, name, *args, **kwargs) -> None:
        """No signal bus: structured logs cover what signals would."""

    def introspect(self, http: HttpRequestData) -> ProtocolResponse:
        response = self.create_endpoint_response(ProviderIntrospection.ENDPOINT_NAME, http)
        response.headers.append(("Cache-Control", "no-store"))
        accept = http.headers.get("accept", "")
        if response.status == 200 and JWT_RESPONSE_TYPE in accept:
            return self._as_jwt(response)
        return response

    def _as_jwt(self, response: ProtocolResponse) -> ProtocolResponse:
        """RFC 9701 §5: the same answer, signed, for the introspecting party."""
        key = self.signing_key
        claims = {
            "iss": self.config.issuer,
            "aud": self.introspecting_party().client_id,
            "iat": int(time.time()),
            "token_introspection": response.body,
        }
        header = {"alg": key.alg, "kid": key.kid, "typ": "token-introspection+jwt"}
        token = jwt.encode(header, claims, key, algorithms=[key.alg])
        headers = [(k, v) for k, v in response.headers if k.lower() != "content-type"]
        return ProtocolResponse(200, token, [*headers, ("Content-Type", JWT_RESPONSE_TYPE)])
