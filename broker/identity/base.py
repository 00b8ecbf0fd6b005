"""What an identity provider's verified answer gives the broker (``broker.identity.federation``
builds it from the provider's ID token and userinfo)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IdentityPivot:
    given_name: str
    family_name: str
    birthdate: str
    gender: str
    birthplace: str
    birthcountry: str
    preferred_username: str = ""
    email: str = ""


@dataclass(frozen=True)
class VerifiedIdentity:
    idp: str
    subject: str
    pivot: IdentityPivot
    acr: str
    amr: tuple[str, ...]
    auth_time: int | None = None  # when the provider authenticated the citizen, if it said
