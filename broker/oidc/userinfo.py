"""The UserInfo endpoint (OpenID Connect Core §5.3): claims released by the token's scopes,
answered as JSON, or as a JWT the broker signs (and encrypts) when the client registered so."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from broker.keys.keystore import SUPPORTED_ALGS
from broker.oidc.client_auth import JwksCache
from broker.oidc.config import OidcConfig
from broker.oidc.encryption import ResponseProtectionError, userinfo_encryption
from broker.oidc.models import AccessTokenRecord, CitizenIdentity, Client
from broker.oidc.tokens import pairwise_subject

JSON = "application/json"
JWT = "application/jwt"  # Core §5.3.2: a signed and/or encrypted answer


class Signer(Protocol):
    """The broker's signing keys (``broker.keys.keystore.KeyStore``)."""

    def signing_key(self, alg: str) -> ECKey | RSAKey: ...


class UserinfoProtectionError(ResponseProtectionError):
    """The client's userinfo registration cannot be honoured. At /userinfo, ``invalid_client``
    is not an error of the endpoint (RFC 6750 §3.1 has invalid_request, invalid_token and
    insufficient_scope), and the token is good: ``invalid_request`` (400), saying why."""

    error = "invalid_request"


class UserinfoResponse(NamedTuple):
    body: dict[str, Any] | str  # the claims (JSON), or the JWT
    media_type: str


def userinfo_claims(
    config: OidcConfig,
    token: AccessTokenRecord,
    client: Client,
    citizen: CitizenIdentity,
    claims_for: Callable[[Iterable[str]], set[str]],
) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": pairwise_subject(config, client.sector_identifier, citizen.id)}
    for name in sorted(claims_for(token.scope.split()) - {"sub"}):
        value = citizen.claim(name)
        if value is not None:
            claims[name] = value
    return claims


def userinfo_signing_alg(client: Client) -> str | None:
    """The algorithm the client's userinfo answers are signed with, None for plain JSON.

    A client that registered encryption alone gets its answers signed with its ID tokens'
    algorithm, then encrypted: the broker never sends claims it has not signed (Core §5.3.2
    allows an encrypted-only answer; a nested JWT carries the issuer's signature too)."""
    if client.userinfo_signed_response_alg:
        return client.userinfo_signed_response_alg
    if client.userinfo_encrypted_response_alg:
        return client.id_token_signed_response_alg
    return None


def userinfo_response(
    claims: dict[str, Any],
    client: Client,
    *,
    config: OidcConfig,
    keys: Signer,
    jwks_cache: JwksCache,
    now: int | None = None,
) -> UserinfoResponse:
    """The answer for ``client``: ``claims`` as JSON; or a JWT signed by the broker (``iss``,
    ``aud`` = the client, ``iat``, the claims) as ``application/jwt``; or that JWT encrypted to
    the client's key. Raises UserinfoProtectionError (``invalid_request``) when the client's
    registration cannot be honoured; never falls back to a weaker answer. Synchronous and
    offline: run ``prefetch_encryption_keys`` for the client first."""
    alg = userinfo_signing_alg(client)
    if alg is None:
        return UserinfoResponse(claims, JSON)
    if alg not in SUPPORTED_ALGS:
        raise UserinfoProtectionError(
            f"The client's userinfo answers are registered to be signed with {alg}, which the "
            f"broker does not sign with ({', '.join(SUPPORTED_ALGS)})."
        )
    try:
        encryption = userinfo_encryption(client, jwks_cache)  # before signing: fail fast
    except ResponseProtectionError as exc:
        raise UserinfoProtectionError(exc.description) from exc
    key = keys.signing_key(alg)
    now = int(time.time()) if now is None else now
    payload = {**claims, "iss": config.issuer, "aud": client.client_id, "iat": now}
    signed = jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, payload, key, algorithms=[alg])
    if encryption is None:
        return UserinfoResponse(signed, JWT)
    return UserinfoResponse(encryption.seal(signed), JWT)
