"""Credentials of the data providers that introspect our access tokens (RFC 7662)."""

from __future__ import annotations

import time
from typing import Any

from sqlmodel import Session, col, select

from broker.admin.clients import AdminError
from broker.catalogue.scopes import REGISTRY
from broker.core.security import digest, random_token
from broker.store.data_access_models import IntrospectionClient


def add_introspection_client(session: Session, provider: str) -> dict[str, Any]:
    """The secret is returned once and stored as a digest."""
    known = [p.key for p in REGISTRY.providers()]
    if provider not in known:
        raise AdminError(f"--provider must be one of {', '.join(known)}")
    secret = random_token(32)
    row = IntrospectionClient(
        client_id="rs_" + random_token(12),
        provider=provider,
        secret_digest=digest(secret),
        created_at=int(time.time()),
    )
    session.add(row)
    session.flush()
    return {**describe(row), "client_secret": secret}


def describe(row: IntrospectionClient) -> dict[str, Any]:
    return {
        "client_id": row.client_id,
        "provider": row.provider,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }


def list_introspection_clients(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(select(IntrospectionClient).order_by(col(IntrospectionClient.created_at)))
    return [describe(row) for row in rows.all()]


def revoke_introspection_client(session: Session, client_id: str) -> dict[str, Any]:
    row = session.get(IntrospectionClient, client_id)
    if row is None:
        raise AdminError(f"no introspection client {client_id!r}")
    if row.revoked_at is None:
        row.revoked_at = int(time.time())
        session.add(row)
        session.flush()
    return describe(row)
