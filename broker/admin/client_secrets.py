"""Rotating a client's secret with an overlap: the new secret is made, shown once and stored
as a digest; the one it replaces keeps authenticating until the end of the overlap its owner
chose, so that the service can deploy the new one without an outage (see
``broker.oidc.client_auth.secret_matches``). A secret older than that one is dropped at once."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlmodel import Session

from broker.admin import audit
from broker.admin.client_access import ClientManager, managed_client
from broker.admin.client_profile import AdminError
from broker.core.security import digest, random_token
from broker.oidc.models import SECRET_METHODS
from broker.store.models import OAuthClient

OVERLAP_HOURS = (0, 24, 168)  # none, a day, a week: long enough to deploy, short if leaked
DEFAULT_OVERLAP_HOURS = 24


@dataclass(frozen=True)
class RotatedSecret:
    client_id: str
    client_secret: str  # shown once, never stored
    previous_accepted_until: int | None  # None: the previous secret stopped at once


def rotate_secret(
    session: Session,
    manager: ClientManager,
    client_id: str,
    *,
    overlap_hours: int = DEFAULT_OVERLAP_HOURS,
    now: int | None = None,
) -> RotatedSecret:
    if overlap_hours not in OVERLAP_HOURS:
        raise AdminError(
            "the overlap must be one of "
            + ", ".join(f"{hours} h" for hours in OVERLAP_HOURS)
            + f" (not {overlap_hours} h)"
        )
    now = int(time.time()) if now is None else now
    client, _ = managed_client(session, manager, client_id, for_update=True)
    if client.auth_method not in SECRET_METHODS:
        raise AdminError(
            f"this client authenticates with {client.auth_method}: it has no secret to rotate"
        )
    before = {"overlap_until": overlap_end(client, now)}
    secret = random_token(32)
    if overlap_hours and client.secret_digest:
        client.previous_secret_digest = client.secret_digest
        client.previous_secret_expires_at = now + overlap_hours * 3600
    else:
        client.previous_secret_digest = client.previous_secret_expires_at = None
    client.secret_digest = digest(secret)
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor=manager.actor,
        action="client.rotate_secret",
        target_type="client",
        target_id=client.client_id,
        before=before,
        after={
            "rotated": True,
            "overlap_hours": overlap_hours,
            "overlap_until": client.previous_secret_expires_at,
        },
    )
    return RotatedSecret(client.client_id, secret, client.previous_secret_expires_at)


def overlap_end(client: OAuthClient, now: int) -> int | None:
    """When the previous secret stops authenticating, if it still does."""
    expires = client.previous_secret_expires_at
    return expires if client.previous_secret_digest and expires and expires > now else None
