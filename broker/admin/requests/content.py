"""What a request asks for (its ``content``, the shape in habilitation_request_version) and
its checks, one readable problem per form field. The rules are the habilitations' own (the
consent terms, the https link, the consent screen's information, SIRETs): a request that
passes them is one ``add_habilitation`` accepts."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from broker.admin.clients import AdminError, check_https_url
from broker.admin.consent_information import (
    MAX_CONTROLLER,
    MAX_IF_REFUSED,
    MAX_REASON,
    MAX_RETENTION,
    REFUSED_CATEGORIES,
    StatedInformation,
    checked_email,
    checked_information,
)
from broker.admin.consent_terms import ConsentTermsError, consent_terms
from broker.admin.requests.errors import Refusal, RequestError
from broker.admin.requests.words import N_, Problem, problem
from broker.catalogue.registry import DATA, DataProvider, Scope
from broker.catalogue.scopes import REGISTRY
from broker.catalogue.siret import valid_siret
from broker.oidc.models import ConsentMode

CONTACT_ROLES = ("responsible", "dpo", "technical")
MAX_NAME = 200  # a person's, a service's (the service table's size)
MAX_ORGANISATION = 300
MAX_PURPOSE = 2000  # the habilitation table's sizes
MAX_VOLUME = 200
PHONE = re.compile(r"\+?[0-9][0-9 .()-]{5,29}")

INCOMPLETE = N_("La demande n'est pas complète : corrigez les champs signalés.")
TOO_LONG = N_("Ce texte doit faire au plus %(limit)s caractères (il en a %(length)s).")
INVISIBLE = N_("Ce texte contient un caractère invisible ou de contrôle : retirez-le.")
REQUIRED = {
    "organisation_name": N_("Indiquez le nom de l'organisation."),
    "service": N_("Indiquez le nom du service en ligne."),
    "purpose": N_("Indiquez la finalité : à quoi serviront les données."),
    "legal_basis": N_("Indiquez le cadre juridique qui autorise ce traitement."),
    "expected_volume": N_("Indiquez le volume attendu (par exemple : 500 par mois)."),
    "controller": N_("Indiquez l'organisme responsable du traitement."),
    "retention": N_("Indiquez combien de temps les données seront conservées."),
    "name": N_("Indiquez le nom du contact."),
    "email": N_("Indiquez l'adresse électronique du contact."),
}
CONSENT_RULE_PROBLEMS = {
    "optional_not_among_scopes": (
        "optional_scopes",
        N_("Une donnée facultative doit aussi être cochée parmi les données demandées."),
    ),
    "all_optional": (
        "optional_scopes",
        N_(
            "Au moins une donnée doit être obligatoire : elles ne peuvent pas toutes être "
            "facultatives."
        ),
    ),
    "unknown_mode": ("consent_mode", N_("Choisissez le mode de consentement.")),
    "days_with_one_time": (
        "consent_days",
        N_(
            "La durée ne vaut que pour un consentement renouvelable : laissez ce champ vide "
            "pour un consentement ponctuel."
        ),
    ),
    "days_out_of_range": (
        "consent_days",
        N_("La durée du consentement doit être comprise entre 1 et 365 jours."),
    ),
}


def data_catalogue() -> list[tuple[DataProvider, list[Scope]]]:
    """Every data scope a request may ask for, grouped by data provider (registry order)."""
    groups = REGISTRY.group_by_provider(s.name for s in REGISTRY.data_scopes())
    return [(provider, scopes) for provider, scopes in groups if provider is not None]


def field_of_reason(scope: str) -> str:
    return f"reason_{scope}"


def contact_field(role: str, part: str) -> str:
    return f"{role}_{part}"


class Checker:
    """Collects one problem per field while a content is read."""

    def __init__(self) -> None:
        self.errors: dict[str, Problem] = {}

    def fail(self, field: str, message: str, **params: str | int) -> None:
        self.errors.setdefault(field, problem(message, **params))

    def text(self, field: str, value: Any, limit: int, required: str | None) -> str | None:
        """One line of text, its spaces and line breaks made single spaces."""
        text = " ".join(str(value or "").split())
        if not text:
            if required is not None:
                self.fail(field, required)
            return None
        if len(text) > limit:
            self.fail(field, TOO_LONG, limit=limit, length=len(text))
        elif any(unicodedata.category(c) in REFUSED_CATEGORIES for c in text):
            self.fail(field, INVISIBLE)
        return text

    def siret(self, field: str, value: Any) -> str | None:
        siret = "".join(str(value or "").split())
        if not valid_siret(siret):
            self.fail(
                field,
                N_("Un SIRET compte 14 chiffres et sa clé doit être valide : %(value)s."),
                value=siret or "—",
            )
            return None
        return siret


def checked_content(raw: Mapping[str, Any], organisation_siret: str) -> dict[str, Any]:
    """The content to store, every field checked; ``RequestError`` (INVALID) with a problem
    per field otherwise. ``organisation_siret``: the organisation the request is filed for."""
    check = Checker()
    organisation = raw.get("organisation") or {}
    siret = check.siret("organisation_siret", organisation.get("siret"))
    if siret is not None and siret != organisation_siret:
        check.fail(
            "organisation_siret",
            N_("Vous déposez pour votre organisation : son SIRET est %(siret)s."),
            siret=organisation_siret,
        )
    content: dict[str, Any] = {
        "organisation": {
            "siret": siret or "",
            "name": check.text(
                "organisation_name",
                organisation.get("name"),
                MAX_ORGANISATION,
                REQUIRED["organisation_name"],
            ),
        },
        "service": check.text("service", raw.get("service"), MAX_NAME, REQUIRED["service"]),
        "purpose": check.text("purpose", raw.get("purpose"), MAX_PURPOSE, REQUIRED["purpose"]),
        "legal_basis": check.text(
            "legal_basis", raw.get("legal_basis"), MAX_PURPOSE, REQUIRED["legal_basis"]
        ),
        "legal_basis_url": checked_link(check, raw.get("legal_basis_url")),
        "expected_volume": check.text(
            "expected_volume", raw.get("expected_volume"), MAX_VOLUME, REQUIRED["expected_volume"]
        ),
        "recipients": checked_recipients(check, raw.get("recipients") or []),
        "contacts": checked_contacts(check, raw.get("contacts") or {}),
        "controller": check.text(
            "controller", raw.get("controller"), MAX_CONTROLLER, REQUIRED["controller"]
        ),
        "retention": check.text(
            "retention", raw.get("retention"), MAX_RETENTION, REQUIRED["retention"]
        ),
        "if_refused": check.text("if_refused", raw.get("if_refused"), MAX_IF_REFUSED, None),
    }
    scopes = checked_scopes(check, raw.get("scopes") or [])
    content.update(checked_terms(check, scopes, raw))
    content["reasons"] = checked_reasons(check, scopes, raw.get("reasons") or {})
    if not check.errors:
        same_rules_as_habilitations(check, content)
    if check.errors:
        raise RequestError(Refusal.INVALID, problem(INCOMPLETE), check.errors)
    return content


def checked_link(check: Checker, value: Any) -> str:
    link = str(value or "").strip()
    if not link:
        return ""
    try:
        if urlsplit(link).scheme != "https":
            raise AdminError("not https")
        check_https_url(link, "legal_basis_url")
    except (AdminError, ValueError):
        check.fail(
            "legal_basis_url",
            N_(
                "Le lien doit être une adresse https complète, sans espace "
                "(https://www.legifrance.gouv.fr/…)."
            ),
        )
    return link


def checked_recipients(check: Checker, values: Sequence[Any]) -> list[str]:
    recipients = ["".join(str(v).split()) for v in values]
    recipients = list(dict.fromkeys(r for r in recipients if r))
    if not recipients:
        check.fail("recipients", N_("Indiquez le SIRET d'au moins un organisme destinataire."))
    elif invalid := [r for r in recipients if not valid_siret(r)]:
        check.fail(
            "recipients",
            N_("Ces SIRET ne sont pas valides (14 chiffres, clé valide) : %(values)s."),
            values=", ".join(invalid),
        )
    return recipients


def checked_contacts(check: Checker, raw: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    contacts = {}
    for role in CONTACT_ROLES:
        given = raw.get(role) or {}
        name = check.text(
            contact_field(role, "name"), given.get("name"), MAX_NAME, REQUIRED["name"]
        )
        email = str(given.get("email") or "").strip()
        if not email:
            check.fail(contact_field(role, "email"), REQUIRED["email"])
        else:
            try:
                email = checked_email(email, "email")
            except AdminError:
                check.fail(
                    contact_field(role, "email"),
                    N_("Adresse électronique invalide (nom@domaine.fr) : %(value)s."),
                    value=email,
                )
        phone = " ".join(str(given.get("phone") or "").split())
        if phone and not PHONE.fullmatch(phone):
            check.fail(
                contact_field(role, "phone"),
                N_(
                    "Numéro de téléphone invalide : des chiffres, espaces, points, tirets et un "
                    "« + » au début seulement."
                ),
            )
        contacts[role] = {"name": name or "", "email": email, "phone": phone}
    return contacts


def checked_scopes(check: Checker, values: Sequence[Any]) -> list[str]:
    wanted = list(dict.fromkeys(str(v) for v in values))
    if not wanted:
        check.fail("scopes", N_("Cochez au moins une donnée."))
        return []
    unknown = [s for s in wanted if (scope := REGISTRY.get(s)) is None or scope.kind != DATA]
    if unknown:
        check.fail(
            "scopes", N_("Ces données n'existent pas : %(scopes)s."), scopes=", ".join(unknown)
        )
        return []
    order = {scope.name: index for index, scope in enumerate(REGISTRY.data_scopes())}
    return sorted(wanted, key=order.__getitem__)


def checked_terms(check: Checker, scopes: list[str], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The consent mode, its duration and the optional items, by ``consent_terms``' rules."""
    mode = str(raw.get("consent_mode") or "")
    optional = [str(s) for s in raw.get("optional_scopes") or []]
    terms: dict[str, Any] = {
        "scopes": scopes,
        "optional_scopes": optional,
        "consent_mode": mode,
        "consent_days": None,
    }
    days_text = str(raw.get("consent_days") if raw.get("consent_days") is not None else "").strip()
    if days_text and not days_text.isdigit():
        check.fail("consent_days", N_("Indiquez un nombre de jours, en chiffres."))
        return terms
    days = int(days_text) if days_text else None
    if mode not in tuple(ConsentMode):
        check.fail(*CONSENT_RULE_PROBLEMS["unknown_mode"])
        return terms
    if not scopes:
        return terms
    try:
        checked = consent_terms(scopes, optional, mode, days)
    except ConsentTermsError as refused:
        check.fail(*CONSENT_RULE_PROBLEMS[refused.rule])
        return terms
    terms.update(optional_scopes=checked.optional_scopes, consent_days=checked.consent_days)
    return terms


def checked_reasons(check: Checker, scopes: list[str], raw: Mapping[str, Any]) -> dict[str, str]:
    """Why each item is needed (optional): kept for the items asked for only."""
    reasons = {}
    for scope in scopes:
        text = check.text(field_of_reason(scope), raw.get(scope), MAX_REASON, None)
        if text:
            reasons[scope] = text
    return reasons


def stated_information(content: Mapping[str, Any]) -> StatedInformation:
    """What the consent screen will say, from a request's content: its controller, the
    responsible contact and the data protection officer's addresses, the retention, the
    reasons and the alternative."""
    contacts = content.get("contacts") or {}
    return StatedInformation(
        controller=content.get("controller") or None,
        contact=(contacts.get("responsible") or {}).get("email") or None,
        dpo=(contacts.get("dpo") or {}).get("email") or None,
        retention=content.get("retention") or None,
        reasons=tuple(f"{s}={t}" for s, t in (content.get("reasons") or {}).items()),
        if_refused=content.get("if_refused") or None,
    )


def same_rules_as_habilitations(check: Checker, content: Mapping[str, Any]) -> None:
    """The consent screen's information as ``add_habilitation`` will check it at approval."""
    try:
        checked_information(stated_information(content), content["scopes"])
    except AdminError as refused:
        check.fail(
            "controller", N_("Ces informations sont refusées : %(detail)s"), detail=str(refused)
        )
