"""Consent changes and what follows them: revoking, narrowing and expiring grants
(``consent.lifecycle``) and telling the service through its back-channel
(``consent.notifications``), in one transaction; and the token endpoint's view of the grants
(the broker's ``TokenGrants`` port)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from broker.core import metrics
from broker.keys.keystore import KeyStore
from broker.oidc.config import OidcConfig
from broker.oidc.models import GrantTerms
from broker.oidc.tokens import pairwise_subject
from broker.store.oidc_store import SqlOidcStore
from consent import lifecycle
from consent.events import consent_event
from consent.ledger import ConsentLedger
from consent.lifecycle import GrantChange
from consent.models import ConsentMode
from consent.outbox import enqueue


class ConsentChanges:
    def __init__(
        self,
        config: OidcConfig,
        keys: KeyStore,
        ledger: ConsentLedger,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.keys = keys
        self.ledger = ledger
        # Called once a change is committed: wakes the notification dispatcher.
        self.on_enqueued = on_enqueued

    def notify(self, conn: Connection, change: GrantChange, now: int) -> bool:
        """Queue the signed event for the service, if it registered a notification URL."""
        client = SqlOidcStore(conn).get_client(change.client_id)
        if client is None or not client.notification_uri:
            return False
        sub = pairwise_subject(self.config, client.sector_identifier, change.citizen_id)
        event = consent_event(
            self.keys.signing_key(),
            self.config.issuer,
            client.client_id,
            sub,
            change.grant_id,
            change.kind,
            change.scopes,
            now,
            reason=change.reason,
        )
        enqueue(
            conn,
            client_id=client.client_id,
            url=client.notification_uri,
            grant_id=change.grant_id,
            event=event,
            now=now,
        )
        return True

    def revoke(
        self,
        conn: Connection,
        grant_id: str,
        now: int,
        *,
        reason: str,
        citizen_id: str | None = None,
        wording: dict | None = None,
    ) -> GrantChange:
        change = lifecycle.revoke(
            conn, grant_id, now, reason=reason, citizen_id=citizen_id, wording=wording
        )
        self.notify(conn, change, now)
        metrics.consent_event("revoked")
        return change

    def withdraw(
        self, conn: Connection, grant_id: str, citizen_id: str, now: int
    ) -> list[GrantChange]:
        """The citizen's "withdraw my consent": every active grant for that purpose ends."""
        changes = lifecycle.revoke_purpose(conn, grant_id, citizen_id, now)
        for change in changes:
            self.notify(conn, change, now)
        metrics.consent_event("withdrawn", len(changes))
        return changes

    def narrow(
        self,
        conn: Connection,
        grant_id: str,
        citizen_id: str,
        scopes: list[str],
        now: int,
        wording: dict | None = None,
    ) -> GrantChange:
        change = lifecycle.narrow(conn, grant_id, citizen_id, scopes, now, wording)
        self.notify(conn, change, now)
        metrics.consent_event("narrowed")
        return change

    def expire_due(self, conn: Connection, now: int) -> int:
        changes = lifecycle.expire_due(conn, now)
        for change in changes:
            # A one-time consent ending with its tokens is no news to the service.
            if change.mode != ConsentMode.ONE_TIME:
                self.notify(conn, change, now)
        metrics.consent_event("expired", len(changes))
        return len(changes)

    def token_grants(self, conn: Connection) -> TokenGrants:
        return TokenGrants(self, conn)


class TokenGrants:
    """The grants as one token request sees them, on its connection (implements the broker's
    ``broker.interaction.ports.TokenGrants``)."""

    def __init__(self, changes: ConsentChanges, conn: Connection) -> None:
        self.changes = changes
        self.conn = conn
        self.changed = False

    def terms(self, grant_id: str | None, now: int) -> GrantTerms | None:
        return self.changes.ledger.terms(self.conn, grant_id, now)

    def revoke_for_reuse(self, grant_id: str, now: int) -> None:
        try:
            self.changes.revoke(self.conn, grant_id, now, reason="refresh_token_reuse")
        except lifecycle.GrantNotChangeable:
            return  # already ended: its tokens are revoked already
        self.changed = True

    def after_commit(self) -> None:
        if self.changed:
            self.changes.on_enqueued()
