"""The citizen space in words: what a scope, a product, a provider, a status or a journal row
means, in the language of the page. Codes (scope names, product paths, modes) never reach a
citizen: anything unknown gets a generic word instead.

Evaluated at render time, in the request's locale: never inside a database step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from babel.lists import format_list

from broker.catalogue.products import FRANCE_CONNECT, IDENTIFIANT, IDENTITE, INE, product
from broker.catalogue.registry import IDENTITY
from broker.catalogue.scopes import REGISTRY
from broker.oidc.identity_release import USERINFO
from broker.store import identity_releases
from broker.web.i18n import N_, format_datetime, gettext
from broker.web.locale import current_locale
from consent.models import EventKind, GrantStatus

STATUS_LABELS: dict[str, str] = {
    GrantStatus.ACTIVE: N_("En cours"),
    GrantStatus.EXPIRED: N_("Expiré"),
    GrantStatus.REVOKED: N_("Retiré"),
    GrantStatus.REFUSED: N_("Refusé"),
}
EVENT_LABELS: dict[str, str] = {
    EventKind.GRANTED: N_("Accord donné"),
    EventKind.REFUSED: N_("Refus"),
    EventKind.NARROWED: N_("Éléments retirés"),
    EventKind.REVOKED: N_("Accord retiré"),
    EventKind.EXPIRED: N_("Accord expiré"),
}
UNKNOWN_ITEM = N_("Une autre donnée vous concernant")
UNKNOWN_PRODUCT = N_("Des données vous concernant")
UNKNOWN_PROVIDER = N_("Une administration")
UNKNOWN_SERVICE = N_("Service inconnu")
BROKER = N_("Le courtier de consentement")
# The level of a sign-in (eIDAS), in words.
ACR_LEVELS = {"eidas1": N_("faible"), "eidas2": N_("substantiel"), "eidas3": N_("élevé")}

# Rows the broker journals when it hands the citizen's identity to a service (not the data
# API): ``product`` is IDENTITY_PRODUCT, ``credential`` says how the service received it (only
# at userinfo: the broker's ID tokens carry no identity claim).
IDENTITY_PRODUCT = identity_releases.PRODUCT
IDENTITY_SENT = {USERINFO: N_("Lue par le service auprès du courtier")}
# For data rows: was the citizen's identity used to find the data, and who sent it.
IDENTITY_USED = {
    FRANCE_CONNECT: N_("Oui : le courtier l'a envoyée à l'administration pour trouver vos données"),
    IDENTITE: N_("Oui : le logiciel d'un agent l'a envoyée à l'administration"),
    INE: N_("Non : le logiciel d'un agent a envoyé votre numéro INE"),
    IDENTIFIANT: N_("Non : le logiciel d'un agent a envoyé votre identifiant France Travail"),
}
NOT_STATED = N_("Non précisé")
# What the export says of a token a service received (never the token itself).
TOKEN_KINDS = {
    "access": N_("Jeton d'accès"),
    "refresh": N_("Jeton de renouvellement"),
}
TOKEN_VALID = N_("Valable")
TOKEN_EXPIRED = N_("Expiré")
TOKEN_REVOKED = N_("Révoqué")
TOKEN_REPLACED = N_("Remplacé par un nouveau jeton")
# Whether the service was told of a change to a consent (its back-channel).
NOTICE_DELIVERED = N_("prévenu le %(date)s")
NOTICE_PENDING = N_("envoi en cours")
NOTICE_FAILED = N_("n'a pas pu être prévenu (envoi abandonné le %(date)s)")
ORDER = {name: index for index, name in enumerate(REGISTRY.names())}
DATA_RESULT = N_("Données transmises")
IDENTITY_RESULT = N_("Identité transmise")
REFUSED_RESULT = N_("Refusé")
NOTHING_FOUND = N_("Rien trouvé")
FAILED_RESULT = N_("Erreur, rien transmis")


def english() -> bool:
    return current_locale() == "en"


def scope_label(name: str) -> str:
    scope = REGISTRY.get(name)
    if scope is None:
        return gettext(UNKNOWN_ITEM)
    return scope.label_en if english() else scope.label_fr


def scope_labels(names: Iterable[str]) -> list[str]:
    """Labels of the items worth showing (``openid``, the technical identifier, only alone)."""
    names = list(names)
    shown = [n for n in names if n != "openid"] or names
    return [scope_label(n) for n in sorted(shown, key=registry_order)]


def registry_order(name: str) -> int:
    """Items in the registry's order, as the consent screen shows them; unknown ones last."""
    return ORDER.get(name, len(ORDER))


def join_items(labels: Iterable[str]) -> str:
    """Item labels in one line: a label may hold commas, so items are separated by
    semicolons (French puts a space before it)."""
    return ("; " if english() else " ; ").join(labels)


def day_list(epochs: Iterable[int]) -> str:
    """Moments written out and listed: "1 mars 2026, 10:02 et 3 mars 2026, 18:40" (with the
    time: several approvals are often given the same day)."""
    return format_list([format_datetime(e) for e in epochs], locale=current_locale())


def provider_name(key: str | None) -> str:
    try:
        provider = REGISTRY.provider(key or "")
    except KeyError:
        return gettext(UNKNOWN_PROVIDER)
    return provider.name_en if english() else provider.name_fr


def product_title(key: str) -> str:
    found = product(key)
    if found is None:
        return gettext(UNKNOWN_PRODUCT)
    return (found.title_en if english() else found.title_fr) or gettext(UNKNOWN_PRODUCT)


def status_label(status: str) -> str:
    return gettext(STATUS_LABELS.get(status, NOT_STATED))


def event_label(kind: str) -> str:
    return gettext(EVENT_LABELS.get(kind, NOT_STATED))


@dataclass(frozen=True)
class AccessWords:
    """One journal row as the citizen reads it."""

    identity_release: bool  # the service received the citizen's identity from the broker
    provider: str  # where the data came from
    data: str  # what was read, in words
    identity: str  # whether (and how) the citizen's identity was sent


def access_words(row: dict[str, Any]) -> AccessWords:
    scopes = list(row.get("scopes") or [])
    if row.get("product") == IDENTITY_PRODUCT:
        items = [s for s in scopes if (scope := REGISTRY.get(s)) and scope.kind == IDENTITY]
        return AccessWords(
            identity_release=True,
            provider=gettext(BROKER),
            data=join_items(scope_labels(items or ["openid"])),
            identity=gettext(IDENTITY_SENT.get(row.get("credential") or "", NOT_STATED)),
        )
    spec = product(row.get("product") or "")
    return AccessWords(
        identity_release=False,
        provider=provider_name(spec.provider if spec else None),
        data=join_items(scope_labels(scopes)) if scopes else product_title(row.get("product", "")),
        identity=gettext(IDENTITY_USED.get(row.get("mode") or "", NOT_STATED)),
    )


def result_label(row: dict[str, Any]) -> str:
    status = row.get("status") or 0
    if status < 300:
        sent = IDENTITY_RESULT if row.get("product") == IDENTITY_PRODUCT else DATA_RESULT
        return gettext(sent)
    if status in (401, 403):
        return gettext(REFUSED_RESULT)
    if status == 404:
        return gettext(NOTHING_FOUND)
    return gettext(FAILED_RESULT)


def token_kind_label(kind: str) -> str:
    return gettext(TOKEN_KINDS.get(kind, NOT_STATED))


def token_state(token: Any, now: int) -> str:
    """A token's state in words: revoked, replaced (a refresh token used), expired or valid."""
    if token.revoked_at is not None:
        return gettext(TOKEN_REVOKED)
    if getattr(token, "used_at", None) is not None:
        return gettext(TOKEN_REPLACED)
    return gettext(TOKEN_EXPIRED if token.expires_at <= now else TOKEN_VALID)


def notice_state(notice: Any) -> str:
    """Whether the service got a consent's event: when, or that it is still being sent, or
    that the broker gave up."""
    if notice.delivered_at is not None:
        return gettext(NOTICE_DELIVERED) % {"date": format_datetime(notice.delivered_at)}
    if notice.failed_at is not None:
        return gettext(NOTICE_FAILED) % {"date": format_datetime(notice.failed_at)}
    return gettext(NOTICE_PENDING)


def acr_label(acr: str) -> str:
    """A sign-in's level in words ("substantiel"); an unknown level is shown as it is."""
    return gettext(ACR_LEVELS[acr]) if acr in ACR_LEVELS else acr


# The words every page of the space may use, handed to its templates.
TEMPLATE_WORDS = {
    "scope_label": scope_label,
    "scope_labels": scope_labels,
    "join_items": join_items,
    "day_list": day_list,
    "status_label": status_label,
    "event_label": event_label,
    "access_words": access_words,
    "result_label": result_label,
    "provider_name": provider_name,
    "acr_label": acr_label,
    "token_kind_label": token_kind_label,
    "token_state": token_state,
    "notice_state": notice_state,
}
