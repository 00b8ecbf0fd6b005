"""Maintenance notices written by administrators and shown on the public status page while
current (``starts_at`` <= now < ``ends_at``). A notice is about the whole platform (target
"") or one target of the status board (``provider:<key>``, ``idp:<id>``). Ending a notice
early moves its end to now; nothing is deleted, and every change goes to the audit trail in
its own transaction."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from sqlmodel import Session, col, select

from broker.admin import audit
from broker.admin.status import IDP_PREFIX, PROVIDER_PREFIX
from broker.catalogue.scopes import REGISTRY
from broker.store.federation_models import IdentityProviderRecord
from broker.store.portal_models import StatusNotice

MESSAGE_MAX = 1000
LONGEST = 366 * 86400  # a notice longer than a year is a mistake
PLATFORM = ""


def N_(message: str) -> str:  # noqa: N802 - gettext's marker name, as Babel's extractor knows it
    """Marks a French message for the catalog; the portal translates it when shown."""
    return message


class NoticeError(ValueError):
    """A notice that cannot be written as asked; ``field``: the form field at fault."""

    def __init__(self, message: str, field: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


def notice_targets(session: Session) -> list[tuple[str, str]]:
    """What a notice may be about, as (target, label): the data providers (French names),
    then the identity providers; the whole platform ("") is not listed."""
    providers = [(PROVIDER_PREFIX + p.key, p.name_fr) for p in REGISTRY.providers()]
    idps = session.exec(
        select(IdentityProviderRecord).order_by(
            col(IdentityProviderRecord.position), col(IdentityProviderRecord.name)
        )
    ).all()
    return providers + [(IDP_PREFIX + idp.id, idp.name) for idp in idps]


def known_target(session: Session, target: str) -> bool:
    if target == PLATFORM:
        return True
    if target.startswith(PROVIDER_PREFIX):
        return any(p.key == target.removeprefix(PROVIDER_PREFIX) for p in REGISTRY.providers())
    if target.startswith(IDP_PREFIX) and len(target) <= 100:
        return session.get(IdentityProviderRecord, target.removeprefix(IDP_PREFIX)) is not None
    return False


def checked_message(message: str) -> str:
    message = message.strip()
    if not message:
        raise NoticeError(N_("Écrivez le message de l'annonce."), "message")
    if len(message) > MESSAGE_MAX:
        raise NoticeError(N_("Le message ne doit pas dépasser 1000 caractères."), "message")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in message):
        raise NoticeError(
            N_("Le message ne doit pas contenir de caractères de contrôle."), "message"
        )
    return message


def describe(notice: StatusNotice) -> dict[str, Any]:
    return {
        "id": notice.id,
        "target": notice.target,
        "message": notice.message,
        "starts_at": notice.starts_at,
        "ends_at": notice.ends_at,
        "created_by": notice.created_by,
    }


def add_notice(
    session: Session,
    *,
    target: str,
    message: str,
    starts_at: int,
    ends_at: int,
    actor: str,
    now: int | None = None,
) -> StatusNotice:
    now = int(time.time()) if now is None else now
    if not known_target(session, target):
        raise NoticeError(N_("Choisissez un service de la liste."), "target")
    message = checked_message(message)
    if ends_at <= starts_at:
        raise NoticeError(N_("La fin doit venir après le début."), "ends_at")
    if ends_at <= now:
        raise NoticeError(N_("La fin doit être dans le futur."), "ends_at")
    if ends_at - starts_at > LONGEST:
        raise NoticeError(N_("Une annonce ne peut pas durer plus d'un an."), "ends_at")
    notice = StatusNotice(
        target=target,
        message=message,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor[:200],
        created_at=now,
    )
    session.add(notice)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="status_notice.add",
        target_type="status_notice",
        target_id=str(notice.id),
        before=None,
        after=describe(notice),
    )
    return notice


def end_notice(
    session: Session, notice_id: int, *, actor: str, now: int | None = None
) -> StatusNotice:
    """Ends a notice now (one to come is withdrawn: it ends before it starts)."""
    now = int(time.time()) if now is None else now
    notice = session.get(StatusNotice, notice_id)
    if notice is None:
        raise NoticeError(N_("Cette annonce n'existe pas."), status=404)
    if notice.ends_at <= now:
        raise NoticeError(N_("Cette annonce est déjà terminée."), status=409)
    before = describe(notice)
    notice.ends_at = max(now, notice.starts_at)
    session.add(notice)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="status_notice.end",
        target_type="status_notice",
        target_id=str(notice.id),
        before=before,
        after=describe(notice),
    )
    return notice


def current_notices(session: Session, now: int) -> list[StatusNotice]:
    return list(
        session.exec(
            select(StatusNotice)
            .where(col(StatusNotice.starts_at) <= now, col(StatusNotice.ends_at) > now)
            .order_by(col(StatusNotice.starts_at), col(StatusNotice.id))
        ).all()
    )


def recent_notices(
    session: Session, now: int, ended_within: int = 30 * 86400
) -> list[StatusNotice]:
    """For administrators: the notices to come, current, and ended lately (latest end
    first)."""
    return list(
        session.exec(
            select(StatusNotice)
            .where(col(StatusNotice.ends_at) > now - ended_within)
            .order_by(col(StatusNotice.ends_at).desc(), col(StatusNotice.id).desc())
            .limit(200)
        ).all()
    )
