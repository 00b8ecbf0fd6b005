"""Readable French pages for what can go wrong in a citizen's browser."""

from __future__ import annotations

from litestar.response import Template

from broker.web.http import page

FLOW_ERRORS = {
    "unknown": (404, "Demande introuvable",
                "Cette demande de connexion n'existe pas ou n'existe plus. Retournez sur le site "
                "du service et recommencez."),
    "expired": (410, "Demande expirée",
                "Cette demande de connexion a expiré. Retournez sur le site du service et "
                "recommencez."),
    "wrong_browser": (403, "Navigateur différent",
                      "Cette demande a été commencée dans un autre navigateur, ou vos cookies "
                      "ont été effacés. Retournez sur le site du service et recommencez."),
    "already_used": (409, "Étape déjà validée",
                     "Ce formulaire a déjà été envoyé. Pour votre sécurité, il ne peut pas "
                     "l'être une seconde fois. Retournez sur le site du service pour recommencer."),
    "wrong_step": (409, "Étape inattendue",
                   "Cette étape ne peut pas être faite maintenant. Retournez sur le site du "
                   "service et recommencez."),
    "bad_step_token": (403, "Formulaire non valable",
                       "Ce formulaire n'a pas été émis pour cette demande. Par sécurité, rien "
                       "n'a été transmis. Retournez sur le site du service et recommencez."),
}

AUTHORIZE_ERRORS = {
    "invalid_client": ("Service inconnu",
                       "Le service qui vous a envoyé ici n'est pas reconnu par le courtier. "
                       "Aucune donnée n'a été transmise."),
    "invalid_request": ("Demande non valable",
                        "La demande envoyée par le service est incomplète ou ne correspond pas "
                        "à ce qu'il a déclaré (adresse de retour notamment). Aucune donnée n'a "
                        "été transmise ; vous pouvez fermer cette page."),
}


def flow_error_page(reason: str) -> Template:
    status, title, message = FLOW_ERRORS.get(reason, FLOW_ERRORS["unknown"])
    return page("error.html", {"title": title, "message": message, "error_code": reason},
                status=status)


def authorize_error_page(error: str, status: int = 400) -> Template:
    title, message = AUTHORIZE_ERRORS.get(error, AUTHORIZE_ERRORS["invalid_request"])
    return page("error.html", {"title": title, "message": message, "error_code": error},
                status=status)


def server_error_page() -> Template:
    return page("error.html", {
        "title": "Erreur du service",
        "message": "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez "
                   "dans quelques instants.",
        "error_code": "server_error",
    }, status=500)


def not_found_page() -> Template:
    return page("error.html", {"title": "Page introuvable",
                               "message": "Cette adresse ne correspond à aucune page.",
                               "error_code": "not_found"}, status=404)
