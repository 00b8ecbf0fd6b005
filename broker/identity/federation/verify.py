"""Checking what an upstream provider returns: its ID token (OpenID Connect Core §3.1.3.7)
and its userinfo, as JSON or as a signed JWT."""

from __future__ import annotations

import json
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

LEEWAY = 60  # seconds of clock difference tolerated with a provider
MAX_ID_TOKEN_AGE = 600  # an ID token issued longer ago than this is not accepted


class InvalidUpstreamResponse(Exception):
    """The provider's answer fails a check: it is not trusted, nothing is stored."""


def unverified_header(token: str) -> dict[str, Any]:
    try:
        return dict(jws.extract_compact(token.encode()).headers())
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidUpstreamResponse("not a compact JWS") from exc


def decoded(token: str, keys: KeySet, algorithms: list[str]) -> dict[str, Any]:
    """The claims of a JWS signed by one of ``keys`` with one of ``algorithms`` (the allow-list
    keeps out ``none`` and HMAC keyed with a public key)."""
    header = unverified_header(token)
    if header.get("alg") not in algorithms:
        raise InvalidUpstreamResponse(f"algorithm {header.get('alg')!r} is not allowed")
    try:
        return dict(jwt.decode(token, keys, algorithms=algorithms).claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidUpstreamResponse(f"signature not verified: {exc}") from exc


def check_id_token(
    claims: dict[str, Any], issuer: str, client_id: str, nonce: str, now: int
) -> dict[str, Any]:
    try:
        jwt.JWTClaimsRegistry(
            now=now,
            leeway=LEEWAY,
            iss={"essential": True, "value": issuer},
            sub={"essential": True},
            aud={"essential": True, "value": client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidUpstreamResponse(f"ID token refused: {exc}") from exc
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
        raise InvalidUpstreamResponse("ID token for several audiences without our azp")
    if not isinstance(claims["iat"], int) or claims["iat"] < now - MAX_ID_TOKEN_AGE:
        raise InvalidUpstreamResponse("ID token issued too long ago")
    if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
        raise InvalidUpstreamResponse("ID token sub is not a string")
    return claims


def userinfo_claims(
    content_type: str,
    body: bytes,
    keys: KeySet | None,
    algorithms: list[str],
    issuer: str,
    client_id: str,
    signed_expected: bool,
) -> dict[str, Any]:
    """The userinfo claims; a signed response (``application/jwt``) is verified, and required
    when the provider is registered as signing it."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/jwt":
        if keys is None:
            raise InvalidUpstreamResponse("signed userinfo but no keys")
        claims = decoded(body.decode(errors="replace").strip(), keys, algorithms)
        if claims.get("iss", issuer) != issuer:
            raise InvalidUpstreamResponse("signed userinfo from another issuer")
        audience = claims.get("aud", client_id)
        if client_id not in (audience if isinstance(audience, list) else [audience]):
            raise InvalidUpstreamResponse("signed userinfo for another audience")
        return claims
    if signed_expected:
        raise InvalidUpstreamResponse("userinfo is not signed, and this provider must sign it")
    if media_type != "application/json":
        raise InvalidUpstreamResponse(f"userinfo as {media_type or 'nothing'}")
    try:
        claims = json.loads(body)
    except ValueError as exc:
        raise InvalidUpstreamResponse("userinfo is not JSON") from exc
    if not isinstance(claims, dict):
        raise InvalidUpstreamResponse("userinfo is not a JSON object")
    return claims
