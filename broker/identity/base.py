"""What every identity provider gives the broker. The demo provider checks a password against
seeded test citizens; federated providers (upstream OpenID Connect, e.g. FranceConnect) will
produce the same ``VerifiedIdentity`` after their own redirect round-trip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


class IdentityProvider(Protocol):
    key: str
    label: str
