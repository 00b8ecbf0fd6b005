"""An email when a habilitation request changes state (submitted, changes requested,
approved, refused) or gets a message: a short notice, French first and English below, with
the link to the request on the portal. The details stay on the portal, behind sign-in.

Sent after the change is committed and best-effort: a failed email is logged, never undoes
or fails the change (the portal shows the same thing to whoever signs in).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from urllib.parse import quote

from broker.admin.reminder_mail import one_line
from broker.core.mail import Mailer, MailError

log = logging.getLogger("broker.admin.request_mail")

REQUEST_PATH = "/demandes/{id}"  # the request's page on the portal


class RequestEvent(StrEnum):
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REFUSED = "refused"
    MESSAGE = "message"


# event -> (French subject, English subject, French sentence, English sentence)
WORDING: dict[RequestEvent, tuple[str, str, str, str]] = {
    RequestEvent.SUBMITTED: (
        "Demande d'habilitation déposée",
        "Habilitation request submitted",
        "La demande d'habilitation{fr_service} a été déposée et attend son instruction.",
        "The habilitation request{en_service} was submitted and awaits review.",
    ),
    RequestEvent.CHANGES_REQUESTED: (
        "Modifications demandées sur votre demande d'habilitation",
        "Changes requested on your habilitation request",
        "L'instructeur demande des modifications de la demande d'habilitation{fr_service}. "
        "Modifiez-la puis déposez-la de nouveau.",
        "The instructor asks for changes to the habilitation request{en_service}. "
        "Amend it, then submit it again.",
    ),
    RequestEvent.APPROVED: (
        "Demande d'habilitation acceptée",
        "Habilitation request approved",
        "La demande d'habilitation{fr_service} a été acceptée : l'habilitation est en "
        "vigueur pour 18 mois.",
        "The habilitation request{en_service} was approved: the habilitation is in force for "
        "18 months.",
    ),
    RequestEvent.REFUSED: (
        "Demande d'habilitation refusée",
        "Habilitation request refused",
        "La demande d'habilitation{fr_service} a été refusée. Les motifs sont indiqués sur "
        "le portail.",
        "The habilitation request{en_service} was refused. The reasons are given on the portal.",
    ),
    RequestEvent.MESSAGE: (
        "Nouveau message sur une demande d'habilitation",
        "New message on a habilitation request",
        "Un nouveau message a été écrit sur la demande d'habilitation{fr_service}.",
        "A new message was written on the habilitation request{en_service}.",
    ),
}


def request_email(
    event: RequestEvent, *, request_id: str, portal_url: str, service: str | None = None
) -> tuple[str, str]:
    """(subject, body) of the notice of ``event``."""
    subject_fr, subject_en, sentence_fr, sentence_en = WORDING[RequestEvent(event)]
    name = one_line(service or "")
    names = {
        "fr_service": f" du service « {name} »" if name else "",
        "en_service": f" of the service “{name}”" if name else "",
    }
    link = portal_url.rstrip("/") + REQUEST_PATH.format(id=quote(request_id, safe=""))
    subject = f"{subject_fr} / {subject_en}" + (f" – {name}" if name else "")
    body = (
        f"Bonjour,\n\n{sentence_fr.format(**names)}\n\nVoir la demande sur le portail des "
        f"opérateurs :\n{link}\n\n{'-' * 80}\n\n"
        f"Hello,\n\n{sentence_en.format(**names)}\n\nSee the request on the operators' "
        f"portal:\n{link}\n"
    )
    return subject, body


async def notify_request_event(
    mailer: Mailer,
    *,
    to: list[str],
    request_id: str,
    event: RequestEvent | str,
    portal_url: str,
    service: str | None = None,
) -> bool:
    """Emails the notice of ``event`` to ``to`` (duplicates removed); True if sent (or logged
    by a disabled mailer), False if it failed or there was no one to tell. Never raises a
    MailError: the change it tells about is already made."""
    kind = RequestEvent(event)  # an unknown event is a programming error: ValueError
    first_spelling: dict[str, str] = {}
    for address in to:
        if address:
            first_spelling.setdefault(address.lower(), address)
    recipients = list(first_spelling.values())
    if not recipients:
        return False
    subject, body = request_email(
        kind, request_id=request_id, portal_url=portal_url, service=service
    )
    try:
        await mailer.send(recipients, subject, body)
    except MailError as error:
        log.warning(
            "request email not sent",
            extra={"request_id": request_id, "event": str(kind), "error": str(error)},
        )
        return False
    return True
