"""The identity items of the consent screen's preview: the values the identity provider sent,
which the broker already holds (no provider is called), in words: the birthplace as the commune
was named on the date of birth, the country by its name, the date written out."""

from __future__ import annotations

from broker.catalogue.cog import FRANCE
from broker.catalogue.registry import IDENTITY
from broker.catalogue.scopes import REGISTRY
from broker.oidc.models import CitizenIdentity
from broker.resources.preview import OK, ProviderPreview
from broker.resources.readable import (
    PreviewValue,
    birth_day,
    readable_commune,
    readable_country,
    readable_date,
)
from consent.identity_words import GENDERS

LABELS = {  # claim -> (French, English)
    "given_name": ("Prénoms", "Given names"),
    "family_name": ("Nom de naissance", "Birth name"),
    "preferred_username": ("Nom d'usage", "Usual name"),
    "birthdate": ("Date de naissance", "Date of birth"),
    "gender": ("Sexe", "Sex"),
    "birthplace": ("Lieu de naissance", "Place of birth"),
    "birthcountry": ("Pays de naissance", "Country of birth"),
    "email": ("Adresse électronique", "Email address"),
}


def identity_preview(
    citizen: CitizenIdentity, scopes: list[str], locale: str
) -> ProviderPreview | None:
    en = locale == "en"
    values: dict[str, list[PreviewValue]] = {}
    for name in scopes:
        scope = REGISTRY.get(name)
        if scope is None or scope.kind != IDENTITY:
            continue
        shown = [
            PreviewValue(LABELS[claim][en], _value(citizen, claim, en))
            for claim in scope.claims
            if claim in LABELS
        ]
        if shown:
            values[name] = shown
    return ProviderPreview(provider="identity", status=OK, values=values) if values else None


def _value(citizen: CitizenIdentity, claim: str, en: bool) -> str:
    raw = citizen.claim(claim) or ""
    if claim == "gender" and raw in GENDERS:
        return GENDERS[raw][en]
    if claim == "birthdate" and raw:
        return readable_date(raw, en) or raw
    if claim == "birthplace" and raw:
        return readable_commune(raw, en, birth_day(citizen.birthdate or ""))
    if claim == "birthplace" and citizen.birthcountry not in ("", FRANCE):
        return "outside France" if en else "hors de France"  # FranceConnect sends no place
    if claim == "birthcountry" and raw:
        return readable_country(raw, en)
    return raw or ("not provided" if en else "non renseigné")
