"""The identity pivot as received from any identity provider: checked, normalised, and keyed.

Providers spell the same person differently (accents, case, hyphens, extra spaces), so the
key that reconciles a citizen is computed on a canonical form; the pivot kept and shown is
the one received, trimmed. The key is a keyed digest: the identity never serves as a key in
clear, and a leaked table does not let anyone test a guessed identity without the secret."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from broker.core.security import keyed_digest
from broker.identity.base import IdentityPivot

FRANCE = "99100"
GENDERS = {"female", "male"}
BIRTHDATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")  # -00 parts: a presumed date
COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
COUNTRY = re.compile(r"^99\d{3}$")
MAX_NAME = 255


class PivotRejected(Exception):
    """The provider's identity is incomplete or malformed: ``problems`` says what."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else ""


def valid_birthdate(value: str) -> bool:
    match = BIRTHDATE.match(value)
    if not match:
        return False
    year, month, day = (int(part) for part in match.groups())
    if not 1850 <= year <= 2200 or month > 12 or day > 31:
        return False
    return not (month == 0 and day != 0)  # an unknown month comes with an unknown day


def checked_pivot(claims: Mapping[str, Any]) -> IdentityPivot:
    """The pivot of a provider's claims, or PivotRejected naming every problem."""
    pivot = IdentityPivot(
        given_name=" ".join(text(claims, "given_name").split()),
        family_name=" ".join(text(claims, "family_name").split()),
        birthdate=text(claims, "birthdate"),
        gender=text(claims, "gender").lower(),
        birthplace=text(claims, "birthplace").upper(),
        birthcountry=text(claims, "birthcountry"),
        preferred_username=text(claims, "preferred_username")[:MAX_NAME],
        email=text(claims, "email")[:320],
    )
    problems = []
    for name in ("given_name", "family_name"):
        value = getattr(pivot, name)
        if not value or len(value) > MAX_NAME or not any(c.isalpha() for c in canonical(value)):
            problems.append(f"{name} missing or not a name")
    if not valid_birthdate(pivot.birthdate):
        problems.append("birthdate is not YYYY-MM-DD")
    if pivot.gender not in GENDERS:
        problems.append("gender is not female or male")
    if not COUNTRY.match(pivot.birthcountry):
        problems.append("birthcountry is not a COG country code")
    if pivot.birthcountry == FRANCE and not COMMUNE.match(pivot.birthplace):
        problems.append("birthplace is not a COG commune code (born in France)")
    if pivot.birthcountry != FRANCE and pivot.birthplace:
        problems.append("birthplace given for a birth abroad")
    if problems:
        raise PivotRejected(problems)
    return pivot


# Letters that do not decompose into a base letter and an accent.
UNDECOMPOSED = str.maketrans(
    {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE",
     "œ": "oe", "Đ": "D", "đ": "d", "Þ": "TH", "þ": "th", "ı": "i"}
)  # fmt: skip


def canonical(value: str) -> str:
    """Upper case, no accents, one space between words (hyphens and apostrophes too). Letters
    of every script are kept: two people with Cyrillic or Greek names stay two people."""
    decomposed = unicodedata.normalize("NFKD", value.translate(UNDECOMPOSED))
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return " ".join(re.sub(r"[\W_]+", " ", letters).split())


def pivot_digest(key: bytes, pivot: IdentityPivot) -> str:
    """The citizen's key: the same person gives the same digest through any provider."""
    parts = (
        canonical(pivot.given_name),
        canonical(pivot.family_name),
        pivot.birthdate,
        pivot.gender,
        pivot.birthplace,
        pivot.birthcountry,
    )
    return keyed_digest(key, "|".join(parts))
