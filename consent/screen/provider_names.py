"""How the consent screen names each data provider inside a sentence, in French with the right
article and its contractions ("la CAF ou la MSA", "de la CAF ou de la MSA", "du Cnous",
"au Cnous", "France Travail"), and at a sentence's start ("La CAF ou la MSA"). The group
headings keep the catalogue's full names (``broker.catalogue.scopes``); sentences use these
short forms, so that a provider is called the same way everywhere on the screen.

Each form is a msgid of the catalog, so that translators see every one of them. French
sentences take the form they need (``of`` after "auprès" or "de", ``to`` after a verb of
asking); in English the preposition is in the translated sentence itself, so ``the``, ``of``
and ``to`` all translate to the name with its article ("the CAF or the MSA")."""

from __future__ import annotations

from dataclasses import dataclass

from broker.catalogue.scopes import REGISTRY
from broker.web.i18n import N_, gettext


@dataclass(frozen=True)
class ProviderNames:
    the: str  # "la CAF": as a subject or an object
    of: str  # "de la CAF", "du Cnous": after "auprès", "les données"
    to: str  # "à la CAF", "au Cnous": after "demander"
    start: str  # "La CAF": ``the`` as a sentence's first words

    def translated(self) -> ProviderNames:
        return ProviderNames(
            gettext(self.the), gettext(self.of), gettext(self.to), gettext(self.start)
        )


NAMES: dict[str, ProviderNames] = {
    "cnaf": ProviderNames(  # one interface for the family quotient of both
        N_("la CAF ou la MSA"),
        N_("de la CAF ou de la MSA"),
        N_("à la CAF ou à la MSA"),
        N_("La CAF ou la MSA"),
    ),
    "dss": ProviderNames(
        N_("la Sécurité sociale"),
        N_("de la Sécurité sociale"),
        N_("à la Sécurité sociale"),
        N_("La Sécurité sociale"),
    ),
    "cnous": ProviderNames(N_("le Cnous"), N_("du Cnous"), N_("au Cnous"), N_("Le Cnous")),
    "mesri": ProviderNames(
        N_("le ministère de l'Enseignement supérieur"),
        N_("du ministère de l'Enseignement supérieur"),
        N_("au ministère de l'Enseignement supérieur"),
        N_("Le ministère de l'Enseignement supérieur"),
    ),
    "france_travail": ProviderNames(
        N_("France Travail"), N_("de France Travail"), N_("à France Travail"), N_("France Travail")
    ),
    "men": ProviderNames(
        N_("le ministère de l'Éducation nationale"),
        N_("du ministère de l'Éducation nationale"),
        N_("au ministère de l'Éducation nationale"),
        N_("Le ministère de l'Éducation nationale"),
    ),
    "dgfip": ProviderNames(
        N_("l'administration fiscale (DGFiP)"),
        N_("de l'administration fiscale (DGFiP)"),
        N_("à l'administration fiscale (DGFiP)"),
        N_("L'administration fiscale (DGFiP)"),
    ),
    "dsnj": ProviderNames(
        N_("la Direction du service national et de la jeunesse"),
        N_("de la Direction du service national et de la jeunesse"),
        N_("à la Direction du service national et de la jeunesse"),
        N_("La Direction du service national et de la jeunesse"),
    ),
    "gip_mds": ProviderNames(
        N_("le GIP-MDS (déclarations sociales des employeurs)"),
        N_("du GIP-MDS (déclarations sociales des employeurs)"),
        N_("au GIP-MDS (déclarations sociales des employeurs)"),
        N_("Le GIP-MDS (déclarations sociales des employeurs)"),
    ),
    "ants": ProviderNames(
        N_("l'Agence nationale des titres sécurisés (ANTS)"),
        N_("de l'Agence nationale des titres sécurisés (ANTS)"),
        N_("à l'Agence nationale des titres sécurisés (ANTS)"),
        N_("L'Agence nationale des titres sécurisés (ANTS)"),
    ),
    "sdh": ProviderNames(
        N_("le ministère des Sports"),
        N_("du ministère des Sports"),
        N_("au ministère des Sports"),
        N_("Le ministère des Sports"),
    ),
}
# A provider added to the catalogue without its forms above: its short name, as it is, with
# the bare prepositions (English: the name alone).
BARE_OF = N_("de %(name)s")
BARE_TO = N_("à %(name)s")


def provider_names(key: str) -> ProviderNames:
    """The forms of provider ``key`` in the current locale."""
    forms = NAMES.get(key)
    if forms is not None:
        return forms.translated()
    short = REGISTRY.provider(key).short_name
    named = {"name": short}
    return ProviderNames(
        short, gettext(BARE_OF) % named, gettext(BARE_TO) % named, sentence_start(short)
    )


def sentence_start(text: str) -> str:
    """``text`` as the first words of a sentence: "la CAF" -> "La CAF"."""
    return text[:1].upper() + text[1:]
