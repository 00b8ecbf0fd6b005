"""The requests' messages and the content's field labels as French msgids (French is the
source language): the portal translates them when it shows them, with their ``%(name)s``
parameters. The labels are the form's and the version comparison's alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def N_(message: str) -> str:  # noqa: N802 - gettext's marker name, as the extractor knows it
    """Marks a message for the catalog; the page translates it when it shows it."""
    return message


@dataclass(frozen=True)
class Problem:
    """A message to show: a French msgid and the values of its placeholders."""

    message: str
    params: Mapping[str, str | int] = field(default_factory=dict)


def problem(message: str, **params: str | int) -> Problem:
    return Problem(message, params)


# The content's fields, by their form name (the contacts' are CONTACT_LABELS and CONTACT_PARTS).
FIELD_LABELS = {
    "organisation_siret": N_("SIRET de l'organisation"),
    "organisation_name": N_("Nom de l'organisation"),
    "service": N_("Service en ligne"),
    "purpose": N_("Finalité"),
    "legal_basis": N_("Cadre juridique"),
    "legal_basis_url": N_("Lien vers le texte juridique"),
    "scopes": N_("Données demandées"),
    "optional_scopes": N_("Données facultatives"),
    "consent_mode": N_("Consentement"),
    "consent_days": N_("Durée du consentement, en jours"),
    "recipients": N_("Destinataires (SIRET)"),
    "expected_volume": N_("Volume attendu"),
    "controller": N_("Responsable du traitement"),
    "retention": N_("Durée de conservation"),
    "if_refused": N_("Si l'usager refuse"),
    "body": N_("Message"),
}
CONTACT_LABELS = {
    "responsible": N_("Responsable de la demande"),
    "dpo": N_("Délégué à la protection des données"),
    "technical": N_("Contact technique"),
}
CONTACT_PARTS = {"name": N_("nom"), "email": N_("adresse électronique"), "phone": N_("téléphone")}
