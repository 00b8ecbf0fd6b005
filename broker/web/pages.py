"""Readable pages for what can go wrong in a citizen's browser, in the citizen's language.

The texts are French msgids of the catalog (consent/locales): marked with ``N_`` here and
handed to the template as lazy strings, translated when the page is rendered."""

from __future__ import annotations

from litestar.response import Template

from broker.core import metrics
from broker.web.http import page
from broker.web.i18n import N_, lazy_gettext

FLOW_ERRORS = {
    "unknown": (
        404,
        N_("Demande introuvable"),
        N_(
            "Cette demande de connexion n'existe pas ou n'existe plus. Retournez sur le "
            "site du service et recommencez."
        ),
    ),
    "expired": (
        410,
        N_("Demande expirée"),
        N_("Cette demande de connexion a expiré. Retournez sur le site du service et recommencez."),
    ),
    "wrong_browser": (
        403,
        N_("Navigateur différent"),
        N_(
            "Cette demande a été commencée dans un autre navigateur, ou vos cookies "
            "ont été effacés. Retournez sur le site du service et recommencez."
        ),
    ),
    "already_used": (
        409,
        N_("Étape déjà validée"),
        N_(
            "Ce formulaire a déjà été envoyé. Pour votre sécurité, il ne peut pas "
            "l'être une seconde fois. Retournez sur le site du service pour "
            "recommencer."
        ),
    ),
    "wrong_step": (
        409,
        N_("Étape inattendue"),
        N_(
            "Cette étape ne peut pas être faite maintenant. Retournez sur le site du "
            "service et recommencez."
        ),
    ),
    "bad_step_token": (
        403,
        N_("Formulaire non valable"),
        N_(
            "Ce formulaire n'a pas été émis pour cette demande. Par sécurité, rien "
            "n'a été transmis. Retournez sur le site du service et recommencez."
        ),
    ),
}

FLOW_ERRORS["provider_not_offered"] = (
    403,
    N_("Fournisseur d'identité non proposé"),
    N_(
        "Ce fournisseur d'identité n'est pas proposé pour cette démarche, ou il est "
        "momentanément indisponible. Revenez en arrière et choisissez-en un autre."
    ),
)
# What the callback of an identity provider can end with when nobody is signed in.
FEDERATION_ERRORS = {
    "unknown_state": (
        400,
        N_("Connexion introuvable"),
        N_(
            "Cette réponse du fournisseur d'identité ne correspond à aucune connexion en "
            "cours, ou elle a déjà été utilisée. Retournez sur le site du service et "
            "recommencez."
        ),
    ),
    "wrong_browser": FLOW_ERRORS["wrong_browser"],
    "expired": (
        410,
        N_("Connexion expirée"),
        N_(
            "Vous avez mis trop de temps à vous identifier. Retournez sur le site du "
            "service et recommencez."
        ),
    ),
    "mix_up": (
        400,
        N_("Réponse non valable"),
        N_(
            "La réponse reçue ne vient pas du fournisseur d'identité que vous aviez choisi. "
            "Par sécurité, vous n'avez pas été connecté. Retournez sur le site du service et "
            "recommencez."
        ),
    ),
    "provider_disabled": (
        503,
        N_("Fournisseur d'identité indisponible"),
        N_(
            "Ce fournisseur d'identité a été suspendu pendant votre connexion. Retournez sur "
            "le site du service et choisissez-en un autre."
        ),
    ),
    "provider_error": (
        502,
        N_("Erreur du fournisseur d'identité"),
        N_(
            "Le fournisseur d'identité n'a pas pu vous identifier. Aucune donnée n'a été "
            "transmise. Retournez sur le site du service et recommencez."
        ),
    ),
    "unreachable": (
        504,
        N_("Fournisseur d'identité injoignable"),
        N_(
            "Le fournisseur d'identité ne répond pas. Aucune donnée n'a été transmise. "
            "Réessayez dans quelques instants ou choisissez un autre fournisseur."
        ),
    ),
    "invalid_response": (
        502,
        N_("Réponse non valable"),
        N_(
            "La réponse du fournisseur d'identité n'a pas passé nos vérifications de "
            "sécurité. Par sécurité, vous n'avez pas été connecté et rien n'a été enregistré."
        ),
    ),
    "incomplete_identity": (
        502,
        N_("Identité incomplète"),
        N_(
            "Le fournisseur d'identité n'a pas transmis une identité complète (noms, date et "
            "lieu de naissance). Rien n'a été enregistré. Essayez un autre fournisseur "
            "d'identité."
        ),
    ),
}

AUTHORIZE_ERRORS = {
    "invalid_client": (
        N_("Service inconnu"),
        N_(
            "Le service qui vous a envoyé ici n'est pas reconnu par le courtier. "
            "Aucune donnée n'a été transmise."
        ),
    ),
    "invalid_request": (
        N_("Demande non valable"),
        N_(
            "La demande envoyée par le service est incomplète ou ne correspond "
            "pas à ce qu'il a déclaré (adresse de retour notamment). Aucune "
            "donnée n'a été transmise ; vous pouvez fermer cette page."
        ),
    ),
    "invalid_request_uri": (
        N_("Demande expirée ou déjà utilisée"),
        N_(
            "Cette demande a expiré ou a déjà servi. Retournez sur le site du service et "
            "recommencez. Aucune donnée n'a été transmise."
        ),
    ),
}

SERVER_ERROR = (
    N_("Erreur du service"),
    N_(
        "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez "
        "dans quelques instants."
    ),
)
UNAVAILABLE = (
    N_("Service momentanément indisponible"),
    N_(
        "Le service ne peut pas traiter votre demande pour le moment. Rien n'a été enregistré "
        "ni transmis. Réessayez dans quelques instants."
    ),
)
TOO_MANY_ATTEMPTS = (
    N_("Trop de tentatives"),
    N_(
        "Trop de tentatives ont échoué depuis ce navigateur ou cette connexion. Par sécurité, "
        "patientez avant de réessayer."
    ),
)
NOT_FOUND = (N_("Page introuvable"), N_("Cette adresse ne correspond à aucune page."))
# broker/web/errors.py puts these French texts in the server error page for a 4xx; error.html
# translates them at render time (its ``translate`` filter).
BAD_REQUEST = (
    N_("Demande non valable"),
    N_("Cette demande ne peut pas être traitée. Retournez sur le site du service et recommencez."),
)


def error_page(title: str, message: str, error_code: str, status: int) -> Template:
    return page(
        "error.html",
        {"title": lazy_gettext(title), "message": lazy_gettext(message), "error_code": error_code},
        status=status,
    )


def flow_error_page(reason: str) -> Template:
    metrics.flow_step_error(reason if reason in FLOW_ERRORS else "unknown")
    status, title, message = FLOW_ERRORS.get(reason, FLOW_ERRORS["unknown"])
    return error_page(title, message, reason, status)


def federation_error_page(reason: str) -> Template:
    known = reason if reason in FEDERATION_ERRORS else "provider_error"
    metrics.flow_step_error(f"identity_provider_{known}")
    status, title, message = FEDERATION_ERRORS.get(reason, FEDERATION_ERRORS["provider_error"])
    return error_page(title, message, reason, status)


def authorize_error_page(error: str, status: int = 400) -> Template:
    title, message = AUTHORIZE_ERRORS.get(error, AUTHORIZE_ERRORS["invalid_request"])
    return error_page(title, message, error, status)


def server_error_page() -> Template:
    return error_page(*SERVER_ERROR, "server_error", 500)


def unavailable_page(retry_after: int) -> Template:
    response = error_page(*UNAVAILABLE, "temporarily_unavailable", 503)
    response.headers["Retry-After"] = str(retry_after)
    return response


def too_many_attempts_page(retry_after: int) -> Template:
    response = error_page(*TOO_MANY_ATTEMPTS, "too_many_attempts", 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def not_found_page() -> Template:
    return error_page(*NOT_FOUND, "not_found", 404)
