"""Consent events as Security Event Tokens (RFC 8417): what a service is told when a citizen's
consent to it is revoked, narrowed or expired, signed by the broker."""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from broker.core.security import random_token
from consent.models import EventKind

SET_TYPE = "secevent+jwt"
MEDIA_TYPE = "application/secevent+jwt"
EVENTS_NAMESPACE = "https://consent-broker.example/events/"
EVENT_REVOKED = EVENTS_NAMESPACE + "consent-revoked"
EVENT_NARROWED = EVENTS_NAMESPACE + "consent-narrowed"
EVENT_EXPIRED = EVENTS_NAMESPACE + "consent-expired"
EVENT_TYPES: dict[str, str] = {
    EventKind.REVOKED: EVENT_REVOKED,
    EventKind.NARROWED: EVENT_NARROWED,
    EventKind.EXPIRED: EVENT_EXPIRED,
}


def consent_event(
    signing_key: ECKey | RSAKey,
    issuer: str,
    client_id: str,
    sub: str,
    grant_id: str,
    kind: str,
    scopes: list[str],
    now: int,
    reason: str | None = None,
) -> str:
    """A SET telling ``client_id`` that the consent ``grant_id`` of its user ``sub`` (the
    pairwise subject this service knows) was revoked, narrowed or expired. No ``exp``: a SET
    states a fact (RFC 8417 §2.2); receivers deduplicate on ``jti``."""
    try:
        event_type = EVENT_TYPES[kind]
    except KeyError:
        raise ValueError(f"unknown consent event kind {kind!r}") from None
    payload: dict[str, Any] = {"scopes": list(scopes)}
    if reason is not None:
        payload["reason"] = reason
    claims = {
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "jti": random_token(24),
        "sub": sub,
        "consent_id": grant_id,
        "events": {event_type: payload},
    }
    alg = signing_key.alg
    if alg is None:  # the broker's keys are generated with their algorithm
        raise ValueError("a signing key without an algorithm")
    header = {"alg": alg, "kid": signing_key.kid, "typ": SET_TYPE}
    return jwt.encode(header, claims, signing_key, algorithms=[alg])
