"""Whom a call is about: the identity pivot of a signed-in citizen, and the keyed digest the
access journal keeps instead of the identity itself.

Standard library only.
"""

from __future__ import annotations

import unicodedata

from broker.core.security import keyed_digest
from broker.oidc.models import CitizenIdentity
from broker.providers.base import ProviderPivot

GENDER_CODES = {"female": "F", "male": "M"}


def pivot_of(citizen: CitizenIdentity) -> ProviderPivot:
    """FranceConnect's pivot in the data providers' terms (given names split, M/F)."""
    return ProviderPivot(
        family_name=citizen.family_name,
        given_names=tuple(citizen.given_name.split()),
        gender=GENDER_CODES.get(citizen.gender, ""),
        birthdate=citizen.birthdate,
        birthcountry=citizen.birthcountry,
        birthplace=citizen.birthplace,
        usage_name=citizen.preferred_username,
    )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.upper().replace("-", " ").replace("'", " ").split())


def identity_digest(key: bytes, pivot: ProviderPivot) -> str:
    """Stable across spellings that providers treat alike (case, accents, hyphens), so that a
    citizen's dashboard can find the calls made about them in either mode."""
    canonical = "|".join(
        (
            _fold(pivot.family_name),
            _fold(" ".join(pivot.given_names)),
            pivot.birthdate,
            pivot.gender,
            pivot.birthcountry,
            pivot.birthplace,
        )
    )
    return keyed_digest(key, "pivot:" + canonical)


def identifier_digest(key: bytes, kind: str, identifier: str) -> str:
    return keyed_digest(key, f"{kind}:{identifier.upper()}")
