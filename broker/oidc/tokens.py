"""Access tokens: JWTs per RFC 9068 (``typ: at+jwt``), recorded server-side so that revocation
takes effect on the next request. Verification only accepts our asymmetric algorithms and keys."""

from __future__ import annotations

import time
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from broker.core.security import keyed_digest, random_token
from broker.oidc.config import OidcConfig
from broker.oidc.models import AccessTokenRecord, Client
from broker.oidc.ports import OidcStore

ACCEPTED_ALGS = ("ES256", "RS256")
ACCESS_TOKEN_TYPE = "at+jwt"


def pairwise_subject(config: OidcConfig, sector_identifier: str, citizen_id: str) -> str:
    """OpenID Connect Core §8.1: a different, stable ``sub`` for each service (sector)."""
    return keyed_digest(config.pairwise_key, f"{sector_identifier}:{citizen_id}")


@dataclass(frozen=True)
class TokenSubject:
    """The citizen a token is issued for, with the authentication behind it."""

    citizen_id: str
    sub: str
    auth_time: int
    acr: str
    grant_id: str | None = None
    idp: str = ""
    refresh_until: int | None = None  # a recurring grant's expiry: refresh tokens until then
    grant_expires_at: int | None = None  # no token outlives its grant
    sid: str | None = None  # the broker session, named in the ID token (back-channel logout)


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    record: AccessTokenRecord
    issued_at: int


class InvalidAccessToken(Exception):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def token_audience(config: OidcConfig) -> list[str]:
    """Who an access token is for: the data API (its public URL, the resource of RFC 8707),
    and the broker's userinfo endpoint."""
    return [config.resource_audience, config.userinfo_endpoint]


def issue_access_token(
    config: OidcConfig,
    signing_key,
    client: Client,
    subject: TokenSubject,
    scope: str,
    ttl: int,
    now: int | None = None,
    jkt: str | None = None,
) -> IssuedAccessToken:
    """``jkt``: the thumbprint of the DPoP key the token is bound to (RFC 9449 §6.1)."""
    now = int(time.time()) if now is None else now
    jti = random_token(24)
    claims = {
        "iss": config.issuer,
        "sub": subject.sub,
        "aud": token_audience(config),
        "client_id": client.client_id,
        "scope": scope,
        "iat": now,
        "exp": now + ttl,
        "jti": jti,
        "auth_time": subject.auth_time,
        "acr": subject.acr,
    }
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    header = {"alg": signing_key.alg, "kid": signing_key.kid, "typ": ACCESS_TOKEN_TYPE}
    token = jwt.encode(header, claims, signing_key, algorithms=[signing_key.alg])
    record = AccessTokenRecord(
        jti=jti,
        client_id=client.client_id,
        citizen_id=subject.citizen_id,
        scope=scope,
        expires_at=now + ttl,
        revoked_at=None,
        jkt=jkt,
    )
    return IssuedAccessToken(token=token, record=record, issued_at=now)


def verify_access_token(
    token: str,
    keys: KeySet,
    config: OidcConfig,
    store: OidcStore,
    audience: str,
    now: int | None = None,
) -> AccessTokenRecord:
    """Signature, type, issuer, audience and lifetime, then the server-side record. Whether
    the token was presented as its binding asks (``record.jkt``, RFC 9449) is the caller's
    part: see ``broker.oidc.dpop_resource``."""
    now = int(time.time()) if now is None else now
    try:
        decoded = jwt.decode(token, keys, algorithms=list(ACCEPTED_ALGS))
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidAccessToken(
            "The access token is malformed or its signature is invalid."
        ) from exc
    header, claims = decoded.header, decoded.claims
    if header.get("typ", "").lower() not in (ACCESS_TOKEN_TYPE, f"application/{ACCESS_TOKEN_TYPE}"):
        raise InvalidAccessToken("The token is not an access token.")
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=0,
        iss={"essential": True, "value": config.issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise InvalidAccessToken(
            "The access token is expired or not meant for this endpoint."
        ) from exc
    record = store.get_access_token(str(claims["jti"]))
    if record is None or record.revoked_at is not None:
        raise InvalidAccessToken("The access token has been revoked.")
    if record.expires_at <= now:
        raise InvalidAccessToken("The access token has expired.")
    return record
