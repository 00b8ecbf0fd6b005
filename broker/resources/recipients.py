"""The public bodies a habilitation's data may be sent to: the ``recipient`` of a call (the
SIRET API Particulier asks for) must be one of the habilitation's recipients.

A habilitation approved on the operators' portal always lists at least one (the request form
asks for them); ``broker habilitations add --recipient SIRET`` (repeatable) lists them for one
approved on the command line. A habilitation that lists none (one added before recipients
were recorded, or without ``--recipient``) sends data to no one: a call naming a recipient is
refused, and the refusal says how to list them. Accepting any SIRET there would turn the
recipient back into an unchecked declaration.

A citizen's access token (France Connect mode) needs no recipient; when one is given anyway,
it is checked the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from broker.resources import errors
from broker.resources.params import RECIPIENT

ALLOWED_RECIPIENTS = "allowed_recipients"


def check_recipient(recipient: str | None, allowed: Sequence[str] | None) -> None:
    """Raises the 403 if ``recipient`` (None: not given) is not one of ``allowed``."""
    if recipient is None or recipient in (allowed or ()):
        return
    if not allowed:
        detail = (
            "Cette habilitation ne désigne aucun organisme destinataire : ses données ne "
            "peuvent être transmises à personne. Demandez à l'opérateur d'y ajouter les "
            "SIRET des destinataires (portail des habilitations)."
        )
    else:
        detail = (
            f"Le destinataire {recipient} n'est pas l'un des organismes de cette "
            f"habilitation ; destinataires autorisés : {', '.join(allowed)}."
        )
    raise recipient_refused(detail, list(allowed or ()))


def recipient_refused(detail: str, allowed: list[str]) -> errors.ApiError:
    """``errors.forbidden``'s answer, with the allowed SIRETs in ``meta`` for programs."""
    refusal = errors.forbidden(detail)
    items = [
        replace(item, parameter=RECIPIENT, meta={**item.meta, ALLOWED_RECIPIENTS: allowed})
        for item in refusal.items
    ]
    return errors.ApiError(refusal.status, refusal.outcome, *items, headers=refusal.headers)
