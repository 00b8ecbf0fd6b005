"""What the request pages say: the fields' labels, the statuses and the exchange's events in
words, the catalogue's groups in the page's language, the domain's problems translated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from broker.admin.requests.content import (
    CONTACT_ROLES,
    contact_field,
    data_catalogue,
    field_of_reason,
)
from broker.admin.requests.words import CONTACT_LABELS, CONTACT_PARTS, FIELD_LABELS, Problem
from broker.catalogue.registry import DataProvider, Scope
from broker.catalogue.scopes import REGISTRY
from broker.web.i18n import N_, gettext
from broker.web.locale import current_locale

STATUS_WORDS = {
    "draft": N_("Brouillon"),
    "submitted": N_("Déposée, en instruction"),
    "changes_requested": N_("Modifications demandées"),
    "approved": N_("Approuvée"),
    "refused": N_("Refusée"),
}
EVENT_WORDS = {
    "submitted": N_("a déposé la version %(version)s"),
    "changes_requested": N_("a demandé des modifications"),
    "approved": N_("a approuvé la demande"),
    "refused": N_("a refusé la demande"),
    "message": N_("a écrit"),
}
ROLE_WORDS = {
    "requester": N_("demandeur"),
    "instructor": N_("instructeur"),
    "administrator": N_("administrateur"),
}
# What a page says after a change (``?fait=…``).
DONE = {
    "creee": N_("La demande a été enregistrée comme brouillon. Relisez-la, puis déposez-la."),
    "enregistree": N_("La demande a été enregistrée. Elle n'est pas encore déposée."),
    "submit": N_("La demande a été déposée : un instructeur va l'examiner."),
    "ask_changes": N_("Les modifications ont été demandées à l'organisation."),
    "approve": N_("La demande est approuvée : l'habilitation est en vigueur."),
    "refuse": N_("La demande est refusée."),
    "message": N_("Le message a été envoyé."),
}
# Where the error summary sends the reader for each field (its first control).
FIELD_ANCHORS = {"scopes": "donnees", "optional_scopes": "donnees", "consent_mode": "consent_mode"}


def english() -> bool:
    return current_locale() == "en"


def scope_label(scope: Scope) -> str:
    return scope.label_en if english() else scope.label_fr


def provider_name(provider: DataProvider) -> str:
    return provider.name_en if english() else provider.name_fr


def label_of(field: str) -> str:
    """A field's label in the page's language (contacts and reasons included)."""
    if field in FIELD_LABELS:
        return gettext(FIELD_LABELS[field])
    for role in CONTACT_ROLES:
        for part, part_label in CONTACT_PARTS.items():
            if field == contact_field(role, part):
                return f"{gettext(CONTACT_LABELS[role])} – {gettext(part_label)}"
    scope = REGISTRY.get(field.removeprefix("reason_"))
    if field.startswith("reason_") and scope is not None:
        return gettext(N_("Pourquoi : %(item)s")) % {"item": scope_label(scope)}
    return field


def said(problem: Problem) -> str:
    """A problem in the page's language."""
    text = gettext(problem.message)
    params = dict(problem.params)
    if "status" in params:  # a status is said in words
        params["status"] = gettext(STATUS_WORDS.get(str(params["status"]), str(params["status"])))
    return text % params if params else text


def field_errors(errors: Mapping[str, Problem]) -> list[dict[str, str]]:
    """The error summary's lines, in the form's order: field, anchor, label, message."""
    order = {name: index for index, name in enumerate(form_order())}
    return [
        {
            "field": field,
            "anchor": FIELD_ANCHORS.get(field, field),
            "label": label_of(field),
            "message": said(problem),
        }
        for field, problem in sorted(errors.items(), key=lambda item: order.get(item[0], 999))
    ]


def form_order() -> list[str]:
    head = ["organisation_siret", "organisation_name", "service", "purpose", "legal_basis"]
    middle = ["legal_basis_url", "scopes", "optional_scopes"]
    middle += [field_of_reason(s.name) for s in REGISTRY.data_scopes()]
    middle += ["consent_mode", "consent_days", "recipients", "expected_volume"]
    contacts = [contact_field(r, p) for r in CONTACT_ROLES for p in ("name", "email", "phone")]
    return head + middle + contacts + ["controller", "retention", "if_refused", "body"]


def catalogue_groups(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every data item, grouped by provider, as the form shows them: ticked, optional, and
    the reason typed."""
    wanted = set(content.get("scopes") or ())
    optional = set(content.get("optional_scopes") or ())
    reasons = content.get("reasons") or {}
    return [
        {
            "key": provider.key,
            "name": provider_name(provider),
            "items": [
                {
                    "name": scope.name,
                    "label": scope_label(scope),
                    "checked": scope.name in wanted,
                    "optional": scope.name in optional,
                    "reason": reasons.get(scope.name, ""),
                }
                for scope in scopes
            ],
        }
        for provider, scopes in data_catalogue()
    ]


def asked_groups(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The items a version asks for, grouped by provider, for reading."""
    groups = []
    for group in catalogue_groups(content):
        items = [item for item in group["items"] if item["checked"]]
        if items:
            groups.append({**group, "items": items})
    return groups


def labels(scopes: Iterable[Scope]) -> list[str]:
    return [scope_label(scope) for scope in scopes]
