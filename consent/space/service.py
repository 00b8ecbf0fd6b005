"""The citizen's space ("Mon espace"): signed in through the same identity providers, their
consents, the journal of accesses to their data, receipts, export, revocation.

The web layer (``consent.space.controller``) stays thin; every read and change here is bound
to the citizen of the browser session, so one citizen can never reach another's records."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from broker.core.db import Database, database_step, table_of
from broker.core.security import keyed_digest
from broker.identity import sign_ins
from broker.interaction.logout import Logout
from broker.interaction.sessions import BrowserSessions
from broker.resources.subjects import identity_digest, pivot_of
from broker.store.identity_providers import get_provider, list_providers
from broker.store.models import Service
from broker.store.oidc_store import SqlOidcStore
from consent.changes import ConsentChanges
from consent.lifecycle import GrantNotChangeable
from consent.space import history, journal
from consent.space.holdings import Holdings, gather
from consent.space.overview import Overview, arrange

SERVICE = table_of(Service)
DONE, UNCHANGED, UNKNOWN = "done", "unchanged", "unknown"  # what a change came to


@dataclass(frozen=True)
class ProviderChoiceRow:
    id: str
    name: str
    blocked: bool
    current: bool  # the provider of the session in use


@dataclass(frozen=True)
class JournalView:
    page: journal.JournalPage
    services: list[journal.ServiceChoice]  # those in the citizen's journal, for the filter
    chosen: journal.ServiceChoice | None
    filter_rejected: bool  # the filter named none of the citizen's services


MAX_SERVICE_ID = 64


class CitizenSpace:
    def __init__(
        self,
        db: Database,
        sessions: BrowserSessions,
        changes: ConsentChanges,
        form_key: bytes,
        journal_key: bytes,
        logout: Logout,
    ) -> None:
        self.db = db
        self.sessions = sessions
        self.changes = changes
        self.form_key = form_key  # the forms' CSRF tokens
        self.journal_key = journal_key  # the data API's: finds calls made by API key
        self.logout = logout

    # -- sign-in -----------------------------------------------------------------------------
    def form_token(self, purpose: str, binding: str) -> str:
        """CSRF token of a form, bound to the browser (sign-in) or the session (the rest)."""
        return keyed_digest(self.form_key, f"space|{purpose}|{binding}")

    def check_token(self, purpose: str, binding: str | None, token: str | None) -> bool:
        if not binding or not token:
            return False
        return hmac.compare_digest(self.form_token(purpose, binding), token)

    async def citizen(self, session_id: str | None, browser_id: str | None) -> str | None:
        return await self.sessions.citizen(session_id, browser_id)

    async def sign_out(self, session_id: str, browser_id: str | None, then: str) -> str:
        """Ends the session here and at the identity provider; where the browser goes next
        (the provider's sign-out, which sends it on to ``then``)."""
        return await self.logout.end(then, session_id, browser_id)

    # -- reads -------------------------------------------------------------------------------
    @database_step
    def overview(self, citizen_id: str) -> tuple[Any, Overview]:
        """The citizen, and their consents arranged for the first page."""
        with self.db.connect() as conn:
            citizen = SqlOidcStore(conn).get_citizen(citizen_id)
            overview = arrange(history.consents(conn, citizen_id, int(time.time())))
            last = journal.last_accesses(conn, citizen_id, [c.use for c in overview.current])
        for card in overview.current:
            card.last_access = last.get(card.use)
        return citizen, overview

    @database_step
    def withdrawal(
        self, citizen_id: str, grant_id: str
    ) -> tuple[history.ConsentView, list[history.ConsentView]] | None:
        """The consent, and the citizen's other active ones that withdrawing it ends too
        (same client, same habilitation: ``consent.lifecycle.revoke_purpose``)."""
        with self.db.connect() as conn:
            views = history.consents(conn, citizen_id, int(time.time()))
        found = next((v for v in views if v.id == grant_id), None)
        if found is None:
            return None
        together = [
            v
            for v in views
            if v.active
            and v.id != found.id
            and (v.client_id, v.habilitation_id) == (found.client_id, found.habilitation_id)
        ]
        return found, together

    @database_step
    def journal_page(self, citizen_id: str, page: int, service: str | None) -> JournalView:
        """A page of the journal, for one of the citizen's services when ``service`` names
        one (``filter_rejected`` when it names none of theirs: the whole journal is shown)."""
        with self.db.connect() as conn:
            digest = self.identity_digest(conn, citizen_id)
            services = journal.services(conn, citizen_id, digest)
            chosen = journal.chosen_service(services, service)
            rows = journal.page_of(conn, citizen_id, digest, page, chosen.id if chosen else None)
        return JournalView(rows, services, chosen, bool(service) and chosen is None)

    @database_step
    def receipt(self, citizen_id: str, grant_id: str) -> tuple[str, history.ConsentView] | None:
        """The signed receipt of one of the citizen's consents, and the consent."""
        with self.db.connect() as conn:
            view = history.consent(conn, citizen_id, grant_id, int(time.time()))
        return (view.receipt, view) if view and view.receipt else None

    @database_step
    def holdings(self, citizen_id: str, latest: int | None = None) -> Holdings:
        """Everything held about the citizen (GDPR article 15): for the readable page, the
        ``latest`` sign-ins, tokens and journal rows; for the file (None), every sign-in and
        token (it reads the journal with :meth:`journal_chunk`)."""
        with self.db.connect() as conn:
            return gather(conn, citizen_id, self.digest_of, int(time.time()), latest=latest)

    @database_step
    def journal_chunk(
        self, citizen_id: str, digest: str | None, before: journal.RowKey | None
    ) -> tuple[list[dict[str, Any]], journal.RowKey | None]:
        """The next rows of the citizen's journal for the export file (``journal.chunk``);
        ``digest``: their identity digest, as :meth:`holdings` found it."""
        with self.db.connect() as conn:
            return journal.chunk(conn, citizen_id, digest, before)

    @database_step
    def logo(self, service_id: str) -> tuple[bytes, str] | None:
        if len(service_id) > MAX_SERVICE_ID:
            return None
        with self.db.connect() as conn:
            row = conn.execute(
                select(SERVICE.c.logo, SERVICE.c.logo_type).where(SERVICE.c.id == service_id)
            ).first()
        return (row.logo, row.logo_type) if row is not None and row.logo else None

    @database_step
    def sign_ins(
        self, citizen_id: str, session_id: str, browser_id: str | None
    ) -> tuple[list[sign_ins.SignInView], list[ProviderChoiceRow]]:
        """The citizen's sign-ins, and every provider with whether they blocked it."""
        with self.db.connect() as conn:
            blocked = sign_ins.blocked_providers(conn, citizen_id)
            current = self.current_provider(conn, session_id, browser_id)
            providers = [
                ProviderChoiceRow(p.id, p.name, p.id in blocked, p.id == current)
                for p in list_providers(conn)
            ]
            return sign_ins.history(conn, citizen_id), providers

    @database_step
    def set_blocked(
        self, citizen_id: str, session_id: str, browser_id: str | None, idp: str, blocked: bool
    ) -> bool:
        """Blocks or unblocks ``idp`` for the citizen's account; False when refused (an
        unknown provider, or the one of this very session: there is always a way back)."""
        now = int(time.time())
        with self.db.begin() as conn:
            if get_provider(conn, idp) is None and not sign_ins.is_blocked(conn, citizen_id, idp):
                return False
            if not blocked:
                sign_ins.unblock(conn, citizen_id, idp)
                return True
            if self.current_provider(conn, session_id, browser_id) == idp:
                return False
            sign_ins.block(conn, citizen_id, idp, now)
            return True

    def current_provider(
        self, conn: Connection, session_id: str, browser_id: str | None
    ) -> str | None:
        session = self.sessions.live(conn, session_id, browser_id, int(time.time()))
        return session.authentication.idp if session else None

    # -- changes -----------------------------------------------------------------------------
    @database_step
    def revoke(self, citizen_id: str, grant_id: str) -> str:
        """Withdraws the consent (and the citizen's other active ones for the same service
        and purpose): DONE, UNCHANGED (it has ended), or UNKNOWN (not one of theirs)."""
        return self._change(
            citizen_id,
            grant_id,
            lambda conn, now: self.changes.withdraw(conn, grant_id, citizen_id, now),
        )

    @database_step
    def narrow(self, citizen_id: str, grant_id: str, scopes: list[str]) -> str:
        """Withdraws optional items still held; outcomes as :meth:`revoke`."""
        return self._change(
            citizen_id,
            grant_id,
            lambda conn, now: self.changes.narrow(conn, grant_id, citizen_id, scopes, now),
        )

    def _change(
        self, citizen_id: str, grant_id: str, action: Callable[[Connection, int], object]
    ) -> str:
        try:
            with self.db.begin() as conn:
                if not history.owns(conn, citizen_id, grant_id):
                    return UNKNOWN
                action(conn, int(time.time()))
        except GrantNotChangeable:
            return UNCHANGED
        self.changes.on_enqueued()  # committed: the services are told now
        return DONE

    def identity_digest(self, conn: Connection, citizen_id: str) -> str | None:
        """The keyed digest the data API journals API-key calls about this citizen under."""
        citizen = SqlOidcStore(conn).get_citizen(citizen_id)
        return self.digest_of(citizen) if citizen else None

    def digest_of(self, citizen: Any) -> str:
        """``identity_digest`` of a citizen already read (a row of the citizen table)."""
        return identity_digest(self.journal_key, pivot_of(citizen))
