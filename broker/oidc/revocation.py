"""Token revocation for services (RFC 7009), on authlib's revocation endpoint.

A service authenticates with the method it was registered with (the token endpoint's methods,
``private_key_jwt`` included) and names one of its own tokens:

- an access token (an RFC 9068 JWT): its server-side record is marked revoked, so userinfo,
  introspection and the data API refuse it at the next request; the refresh token it came
  with keeps working (RFC 7009 §2.1 leaves that to the server);
- a refresh token: it is revoked with its whole rotation chain and every access token issued
  on that chain (everything descending from the same authorization code), as RFC 7009 §2.1
  asks for the tokens "based on the same authorization grant". The citizen's consent is not
  ended: it is the citizen's decision, not the service's (the citizen space ends it), and the
  service may sign the citizen in again on it.

The answer is 200 whatever the token is: unknown, malformed, expired, already revoked, or
issued to another client (RFC 7009 §2.2). For that last case §2.1 says the server refuses the
request; we answer 200 and revoke nothing (as node-oidc-provider does), so that a client
holding a leaked token learns nothing from the answer, not even that the token exists.
Revocation is idempotent: revoking twice changes nothing more.

``token_type_hint`` (RFC 7009 §2.1) only orders the search: a token not found as the hinted
type is looked up as the other. A hint naming a type the broker does not revoke answers
``unsupported_token_type`` (§2.2.1), before any look-up.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import ClassVar

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint

from broker.core.security import digest
from broker.oidc.models import AUTH_METHODS, Client
from broker.oidc.request import HttpRequestData
from broker.oidc.server import BrokerServer, ProtocolResponse
from broker.oidc.tokens import InvalidAccessToken, verify_access_token

log = logging.getLogger("broker.oidc")

ACCESS_TOKEN = "access_token"
REFRESH_TOKEN = "refresh_token"
MAX_TOKEN_LENGTH = 8192  # our access tokens are a few hundred characters, refresh tokens 43


class UnsupportedTokenType(OAuth2Error):
    """RFC 7009 §2.2.1, with RFC 6749 §5.2's status (authlib's answers 401)."""

    error = "unsupported_token_type"
    status_code = 400


@dataclass(frozen=True)
class RevocableToken:
    """A token found for revocation: an access token's ``jti`` or a refresh token's digest."""

    kind: str
    client_id: str
    key: str
    code_digest: str | None = None  # a refresh token's chain

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id


class ClientRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)  # as at /token, never "none"
    SUPPORTED_TOKEN_TYPES = (ACCESS_TOKEN, REFRESH_TOKEN)

    server: BrokerServer

    def check_params(self, request, client) -> None:
        if not request.form.get("token"):
            raise InvalidRequestError("The 'token' parameter is required.")
        hint = request.form.get("token_type_hint")
        if hint and hint not in self.SUPPORTED_TOKEN_TYPES:
            raise UnsupportedTokenType(f"Tokens of type '{hint[:40]}' cannot be revoked here.")

    def authenticate_token(self, request, client: Client) -> RevocableToken | None:
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is not None and not token.check_client(client):
            # authlib answers invalid_grant here: that would tell the caller the token exists.
            log.warning(
                "revocation of another client's token ignored",
                extra={"client_id": client.client_id, "token_client_id": token.client_id},
            )
            return None
        return token

    def query_token(self, token_string: str, token_type_hint: str | None) -> RevocableToken | None:
        if len(token_string) > MAX_TOKEN_LENGTH:
            return None
        lookups = [self._access_token, self._refresh_token]
        if token_type_hint == REFRESH_TOKEN:
            lookups.reverse()
        for lookup in lookups:
            token = lookup(token_string)
            if token is not None:
                return token
        return None

    def _access_token(self, token_string: str) -> RevocableToken | None:
        server = self.server
        try:
            record = verify_access_token(
                token_string,
                server.keys.verification_keys(),
                server.config,
                server.store,
                # Every access token names the userinfo endpoint: tokens issued before the
                # data API's URL (their other audience) changed stay revocable.
                audience=server.config.userinfo_endpoint,
            )
        except InvalidAccessToken:
            return None  # unknown, forged, expired or already revoked: nothing to do
        return RevocableToken(ACCESS_TOKEN, record.client_id, record.jti)

    def _refresh_token(self, token_string: str) -> RevocableToken | None:
        record = self.server.store.get_refresh_token(digest(token_string))
        if record is None:
            return None
        # A used (rotated), expired or revoked one still names its chain: revoking it revokes
        # the chain's live tokens, which is what the service asks for.
        return RevocableToken(REFRESH_TOKEN, record.client_id, record.digest, record.code_digest)

    def revoke_token(self, token: RevocableToken, request) -> None:
        store = self.server.store
        now = int(time.time())
        if token.kind == ACCESS_TOKEN:
            store.revoke_access_token(token.key, now)
        elif token.code_digest is not None:
            # The chain: every refresh token and access token descending from the same code.
            store.revoke_tokens_from_code(token.code_digest, now)
        else:
            store.revoke_refresh_token(token.key, now)


def revoke(server: BrokerServer, http: HttpRequestData) -> ProtocolResponse:
    """One revocation request on ``server`` (bound to the request's transaction)."""
    server.register_endpoint(ClientRevocation)
    response = server.create_endpoint_response(ClientRevocation.ENDPOINT_NAME, http)
    response.headers.append(("Cache-Control", "no-store"))
    return response
