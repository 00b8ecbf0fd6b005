"""The identity the broker holds about the citizen, in words: names, the date of birth
written out, the sex, the places of birth by name, the identity provider by name.

Evaluated at render time, in the request's locale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel import dates

from broker.web.i18n import DATE_PATTERN, N_, format_datetime, gettext
from broker.web.locale import current_locale
from consent.space import places
from consent.space.words import gender_word

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


def birth_date(value: str) -> tuple[date | None, str]:
    """The date of birth and its words; a presumed date (``-00`` parts) reads "août 1962" or
    "1962"; anything else is shown as it is."""
    try:
        year, month, day = (int(part) for part in value.split("-"))
        if month == 0:
            return date(year, 1, 1), str(year)
        if day == 0:
            shown = date(year, month, 1)
            return shown, dates.format_date(shown, format="MMMM y", locale=current_locale())
        born = date(year, month, day)
    except ValueError:
        return None, value
    return born, dates.format_date(born, format=DATE_PATTERN, locale=current_locale())


def identity_lines(citizen, provider_name: str | None) -> list[IdentityLine]:
    lines = [
        IdentityLine(gettext(label), getattr(citizen, name), name)
        for name, label in NAMES
        if getattr(citizen, name)
    ]
    born_on, born_words = birth_date(citizen.birthdate)
    lines.append(IdentityLine(gettext(N_("Date de naissance")), born_words, "birthdate"))
    lines.append(IdentityLine(gettext(N_("Sexe")), gender_word(citizen.gender), "gender"))
    if citizen.birthplace:
        lines.append(
            IdentityLine(
                gettext(N_("Lieu de naissance")),
                places.commune(citizen.birthplace, born_on),
                "birthplace",
            )
        )
    lines.append(
        IdentityLine(
            gettext(N_("Pays de naissance")), places.country(citizen.birthcountry), "birthcountry"
        )
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
