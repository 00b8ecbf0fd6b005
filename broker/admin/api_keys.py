"""API keys: issued with a name (the secret shown once: only its digest is kept), renamed,
listed, revoked, every change in the audit trail.

On the operators' portal the requesters of the habilitation's organisation manage its keys,
and administrators; on the command line an operator manages any key (``…_by_operator``), with
the same rules and the same audit entries. No key is issued under a habilitation that has
ended (the data API refuses those keys anyway)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from broker.admin import audit
from broker.admin.client_profile import AdminError
from broker.admin.habilitation_views import (
    N_,
    HabilitationRefused,
    is_running,
    may_manage_keys,
    visible_habilitation,
)
from broker.admin.principal import Agent
from broker.core.security import digest, random_token
from broker.store.data_access_models import API_KEY_PREFIX, ApiKey, Habilitation

MAX_NAME = 100
NAME_FIELD = "name"
KEY_NOT_FOUND = N_("Cette clé n'existe pas pour cette habilitation.")


@dataclass(frozen=True)
class KeyLine:
    id: str
    habilitation_id: str
    name: str
    created_at: int
    created_by: str | None
    revoked_at: int | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedKey:
    """The one answer that carries the secret: show it, then forget it."""

    key: KeyLine
    habilitation_id: str
    secret: str


def checked_name(text: str) -> str:
    """A key's name: 1 to 100 characters once trimmed, no control or format characters (a
    bidirectional override would make the list lie about which key is which)."""
    name = text.strip()
    if not name:
        raise HabilitationRefused(N_("Donnez un nom à la clé."), field=NAME_FIELD)
    if len(name) > MAX_NAME:
        raise HabilitationRefused(
            N_("Le nom de la clé ne doit pas dépasser 100 caractères."), field=NAME_FIELD
        )
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise HabilitationRefused(
            N_("Le nom de la clé ne doit pas contenir de caractères de contrôle."),
            field=NAME_FIELD,
        )
    return name


def managed_habilitation(session: Session, agent: Agent, habilitation_id: str) -> Habilitation:
    habilitation = visible_habilitation(session, agent, habilitation_id)
    if not may_manage_keys(agent, habilitation):
        raise HabilitationRefused(
            N_(
                "Seuls les demandeurs de l'organisation titulaire de cette habilitation, et les "
                "administrateurs, gèrent ses clés d'API."
            ),
            status=403,
        )
    return habilitation


def list_keys(session: Session, agent: Agent, habilitation_id: str) -> list[KeyLine]:
    """A habilitation's keys (active ones first, then the newest), for whoever may see it."""
    habilitation = visible_habilitation(session, agent, habilitation_id)
    keys = session.exec(
        select(ApiKey)
        .where(ApiKey.habilitation_id == habilitation.id)
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id))
    ).all()
    lines = [_line(k) for k in keys]
    return [k for k in lines if k.active] + [k for k in lines if not k.active]


def issue_key(
    session: Session, agent: Agent, habilitation_id: str, name: str, now: int
) -> IssuedKey:
    habilitation = managed_habilitation(session, agent, habilitation_id)
    return new_key(session, agent.actor, habilitation, name, now)


def issue_by_operator(
    session: Session, actor: str, habilitation_id: str, name: str, now: int
) -> IssuedKey:
    """``issue_key`` for an operator (the command line): any habilitation."""
    return new_key(session, actor, operated_habilitation(session, habilitation_id), name, now)


def new_key(
    session: Session, actor: str, habilitation: Habilitation, name: str, now: int
) -> IssuedKey:
    key_name = checked_name(name)
    if not is_running(habilitation, now):
        raise HabilitationRefused(
            N_(
                "Cette habilitation a pris fin (expirée ou révoquée) : aucune clé ne peut plus "
                "être émise."
            ),
            status=409,
        )
    secret = API_KEY_PREFIX + random_token(32)
    key = ApiKey(
        id="key_" + random_token(12),
        habilitation_id=habilitation.id,
        digest=digest(secret),
        created_at=now,
        name=key_name,
        created_by=actor,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="api_key.issue",
        target_type="api_key",
        target_id=key.id,
        before=None,
        after=_audited(key),
    )
    return IssuedKey(key=_line(key), habilitation_id=habilitation.id, secret=secret)


def rename_key(
    session: Session, agent: Agent, habilitation_id: str, key_id: str, name: str
) -> KeyLine:
    key = _managed_key(session, agent, habilitation_id, key_id)
    key_name = checked_name(name)
    if key.revoked_at is not None:
        raise HabilitationRefused(
            N_("Cette clé est révoquée : elle ne se renomme plus."), status=409
        )
    if key_name != key.name:
        before = {"name": key.name}
        key.name = key_name
        session.add(key)
        session.flush()
        audit.record(
            session,
            actor=agent.actor,
            action="api_key.rename",
            target_type="api_key",
            target_id=key.id,
            before=before,
            after={"name": key.name},
        )
    return _line(key)


def revoke_key(
    session: Session, agent: Agent, habilitation_id: str, key_id: str, now: int
) -> KeyLine:
    key = _managed_key(session, agent, habilitation_id, key_id)
    if key.revoked_at is not None:
        raise HabilitationRefused(N_("Cette clé est déjà révoquée."), status=409)
    return revoked(session, agent.actor, key, now)


def revoke_by_operator(session: Session, actor: str, key_id: str, now: int) -> tuple[KeyLine, bool]:
    """``revoke_key`` for an operator (the command line): any key. A key already revoked is
    left as it is, and not audited again: (its line, True)."""
    key = session.get(ApiKey, key_id) if len(key_id) <= 64 else None
    if key is None:
        raise AdminError(f"no API key {key_id!r}")
    if key.revoked_at is not None:
        return _line(key), True
    return revoked(session, actor, key, now), False


def revoked(session: Session, actor: str, key: ApiKey, now: int) -> KeyLine:
    key.revoked_at = now
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="api_key.revoke",
        target_type="api_key",
        target_id=key.id,
        before={"name": key.name, "revoked_at": None},
        after={"name": key.name, "revoked_at": now},
    )
    return _line(key)


def every_key(session: Session) -> list[KeyLine]:
    """All the keys, oldest first, for an operator."""
    keys = session.exec(select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id))).all()
    return [_line(k) for k in keys]


def operated_habilitation(session: Session, habilitation_id: str) -> Habilitation:
    habilitation = (
        session.get(Habilitation, habilitation_id) if len(habilitation_id) <= 64 else None
    )
    if habilitation is None:
        raise AdminError(f"no habilitation {habilitation_id!r}")
    return habilitation


def key_of(session: Session, agent: Agent, habilitation_id: str, key_id: str) -> KeyLine:
    """One key of a habilitation ``agent`` manages (a confirmation page names it)."""
    return _line(_managed_key(session, agent, habilitation_id, key_id))


def _managed_key(session: Session, agent: Agent, habilitation_id: str, key_id: str) -> ApiKey:
    habilitation = managed_habilitation(session, agent, habilitation_id)
    key = session.get(ApiKey, key_id) if len(key_id) <= 64 else None
    if key is None or key.habilitation_id != habilitation.id:
        raise HabilitationRefused(KEY_NOT_FOUND, status=404)
    return key


def _line(key: ApiKey) -> KeyLine:
    return KeyLine(
        id=key.id,
        habilitation_id=key.habilitation_id,
        name=key.name or "",
        created_at=key.created_at,
        created_by=key.created_by,
        revoked_at=key.revoked_at,
    )


def _audited(key: ApiKey) -> dict[str, Any]:
    """What the audit trail keeps of a new key: never its secret, nor its digest."""
    return {
        "habilitation_id": key.habilitation_id,
        "name": key.name,
        "created_at": key.created_at,
        "created_by": key.created_by,
    }
