"""Logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4): what the broker posts to a
service's ``backchannel_logout_uri`` when a session in which it signed the citizen in ends.

Signed like the service's ID tokens (same keys, its ``id_token_signed_response_alg``),
explicitly typed ``logout+jwt`` and without ``nonce``, so that it can never pass for an ID
token (§4.1); short-lived, since a fresh one is signed at each delivery attempt."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from broker.core.security import keyed_digest, random_token

LOGOUT_TOKEN_TYPE = "logout+jwt"
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120  # seconds: the spec suggests at most two minutes


def client_sid(pairwise_key: bytes, sector_identifier: str, sid: str) -> str:
    """The ``sid`` one service sees of broker session ``sid``: its ID tokens and logout tokens
    carry this, never the session's own id, so that services of different sectors, which
    know the citizen under different pairwise subjects, cannot join them through a shared
    ``sid`` (OpenID Connect Core §8 and §17.3). Stable within a session for one sector."""
    return keyed_digest(pairwise_key, f"back-channel logout sid|{sid}|{sector_identifier}")


def logout_token(
    signing_key: ECKey | RSAKey,
    *,
    issuer: str,
    client_id: str,
    sub: str,
    sid: str,
    now: int,
    ttl: int = LOGOUT_TOKEN_TTL,
) -> str:
    """A logout token telling ``client_id`` that broker session ``sid`` of its user ``sub``
    (the pairwise subject it knows) ended."""
    alg = signing_key.alg
    if alg is None:  # the broker's keys are generated with their algorithm
        raise ValueError("a signing key without an algorithm")
    claims = {
        "iss": issuer,
        "sub": sub,
        "aud": client_id,
        "iat": now,
        "exp": now + ttl,
        "jti": random_token(24),
        "sid": sid,
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    header = {"alg": alg, "kid": signing_key.kid, "typ": LOGOUT_TOKEN_TYPE}
    return jwt.encode(header, claims, signing_key, algorithms=[alg])
