"""The demo service's back-channel logout receiver (OpenID Connect Back-Channel Logout 1.0
§2.6): a logout token is checked as a relying party must, with joserfc and the broker's
published keys only (never the broker's own code), and the service's sessions of its ``sid``
(or, without one, of its ``sub``) end."""

from __future__ import annotations

import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError

from broker.demo.online_service.relying_party import RelyingParty, unverified_header

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ALGORITHMS = ["ES256", "RS256"]
LEEWAY = 30  # seconds of clock difference tolerated on iat and exp
MAX_AGE = 300  # a token issued longer ago than this is refused, whatever its exp


class LogoutRejected(Exception):
    """§2.8: the request is refused with 400 and an OAuth error."""

    def __init__(self, description: str, error: str = "invalid_request") -> None:
        super().__init__(description)
        self.error, self.description = error, description


async def logout_claims(rp: RelyingParty, token: str) -> dict[str, Any]:
    """The claims of a valid logout token from this service's broker, for this service."""
    header = unverified_header(token)
    # Explicit typing (§2.4, §4.1): an ID token or another JWT of the broker cannot pass.
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != "logout+jwt":
        raise LogoutRejected("typ must be logout+jwt")
    try:
        keys = await rp.broker_keys(header.get("kid"))
        claims = dict(jwt.decode(token, keys, algorithms=ALGORITHMS).claims)
    except httpx.HTTPError:
        raise
    except (JoseError, ValueError, TypeError):
        raise LogoutRejected("the signature is not the broker's") from None
    now = int(time.time())
    try:
        jwt.JWTClaimsRegistry(
            now=now,
            leeway=LEEWAY,
            iss={"essential": True, "value": rp.issuer},
            aud={"essential": True, "value": rp.client_id},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(claims)
    except JoseError as exc:
        raise LogoutRejected(f"not for this service, or not valid now ({exc.error})") from None
    if not isinstance(claims["iat"], int) or claims["iat"] < now - MAX_AGE:
        raise LogoutRejected("the token is too old")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(LOGOUT_EVENT), dict):
        raise LogoutRejected("not a logout token (events)")
    if "nonce" in claims:
        raise LogoutRejected("a logout token has no nonce")
    if not any(isinstance(claims.get(name), str) and claims[name] for name in ("sid", "sub")):
        raise LogoutRejected("the token names neither a session (sid) nor a user (sub)")
    if not isinstance(claims["jti"], str) or not rp.first_logout_jti(
        claims["jti"], claims["exp"] + LEEWAY
    ):
        raise LogoutRejected("this logout token was already received")
    return claims


def sessions_to_end(sessions: dict[str, dict[str, Any]], claims: dict[str, Any]) -> list[str]:
    """The service's sessions the token ends: those of its sid (when it names one, and of
    its sub too when both are given), else every session of its sub."""
    sid, sub = claims.get("sid"), claims.get("sub")
    return [
        session_id
        for session_id, session in sessions.items()
        if (sid is None or session.get("sid") == sid) and (sub is None or session.get("sub") == sub)
    ]
