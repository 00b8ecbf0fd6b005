"""Consent receipts: what the citizen agreed to, signed by the broker so that anyone can check
it against the broker's published keys (``/jwks``) without asking the broker.

A receipt is a compact JWS (``typ: consent-receipt+jwt``) whose claims name the grant, the
service, the purpose and legal basis, the items with the labels shown, what the screen said
besides (who is responsible and how to reach them and their data protection officer, how long
the service keeps the data, why each item, what to do instead of consenting), the dates and
where to withdraw. It is made once, at approval, and kept with the grant."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

RECEIPT_TYPE = "consent-receipt+jwt"
ACCEPTED_ALGS = ["ES256", "RS256"]


@dataclass(frozen=True)
class ReceiptFacts:
    grant_id: str
    service_name: str
    client_id: str
    purpose: str | None
    legal_basis: str | None
    legal_basis_url: str | None
    scopes: list[str]
    wording: dict[str, Any]  # the groups and labels shown, as kept in the consent history
    mode: str
    granted_at: int
    expires_at: int | None
    withdraw_url: str
    sub: str  # the pairwise subject the service knows the citizen by
    # As the habilitation stated them on the screen (None: not stated).
    controller: str | None = None  # the organisation responsible for the data
    contact: str | None = None  # its contact: an email address or an https URL
    dpo: str | None = None  # its data protection officer: likewise
    retention: str | None = None  # how long the service keeps the data
    reasons: Mapping[str, str] = field(default_factory=dict)  # granted item -> why asked
    if_refused: str | None = None  # what the citizen could do instead


class InvalidReceipt(Exception):
    pass


def sign_receipt(facts: ReceiptFacts, signing_key, issuer: str) -> str:
    claims = {
        "iss": issuer,
        "iat": facts.granted_at,
        "jti": facts.grant_id,
        "consent_id": facts.grant_id,
        "sub": facts.sub,
        "service": {"name": facts.service_name, "client_id": facts.client_id},
        "purpose": facts.purpose,
        "legal_basis": facts.legal_basis,
        "legal_basis_url": facts.legal_basis_url,
        "scopes": list(facts.scopes),
        "items": [
            {
                "provider": group.get("provider_name"),
                "labels": [item["label"] for item in group.get("items", [])],
            }
            for group in facts.wording.get("groups", [])
        ],
        "locale": facts.wording.get("locale"),
        "controller": facts.controller,
        "contact": facts.contact,
        "dpo": facts.dpo,
        "retention": facts.retention,
        "reasons": dict(facts.reasons),
        "if_refused": facts.if_refused,
        "mode": facts.mode,
        "granted_at": facts.granted_at,
        "expires_at": facts.expires_at,
        "withdraw": facts.withdraw_url,
    }
    header = {"alg": signing_key.alg, "kid": signing_key.kid, "typ": RECEIPT_TYPE}
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
    return jws.serialize_compact(header, payload, signing_key, algorithms=[signing_key.alg])


def verify_receipt(receipt: str, keys: KeySet, issuer: str) -> dict[str, Any]:
    """The receipt's claims if the broker signed them; raises InvalidReceipt otherwise."""
    try:
        token = jws.deserialize_compact(receipt, keys, algorithms=ACCEPTED_ALGS)
        claims = json.loads(token.payload)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidReceipt("the signature does not verify") from exc
    if token.headers().get("typ") != RECEIPT_TYPE:
        raise InvalidReceipt("not a consent receipt")
    if not isinstance(claims, dict) or claims.get("iss") != issuer:
        raise InvalidReceipt("not issued by this broker")
    return claims
