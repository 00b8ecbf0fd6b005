"""How the consent screen names each data provider inside a sentence, in French with the right
article and its contractions ("la CAF ou la MSA", "de la CAF ou de la MSA", "du Cnous",
"au Cnous", "France Travail") and in English ("the CAF or the MSA"). The group headings keep
the catalogue's full names (``broker.catalogue.scopes``); sentences use these short forms, so
that a provider is called the same way everywhere on the screen.

French sentences take the form they need (``of`` after "auprès" or "de", ``to`` after a verb
of asking); in English the preposition is in the translated sentence itself, so every form is
the name with its article."""

from __future__ import annotations

from dataclasses import dataclass

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
    "cnaf": {  # one interface for the family quotient of both
        "fr": ProviderNames("la CAF ou la MSA", "de la CAF ou de la MSA", "à la CAF ou à la MSA"),
        "en": _english("the CAF or the MSA"),
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


def sentence_start(text: str) -> str:
    """``text`` as the first words of a sentence: "la CAF" -> "La CAF"."""
    return text[:1].upper() + text[1:]
