"""The agent as the agents' identity provider describes them (ProConnect's claims: email,
given_name, usual_name, siret, organizational_unit; email_verified when the provider says)."""

from __future__ import annotations

from typing import Any

from broker.admin.agents import Identity
from broker.portal.signin_state import SignInFailed


def text_claim(claims: dict[str, Any], *names: str, limit: int = 300) -> str:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:limit]
    return ""


def identity_of(issuer: str, claims: dict[str, Any]) -> Identity:
    """The agent as the provider describes them (ProConnect's claims)."""
    email = text_claim(claims, "email", limit=320)
    if not email or "@" not in email:
        raise SignInFailed("incomplete_identity", "no email for this agent")
    return Identity(
        issuer=issuer,
        subject=claims["sub"],
        email=email,
        given_name=text_claim(claims, "given_name", limit=255),
        family_name=text_claim(claims, "usual_name", "family_name", limit=255),
        siret=text_claim(claims, "siret", limit=14) or None,
        organisation=text_claim(claims, "organisation", "organizational_unit") or None,
        email_verified=verified_flag(claims.get("email_verified")),
    )


def verified_flag(value: Any) -> bool | None:
    """``email_verified`` as the provider gave it: a boolean, or the string some send; None
    when absent or unreadable (the provider did not say)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None
