"""What the portal answers when a request goes wrong: a readable page in the agent's language,
never a stack trace; a sign-in wanted becomes a redirect to the sign-in page."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from broker.core.outages import OUTAGES, RETRY_AFTER, outage_kind
from broker.portal.guards import PortalRefusal, SignInRequired, sign_in_location
from broker.portal.pages import portal_error
from broker.web.http import redirect
from broker.web.i18n import N_

log = logging.getLogger("broker.portal.errors")

NOT_FOUND = (N_("Page introuvable"), N_("Cette adresse ne correspond à aucune page du portail."))
METHOD_NOT_ALLOWED = (
    N_("Demande non valable"),
    N_("Cette page ne s'utilise pas ainsi. Revenez en arrière et recommencez."),
)
BAD_REQUEST = (
    N_("Demande non valable"),
    N_(
        "Cette demande est incomplète ou mal formée. Rien n'a été enregistré. Revenez en "
        "arrière et recommencez."
    ),
)
SERVER_ERROR = (
    N_("Erreur du portail"),
    N_(
        "Une erreur inattendue s'est produite. Elle a été enregistrée ; rien n'a été modifié. "
        "Réessayez dans quelques instants."
    ),
)
UNAVAILABLE = (
    N_("Portail momentanément indisponible"),
    N_(
        "Le portail ne peut pas traiter votre demande pour le moment. Rien n'a été enregistré. "
        "Réessayez dans quelques instants."
    ),
)


def sign_in_required(request: Request, exc: SignInRequired) -> Response:
    return redirect(sign_in_location(exc.back_to))


def refused(request: Request, exc: PortalRefusal) -> Response:
    return portal_error(exc.status, exc.title, exc.message, code=exc.code)


def http_error(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, NotFoundException):
        return portal_error(404, *NOT_FOUND, code="not_found")
    if isinstance(exc, MethodNotAllowedException):
        return portal_error(405, *METHOD_NOT_ALLOWED, code="method_not_allowed")
    if isinstance(exc, ValidationException) or exc.status_code < 500:
        return portal_error(exc.status_code, *BAD_REQUEST, code=str(exc.status_code))
    log.error("portal HTTP error", exc_info=exc, extra={"path": request.url.path})
    return portal_error(exc.status_code, *SERVER_ERROR, code="server_error")


def internal_error(request: Request, exc: Exception) -> Response:
    kind = outage_kind(exc)
    if kind is not None:
        OUTAGES.report(kind, exc, request.url.path)
        page = portal_error(503, *UNAVAILABLE, code="temporarily_unavailable")
        page.headers["Retry-After"] = str(RETRY_AFTER)
        return page
    log.error("unhandled portal error", exc_info=exc, extra={"path": request.url.path})
    return portal_error(500, *SERVER_ERROR, code="server_error")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SignInRequired: sign_in_required,
    PortalRefusal: refused,
    HTTPException: http_error,
    Exception: internal_error,
}
