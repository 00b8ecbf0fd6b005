"""Clients on SQL, as the protocol sees them: the client with its service's sector and active
habilitations, loaded in two indexed reads and kept a few seconds per process."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, select

from broker.core.db import table_of
from broker.oidc.client_auth import RotatingSecretClient
from broker.oidc.models import Client, ConsentMode, HabilitationGrant
from broker.store.data_access_models import Habilitation
from broker.store.models import OAuthClient, Service

CLIENT = table_of(OAuthClient)
SERVICE = table_of(Service)
HABILITATION = table_of(Habilitation)
MAX_CLIENT_ID = 64

GET_CLIENT = (
    select(CLIENT, SERVICE.c.sector_identifier, SERVICE.c.logo_type)
    .join(SERVICE, SERVICE.c.id == CLIENT.c.service_id)
    .where(CLIENT.c.client_id == bindparam("client_id"), CLIENT.c.disabled_at.is_(None))
)
GET_HABILITATIONS = (
    select(HABILITATION)
    .where(
        HABILITATION.c.service_id == bindparam("service_id"), HABILITATION.c.revoked_at.is_(None)
    )
    .order_by(HABILITATION.c.created_at, HABILITATION.c.id)
)


def habilitation_from_row(row: Any) -> HabilitationGrant:
    return HabilitationGrant(
        id=row.id,
        scopes=frozenset(row.scopes),
        purpose=row.purpose,
        legal_basis=row.legal_basis,
        expires_at=row.expires_at,
        rate_limit=row.rate_limit,
        optional_scopes=frozenset(row.optional_scopes or ()),
        consent_mode=ConsentMode(row.consent_mode),
        consent_days=row.consent_days,
        legal_basis_url=row.legal_basis_url,
        # The data API's key lookup reads only what authorization needs: no consent texts.
        controller=getattr(row, "controller", None),
        contact=getattr(row, "contact", None),
        dpo=getattr(row, "dpo", None),
        retention=getattr(row, "retention", None),
        reasons=dict(getattr(row, "reasons", None) or {}),
        if_refused=getattr(row, "if_refused", None),
        recipients=tuple(row.recipients or ()),
    )


def client_from_row(row: Any, habilitations: Iterable[Any] = ()) -> Client:
    return RotatingSecretClient(
        client_id=row.client_id,
        name=row.name,
        service_id=row.service_id,
        sector_identifier=row.sector_identifier,
        auth_method=row.auth_method,
        redirect_uris=list(row.redirect_uris),
        scope=row.scope,
        secret_digest=row.secret_digest,
        previous_secret_digest=row.previous_secret_digest,
        previous_secret_expires_at=row.previous_secret_expires_at,
        jwks_uri=row.jwks_uri,
        jwks=row.jwks,
        id_token_signed_response_alg=row.id_token_signed_response_alg,
        access_token_ttl=row.access_token_ttl,
        habilitations=tuple(habilitation_from_row(h) for h in habilitations),
        notification_uri=row.notification_uri,
        has_logo=row.logo_type is not None,
        post_logout_redirect_uris=tuple(row.post_logout_redirect_uris or ()),
        profile=row.profile,
        require_pushed_authorization_requests=row.require_pushed_authorization_requests,
        dpop_bound_access_tokens=row.dpop_bound_access_tokens,
        backchannel_logout_uri=row.backchannel_logout_uri,
        id_token_encrypted_response_alg=row.id_token_encrypted_response_alg,
        id_token_encrypted_response_enc=row.id_token_encrypted_response_enc,
        userinfo_encrypted_response_alg=row.userinfo_encrypted_response_alg,
        userinfo_encrypted_response_enc=row.userinfo_encrypted_response_enc,
        userinfo_signed_response_alg=row.userinfo_signed_response_alg,
    )


class ClientCache:
    """Clients are read on nearly every request and change rarely: keep them a few seconds.

    A change made with the admin commands or on the portal (clients, their secrets, and the
    habilitations of their service) reaches every process within ``ttl`` seconds."""

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Client]] = {}

    def get(self, client_id: str) -> Client | None:
        entry = self._entries.get(client_id)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return None
        return entry[1]

    def invalidate(self) -> None:
        self._entries.clear()

    def put(self, client: Client) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[client.client_id] = (time.monotonic(), client)


def load_client(
    conn: Connection, client_id: str, cache: ClientCache | None = None
) -> Client | None:
    """An enabled client with its active habilitations; ``cache`` is read first and filled."""
    if not isinstance(client_id, str) or len(client_id) > MAX_CLIENT_ID:
        return None
    if cache is not None and (cached := cache.get(client_id)):
        return cached
    row = conn.execute(GET_CLIENT, {"client_id": client_id}).first()
    if row is None:
        return None
    habilitations = conn.execute(GET_HABILITATIONS, {"service_id": row.service_id})
    client = client_from_row(row, habilitations)
    if cache is not None:
        cache.put(client)
    return client
