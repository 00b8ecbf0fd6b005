"""How the consent screen names each data provider inside a sentence, in French with the right
article and its contractions ("la CAF", "de la CAF", "du Cnous", "au Cnous", "France Travail")
and in English ("the CAF"). The group headings keep the catalogue's full names
(``broker.catalogue.scopes``); sentences use these short forms, so that a provider is called
the same way everywhere on the screen.

French sentences take the form they need (``of`` after "auprès" or "de", ``to`` after a verb
of asking); in English the preposition is in the translated sentence itself, so every form is
the name with its article."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from babel.lists import format_list

from broker.catalogue.scopes import REGISTRY
from broker.web.locale import current_locale


@dataclass(frozen=True)
class ProviderNames:
    the: str  # "la CAF": as a subject or an object
    of: str  # "de la CAF", "du Cnous": after "auprès", "les données"
    to: str  # "à la CAF", "au Cnous": after "demander"


def _english(the: str) -> ProviderNames:
    return ProviderNames(the, the, the)


NAMES: dict[str, dict[str, ProviderNames]] = {
    "cnaf": {
        "fr": ProviderNames("la CAF", "de la CAF", "à la CAF"),
        "en": _english("the CAF"),
    },
    "dss": {
        "fr": ProviderNames(
            "la Sécurité sociale", "de la Sécurité sociale", "à la Sécurité sociale"
        ),
        "en": _english("Social Security"),
    },
    "cnous": {
        "fr": ProviderNames("le Cnous", "du Cnous", "au Cnous"),
        "en": _english("the Cnous"),
    },
    "mesri": {
        "fr": ProviderNames(
            "le ministère de l'Enseignement supérieur",
            "du ministère de l'Enseignement supérieur",
            "au ministère de l'Enseignement supérieur",
        ),
        "en": _english("the Ministry of Higher Education"),
    },
    "france_travail": {
        "fr": ProviderNames("France Travail", "de France Travail", "à France Travail"),
        "en": _english("France Travail"),
    },
    "men": {
        "fr": ProviderNames(
            "le ministère de l'Éducation nationale",
            "du ministère de l'Éducation nationale",
            "au ministère de l'Éducation nationale",
        ),
        "en": _english("the Ministry of Education"),
    },
    "dgfip": {
        "fr": ProviderNames(
            "l'administration fiscale (DGFiP)",
            "de l'administration fiscale (DGFiP)",
            "à l'administration fiscale (DGFiP)",
        ),
        "en": _english("the tax administration (DGFiP)"),
    },
}


def provider_names(key: str, locale: str | None = None) -> ProviderNames:
    """The forms of provider ``key`` in ``locale`` (the current one by default). A provider
    added to the catalogue without its forms here is named by its short name, as it is."""
    locale = locale or current_locale()
    forms = NAMES.get(key)
    if forms is not None:
        return forms.get(locale, forms["fr"])
    short = REGISTRY.provider(key).short_name
    return ProviderNames(short, short, short) if locale == "en" else _bare_french(short)


def _bare_french(name: str) -> ProviderNames:
    return ProviderNames(name, f"de {name}", f"à {name}")


def listed(keys: Iterable[str], form: str = "the", locale: str | None = None) -> str:
    """Several providers in one phrase, in ``form`` ("the", "of" or "to"): "de la CAF et du
    Cnous", "the CAF and the Cnous"."""
    locale = locale or current_locale()
    return format_list([getattr(provider_names(k, locale), form) for k in keys], locale=locale)


def sentence_start(text: str) -> str:
    """``text`` as the first words of a sentence: "la CAF" -> "La CAF"."""
    return text[:1].upper() + text[1:]
