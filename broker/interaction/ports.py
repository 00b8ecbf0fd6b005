"""What the authorization flow needs from the consent side. ``consent`` implements these ports
(``consent.ledger.ConsentLedger``, and ``consent.changes.TokenGrants`` made by
``ConsentChanges.token_grants``) and the composition
root (``broker.app``) plugs them in: no module of the broker imports ``consent``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Connection

from broker.oidc.models import GrantStanding
from broker.oidc.ports import ConsentGrants


class ConsentLookup(Protocol):
    def covering_grant(
        self,
        conn: Connection,
        citizen_id: str,
        client_id: str,
        scopes: Sequence[str],
        now: int,
        habilitation_id: str | None = None,
    ) -> str | None:
        """The id of a remembered consent of this citizen to this client covering ``scopes``
        under ``habilitation_id`` (None: identity only), if there is one: the citizen is not
        asked again."""

    def standing(self, conn: Connection, grant_id: str | None, now: int) -> GrantStanding: ...


class TokenGrants(ConsentGrants, Protocol):
    """The grants as one token request sees them, in its transaction."""

    def after_commit(self) -> None:
        """The request's transaction committed: deliver what it changed (a grant revoked for a
        reused refresh token is told to its service)."""


# One view of the grants per token request, on that request's connection.
TokenGrantsFactory = Callable[[Connection], TokenGrants]
