"""Everything the broker holds about a citizen (GDPR article 15), read for the export: the
identity, the sign-ins and the providers they blocked, the consents with their receipts and
whether each service was told of their changes, what is known of the tokens the services
received, and the journal of accesses. The readable page reads the latest sign-ins, tokens
and journal rows, and how many there are; the export file reads every sign-in and token, and
walks the journal in chunks (``consent.space.journal.chunk``).

Every query is bound to the one citizen. Token values and digests, and the signed events
sent to services, are never read: only what they were for and when."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from joserfc.errors import JoseError
from joserfc.jws import extract_compact
from sqlalchemy import ColumnElement, Connection, func, select

from broker.core.db import table_of
from broker.identity import sign_ins
from broker.store.identity_providers import get_provider, list_providers
from broker.store.models import AccessToken, Citizen, OAuthClient, RefreshToken, Service
from consent.events import EVENT_TYPES
from consent.models import ConsentNotification
from consent.space import history, journal

CITIZEN = table_of(Citizen)
ACCESS_TOKEN = table_of(AccessToken)
REFRESH_TOKEN = table_of(RefreshToken)
NOTIFICATION = table_of(ConsentNotification)
CLIENT = table_of(OAuthClient)
SERVICE = table_of(Service)
GRANT = history.GRANT
KIND_OF_EVENT = {event_type: kind for kind, event_type in EVENT_TYPES.items()}
ACCESS, REFRESH = "access", "refresh"


@dataclass(frozen=True)
class BlockedProvider:
    id: str
    name: str


@dataclass(frozen=True)
class TokenView:
    """What is known of a token a service received, never the token itself."""

    kind: str  # ACCESS or REFRESH
    service_name: str | None
    client_id: str
    consent_id: str | None
    scopes: list[str]
    issued_at: int
    expires_at: int
    revoked_at: int | None
    used_at: int | None = None  # a refresh token: exchanged for a new one


@dataclass(frozen=True)
class Notice:
    """The service told of a change to a consent (its back-channel), without the event."""

    kind: str  # an EventKind: revoked, narrowed, expired; "" when unreadable
    created_at: int
    delivered_at: int | None
    failed_at: int | None  # given up


@dataclass(frozen=True)
class Holdings:
    citizen: Any  # the citizen's row, or None
    idp_name: str | None
    consents: list[history.ConsentView]  # with their receipts
    sign_ins: list[sign_ins.SignInView]  # newest first
    sign_ins_total: int
    blocked: list[BlockedProvider]
    tokens: list[TokenView]  # newest first
    tokens_total: int
    notices: dict[str, list[Notice]]  # by consent id, oldest first
    journal: list[dict[str, Any]]  # ``journal.row_of``, the latest ones, newest first
    journal_total: int
    generated_at: int
    identity_digest: str | None = field(default=None, repr=False)  # finds API-key calls


def gather(
    conn: Connection,
    citizen_id: str,
    identity_digest_of: Callable[[Any], str],
    now: int,
    latest: int | None = None,
) -> Holdings:
    """``identity_digest_of(citizen row)``: the keyed digest the data API journals API-key
    calls under. ``latest``: for the readable page, how many of the newest sign-ins, tokens
    and journal rows to read, with their counts; None, for the file: every sign-in and token,
    and no journal row (the file reads them in chunks).

    The file's sign-ins and tokens are read whole, and held once: ``export.json_document``
    writes them one at a time. They stay bounded: a sign-in is one row per sign-in (a few
    thousand in years of daily use); tokens are purged a day after they expire (``broker db
    purge``), a refresh token once its consent ends (even one a rotation replaced)."""
    citizen = conn.execute(select(CITIZEN).where(CITIZEN.c.id == citizen_id)).first()
    provider = get_provider(conn, citizen.idp) if citizen else None
    digest = identity_digest_of(citizen) if citizen else None
    found_sign_ins = sign_ins.history(conn, citizen_id, limit=latest)
    found_tokens = tokens(conn, citizen_id, limit=latest)
    if latest is None:
        rows: list[dict[str, Any]] = []
        sign_ins_total, tokens_total, journal_total = len(found_sign_ins), len(found_tokens), 0
    else:
        rows, journal_total = journal.latest(conn, citizen_id, digest, latest)
        sign_ins_total = sign_in_count(conn, citizen_id)
        tokens_total = token_count(conn, citizen_id)
    return Holdings(
        citizen=citizen,
        idp_name=provider.name if provider else None,
        consents=history.consents(conn, citizen_id, now),
        sign_ins=found_sign_ins,
        sign_ins_total=sign_ins_total,
        blocked=blocked_providers(conn, citizen_id),
        tokens=found_tokens,
        tokens_total=tokens_total,
        notices=notices(conn, citizen_id),
        journal=rows,
        journal_total=journal_total,
        generated_at=now,
        identity_digest=digest,
    )


def blocked_providers(conn: Connection, citizen_id: str) -> list[BlockedProvider]:
    blocked = sign_ins.blocked_providers(conn, citizen_id)
    names = {provider.id: provider.name for provider in list_providers(conn)}
    return [BlockedProvider(idp, names.get(idp, idp)) for idp in sorted(blocked)]


def sign_in_count(conn: Connection, citizen_id: str) -> int:
    """How many sign-ins the citizen made (``ix_sign_in_event_citizen_at``)."""
    event = sign_ins.EVENT
    return conn.execute(
        select(func.count()).select_from(event).where(event.c.citizen_id == citizen_id)
    ).scalar_one()


def citizens_access_tokens(citizen_id: str) -> ColumnElement[bool]:
    return ACCESS_TOKEN.c.citizen_id == citizen_id


def citizens_refresh_tokens(citizen_id: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Found through the citizen's consents (the index on their grant)."""
    return (
        REFRESH_TOKEN.c.grant_id.in_(select(GRANT.c.id).where(GRANT.c.citizen_id == citizen_id)),
        REFRESH_TOKEN.c.citizen_id == citizen_id,
    )


def token_count(conn: Connection, citizen_id: str) -> int:
    access = (
        select(func.count()).select_from(ACCESS_TOKEN).where(citizens_access_tokens(citizen_id))
    )
    refresh = (
        select(func.count()).select_from(REFRESH_TOKEN).where(*citizens_refresh_tokens(citizen_id))
    )
    return conn.execute(access).scalar_one() + conn.execute(refresh).scalar_one()


def tokens(conn: Connection, citizen_id: str, limit: int | None = None) -> list[TokenView]:
    """The access and refresh tokens issued for the citizen, newest first; the ``limit``
    newest when given (the newest of each kind, then of both)."""
    service = SERVICE.c.name.label("service_name")
    access = conn.execute(
        select(
            ACCESS_TOKEN.c.client_id,
            ACCESS_TOKEN.c.grant_id,
            ACCESS_TOKEN.c.scope,
            ACCESS_TOKEN.c.issued_at,
            ACCESS_TOKEN.c.expires_at,
            ACCESS_TOKEN.c.revoked_at,
            service,
        )
        .outerjoin(CLIENT, CLIENT.c.client_id == ACCESS_TOKEN.c.client_id)
        .outerjoin(SERVICE, SERVICE.c.id == CLIENT.c.service_id)
        .where(citizens_access_tokens(citizen_id))
        .order_by(ACCESS_TOKEN.c.issued_at.desc())
        .limit(limit)
    )
    refresh = conn.execute(
        select(
            REFRESH_TOKEN.c.client_id,
            REFRESH_TOKEN.c.grant_id,
            REFRESH_TOKEN.c.scope,
            REFRESH_TOKEN.c.issued_at,
            REFRESH_TOKEN.c.expires_at,
            REFRESH_TOKEN.c.revoked_at,
            REFRESH_TOKEN.c.used_at,
            service,
        )
        .outerjoin(CLIENT, CLIENT.c.client_id == REFRESH_TOKEN.c.client_id)
        .outerjoin(SERVICE, SERVICE.c.id == CLIENT.c.service_id)
        .where(*citizens_refresh_tokens(citizen_id))
        .order_by(REFRESH_TOKEN.c.issued_at.desc())
        .limit(limit)
    )
    found = [token_view(ACCESS, row) for row in access]
    found += [token_view(REFRESH, row, used_at=row.used_at) for row in refresh]
    found.sort(key=lambda token: (token.issued_at, token.kind), reverse=True)
    return found if limit is None else found[:limit]


def token_view(kind: str, row, used_at: int | None = None) -> TokenView:
    return TokenView(
        kind=kind,
        service_name=row.service_name,
        client_id=row.client_id,
        consent_id=row.grant_id,
        scopes=row.scope.split(),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        used_at=used_at,
    )


def notices(conn: Connection, citizen_id: str) -> dict[str, list[Notice]]:
    """The events queued for the services about the citizen's consents, by consent."""
    rows = conn.execute(
        select(
            NOTIFICATION.c.grant_id,
            NOTIFICATION.c.event,
            NOTIFICATION.c.created_at,
            NOTIFICATION.c.delivered_at,
            NOTIFICATION.c.failed_at,
        )
        .join(GRANT, GRANT.c.id == NOTIFICATION.c.grant_id)
        .where(GRANT.c.citizen_id == citizen_id)
        .order_by(NOTIFICATION.c.created_at, NOTIFICATION.c.id)
    )
    found: dict[str, list[Notice]] = {}
    for row in rows:
        notice = Notice(event_kind(row.event), row.created_at, row.delivered_at, row.failed_at)
        found.setdefault(row.grant_id, []).append(notice)
    return found


def event_kind(event: str) -> str:
    """What a signed event the broker made tells (revoked, narrowed, expired): its type, read
    from its payload; nothing else of it leaves this function."""
    try:
        claims = json.loads(extract_compact(event.encode()).payload)
        types = claims.get("events") or {}
    except (JoseError, ValueError, AttributeError):
        return ""
    return next((KIND_OF_EVENT[t] for t in types if t in KIND_OF_EVENT), "")
