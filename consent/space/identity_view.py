"""The identity the broker holds about the citizen, in words: names, the date of birth
written out, the sex, the places of birth by name, the identity provider by name. Dates and
places are read as the consent screen reads them (``broker.resources.readable``).

Evaluated at render time, in the request's locale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.resources.readable import birth_day, readable_commune, readable_country, readable_date
from broker.web.i18n import N_, format_datetime, gettext
from consent.identity_words import gender_word
from consent.space.words import english

NAMES = (
    ("given_name", N_("Prénoms")),
    ("family_name", N_("Nom de naissance")),
    ("preferred_username", N_("Nom d'usage")),
)


@dataclass(frozen=True)
class IdentityLine:
    label: str
    value: str
    field: str  # the claim it shows (an attribute for tests, never shown)


def birthplace_name(citizen: Any) -> str | None:
    """The commune of birth as it was named on the date of birth; None: born abroad."""
    if not citizen.birthplace:
        return None
    return readable_commune(citizen.birthplace, english(), birth_day(citizen.birthdate))


def birthcountry_name(citizen: Any) -> str:
    return readable_country(citizen.birthcountry, english())


def identity_lines(citizen: Any, provider_name: str | None) -> list[IdentityLine]:
    en = english()
    lines = [
        IdentityLine(gettext(label), getattr(citizen, name), name)
        for name, label in NAMES
        if getattr(citizen, name)
    ]
    born = readable_date(citizen.birthdate, en) or citizen.birthdate
    lines.append(IdentityLine(gettext(N_("Date de naissance")), born, "birthdate"))
    lines.append(IdentityLine(gettext(N_("Sexe")), gender_word(citizen.gender, en), "gender"))
    if (place := birthplace_name(citizen)) is not None:
        lines.append(IdentityLine(gettext(N_("Lieu de naissance")), place, "birthplace"))
    lines.append(
        IdentityLine(gettext(N_("Pays de naissance")), birthcountry_name(citizen), "birthcountry")
    )
    if citizen.email:
        lines.append(IdentityLine(gettext(N_("Adresse électronique")), citizen.email, "email"))
    lines.append(
        IdentityLine(
            gettext(N_("Fournisseur d'identité de votre dernière connexion")),
            provider_name or citizen.idp,
            "idp",
        )
    )
    lines.append(
        IdentityLine(
            gettext(N_("Reçue pour la première fois le")),
            format_datetime(citizen.created_at),
            "created_at",
        )
    )
    lines.append(
        IdentityLine(
            gettext(N_("Mise à jour le")), format_datetime(citizen.updated_at), "updated_at"
        )
    )
    return lines
