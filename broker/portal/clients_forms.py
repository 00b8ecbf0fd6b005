"""The forms of the clients' pages: what each field is called, the rule it must follow (in
French, for the page), and reading a posted form into the domain's change.

The domain's refusals (``ClientChangeRefused``) are those of ``broker clients add``, worded for
operators; next to the field the page gives the rule in the agent's language, then that
precise reason (which address, which key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.admin.client_jwks import holds_private_material, parse_jwks
from broker.admin.client_profile import AdminError
from broker.admin.client_registration import AUTH_METHOD, NAME, SCOPES, SERVICE, NewClient
from broker.admin.client_secrets import DEFAULT_OVERLAP_HOURS, OVERLAP_HOURS
from broker.admin.client_settings import (
    BACKCHANNEL_LOGOUT_URI,
    JWKS,
    JWKS_URI,
    LOGO,
    NOTIFICATION_URI,
    POST_LOGOUT_REDIRECT_URIS,
    REDIRECT_URIS,
    WHOLE,
    Addresses,
    ClientChangeRefused,
    Keys,
)
from broker.web.i18n import N_

OVERLAP = "overlap_hours"
MAX_TEXT = 25_000  # longer than any field accepts: the rules then say why it is refused

# The forms of a client's page, and the field a rule across fields is shown beside.
ADDRESSES_FORM = "adresses"
KEYS_FORM = "cles"
LOGO_FORM = "logo"
SECRET_FORM = "secret"
NEW_FORM = "nouveau"
FIRST_FIELD = {
    NEW_FORM: NAME,
    ADDRESSES_FORM: REDIRECT_URIS,
    KEYS_FORM: JWKS,
    LOGO_FORM: LOGO,
    SECRET_FORM: OVERLAP,
}

LABELS = {
    NAME: N_("Nom du client"),
    SERVICE: N_("Service"),
    AUTH_METHOD: N_("Authentification du client"),
    SCOPES: N_("Portées demandées"),
    REDIRECT_URIS: N_("Adresses de retour après connexion"),
    POST_LOGOUT_REDIRECT_URIS: N_("Adresses de retour après déconnexion"),
    NOTIFICATION_URI: N_("Adresse de notification des événements de consentement"),
    BACKCHANNEL_LOGOUT_URI: N_("Adresse de déconnexion en arrière-plan"),
    JWKS: N_("Jeu de clés publiques (JWKS)"),
    JWKS_URI: N_("Adresse du jeu de clés publiques (jwks_uri)"),
    LOGO: N_("Logo du service"),
    OVERLAP: N_("Période de recouvrement"),
}
RULES = {
    NAME: N_("Un nom de 200 caractères au plus : l'écran de consentement le montre aux usagers."),
    SERVICE: N_(
        "Choisissez l'un des services proposés : ceux de votre organisation qui ont une "
        "habilitation en cours."
    ),
    AUTH_METHOD: N_("Choisissez un secret (client_secret_basic) ou des clés (private_key_jwt)."),
    SCOPES: N_(
        "openid est obligatoire ; les autres portées sont les portées d'identité et les "
        "données que l'habilitation du service accorde, pas davantage."
    ),
    REDIRECT_URIS: N_(
        "Au moins une adresse, 20 au plus, une par ligne : chacune est une URL complète en "
        "https (http seulement vers 127.0.0.1 ou localhost), sans joker (*), sans fragment (#) "
        "ni identifiant."
    ),
    POST_LOGOUT_REDIRECT_URIS: N_(
        "20 adresses au plus, une par ligne : chacune est une URL complète en https (http "
        "seulement vers 127.0.0.1 ou localhost), sans joker (*), sans fragment (#) ni "
        "identifiant."
    ),
    NOTIFICATION_URI: N_(
        "Une URL en https que la plateforme appelle : jamais une adresse privée, interne ou "
        "réservée."
    ),
    BACKCHANNEL_LOGOUT_URI: N_(
        "Une URL en https que la plateforme appelle : jamais une adresse privée, interne ou "
        "réservée."
    ),
    JWKS: N_(
        'Un objet JSON {"keys": [...]} de 10 clés publiques au plus (EC, OKP, ou RSA de '
        "2048 bits ou plus), lisibles, aux identifiants (kid) distincts : jamais de clé privée "
        "ni de clé secrète. Donnez soit ce jeu, soit son adresse, pas les deux."
    ),
    JWKS_URI: N_(
        "Une URL en https que la plateforme appelle : jamais une adresse privée, interne ou "
        "réservée."
    ),
    LOGO: N_("Une image PNG ou JPEG de 100 ko au plus."),
    OVERLAP: N_("Choisissez l'une des durées proposées."),
    WHOLE: N_("Ce changement rendrait l'enregistrement du client incohérent."),
}


# Fields whose precise reason always says more than the rule: which rule across fields,
# which key of the set, which scope. Elsewhere it does when it quotes what was typed.
ALWAYS_DETAILED = frozenset({WHOLE, JWKS, SCOPES})


class RefusedInFrench(ClientChangeRefused):
    """A refusal the portal words itself: its details are French msgids, not the command
    line's English."""


@dataclass(frozen=True)
class FieldError:
    field: str  # the id of the field on the page
    label: str  # French msgid
    rule: str  # French msgid
    detail: str  # the precise reason ("" when it would only repeat the rule)
    detail_in_french: bool = False  # a msgid to translate; otherwise the command line's words


def refused_fields(
    form: str, refusal: ClientChangeRefused, typed: dict[str, str] | None = None
) -> list[FieldError]:
    """The refusal's errors, each placed beside its field (a rule across fields: beside the
    form's first field). ``typed``: what was posted, to tell a precise reason from a
    restatement of the rule."""
    french = isinstance(refusal, RefusedInFrench)
    errors = []
    for name, detail in refusal.errors.items():
        field = FIRST_FIELD[form] if name == WHOLE else name
        shown = detail if french or adds_information(name, detail, typed or {}) else ""
        errors.append(FieldError(field, LABELS.get(field, ""), RULES[name], shown, french))
    return errors


def adds_information(name: str, detail: str, typed: dict[str, str]) -> bool:
    """Whether the command line's reason tells the agent more than the field's rule: it
    names what was refused (an address they typed, a key, a scope, a rule across fields)."""
    if name in ALWAYS_DETAILED:
        return True
    return any(value in detail for value in lines(typed.get(name, "")))


def text(form: Any, name: str) -> str:
    value = form.get(name)
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def lines(value: str) -> tuple[str, ...]:
    """One address per line; blank lines and surrounding spaces do not count."""
    return tuple(line.strip() for line in value.splitlines() if line.strip())


def addresses_from(form: Any) -> Addresses:
    return Addresses(
        redirect_uris=lines(text(form, REDIRECT_URIS)),
        post_logout_redirect_uris=lines(text(form, POST_LOGOUT_REDIRECT_URIS)),
        notification_uri=text(form, NOTIFICATION_URI).strip() or None,
        backchannel_logout_uri=text(form, BACKCHANNEL_LOGOUT_URI).strip() or None,
    )


def keys_from(form: Any) -> Keys:
    """The keys as typed: a JWKS (read as JSON here, checked by the domain) or its address."""
    jwks_text = text(form, JWKS).strip()
    jwks_uri = text(form, JWKS_URI).strip() or None
    if not jwks_text:
        return Keys(jwks=None, jwks_uri=jwks_uri)
    try:
        return Keys(jwks=parse_jwks(jwks_text), jwks_uri=jwks_uri)
    except AdminError as exc:
        raise ClientChangeRefused({JWKS: str(exc)}) from exc


OVERLAP_REFUSED = N_(
    "Cette durée n'est pas proposée : l'ancien secret reste accepté 0, 24 ou 168 heures, "
    "pas davantage."
)


def overlap_from(form: Any) -> int:
    value = text(form, OVERLAP)
    if not value.isdigit() or int(value) not in OVERLAP_HOURS:
        raise RefusedInFrench({OVERLAP: OVERLAP_REFUSED})
    return int(value)


def new_client_from(form: Any) -> tuple[NewClient, dict[str, str]]:
    """The client as typed on the registration form, and the refusal of a JWKS that cannot
    be read as one (the other fields are still checked, to show every error at once)."""
    unread: dict[str, str] = {}
    try:
        keys = keys_from(form)
    except ClientChangeRefused as refusal:
        keys, unread = Keys(jwks_uri=text(form, JWKS_URI).strip() or None), refusal.errors
    scopes = form.getall(SCOPES, []) if hasattr(form, "getall") else []
    new = NewClient(
        service_id=text(form, SERVICE),
        name=text(form, NAME),
        redirect_uris=lines(text(form, REDIRECT_URIS)),
        post_logout_redirect_uris=lines(text(form, POST_LOGOUT_REDIRECT_URIS)),
        auth_method=text(form, AUTH_METHOD),
        jwks=keys.jwks,
        jwks_uri=keys.jwks_uri,
        notification_uri=text(form, NOTIFICATION_URI).strip() or None,
        scopes=tuple(scope for scope in scopes if isinstance(scope, str))[:100],
    )
    return new, unread


def submitted_values(form: Any) -> dict[str, str]:
    """What the agent typed, shown again in the form that was refused."""
    names = (REDIRECT_URIS, POST_LOGOUT_REDIRECT_URIS, NOTIFICATION_URI, BACKCHANNEL_LOGOUT_URI)
    others = (JWKS, JWKS_URI, OVERLAP, NAME, SERVICE, AUTH_METHOD)
    values = {name: text(form, name) for name in (*names, *others)}
    if holds_private_material(values[JWKS]):
        values[JWKS] = ""  # a leaked private key is not sent back to the browser
    return {name: value for name, value in values.items() if form.get(name) is not None}


OVERLAP_LABELS = {
    NAME: N_("Nom du client"),
    SERVICE: N_("Service"),
    AUTH_METHOD: N_("Authentification du client"),
    SCOPES: N_("Portées demandées"),
    0: N_("Aucune : l'ancien secret cesse de fonctionner immédiatement"),
    24: N_("24 heures (recommandé)"),
    168: N_("7 jours"),
}
# In the domain's order; a choice the domain adds without a label here stops the start-up.
OVERLAP_CHOICES = tuple((hours, OVERLAP_LABELS[hours]) for hours in OVERLAP_HOURS)
DEFAULT_OVERLAP = DEFAULT_OVERLAP_HOURS
