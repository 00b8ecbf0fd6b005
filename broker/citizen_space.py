"""The citizen's space ("Mon espace"): sign-in through the same identity provider, their
consents, the journal of accesses to their data, receipts, export, revocation.

The web layer (consent.space) stays thin; every read and change here is bound to the citizen of
the browser session, so one citizen can never reach another's records."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from broker.consent_events import ConsentChanges
from broker.flow import AuthorizationFlow
from broker.oidc.models import Authentication
from broker.resources.subjects import identity_digest, pivot_of
from broker.security import keyed_digest, random_token
from broker.store.citizens import upsert_citizen
from broker.store.interaction_store import SqlSessionRepository, end_session
from broker.store.models import Service
from broker.store.oidc_store import SqlOidcStore
from consent import history
from consent.lifecycle import GrantChange, GrantNotChangeable

SERVICE = Service.__table__


@dataclass(frozen=True)
class SignIn:
    session_id: str | None = None
    error: bool = False


class CitizenSpace:
    def __init__(self, flow: AuthorizationFlow, changes: ConsentChanges,
                 journal_key: bytes, on_change=None) -> None:
        self.flow = flow
        self.db = flow.db
        self.changes = changes
        self.journal_key = journal_key  # the data API's: finds calls made by API key
        self.on_change = on_change or (lambda: None)  # wakes the notification dispatcher

    # -- sign-in -----------------------------------------------------------------------------
    def form_token(self, purpose: str, binding: str) -> str:
        """CSRF token of a form, bound to the browser (sign-in) or the session (the rest)."""
        return keyed_digest(self.flow.step_key, f"space|{purpose}|{binding}")

    def check_token(self, purpose: str, binding: str | None, token: str | None) -> bool:
        return bool(binding and token) and hmac.compare_digest(
            self.form_token(purpose, binding), token)

    async def sign_in(self, browser_id: str, login: str, password: str) -> SignIn:
        with self.db.connect() as s:
            account = self.flow.idp.find(s, login)
        identity = await self.flow.idp.verify(account, password)
        if identity is None:
            return SignIn(error=True)
        now = int(time.time())
        with self.db.begin() as s:
            auth = Authentication(citizen_id=upsert_citizen(s, identity, now), acr=identity.acr,
                                  amr=list(identity.amr), auth_time=now, idp=identity.idp)
            session_id = random_token(32)
            SqlSessionRepository(s).create(session_id, browser_id, auth,
                                           now + self.flow.session_ttl)
        return SignIn(session_id=session_id)

    def citizen(self, session_id: str | None, browser_id: str | None) -> str | None:
        if not session_id or not browser_id:
            return None
        with self.db.connect() as s:
            auth = SqlSessionRepository(s).find(session_id, browser_id, int(time.time()))
        return auth.citizen_id if auth else None

    def sign_out(self, session_id: str) -> None:
        with self.db.begin() as s:
            end_session(s, session_id, int(time.time()))

    # -- reads -------------------------------------------------------------------------------
    def overview(self, citizen_id: str) -> dict[str, Any]:
        with self.db.connect() as s:
            citizen = SqlOidcStore(s).get_citizen(citizen_id)
            consents = history.consents(s, citizen_id, int(time.time()))
        return {"citizen": citizen, "consents": consents}

    def journal(self, citizen_id: str, page: int) -> history.JournalPage:
        with self.db.connect() as s:
            return history.journal(s, citizen_id, self._identity_digest(s, citizen_id), page)

    def receipt(self, citizen_id: str, grant_id: str) -> tuple[str, history.ConsentView] | None:
        with self.db.connect() as s:
            receipt = history.receipt_of(s, citizen_id, grant_id)
            if receipt is None:
                return None
            [view] = history.consents(s, citizen_id, int(time.time()), grant_id)
        return receipt, view

    def export(self, citizen_id: str) -> dict[str, Any]:
        with self.db.connect() as s:
            return history.export(s, citizen_id, self._identity_digest(s, citizen_id),
                                  int(time.time()))

    def logo(self, service_id: str) -> tuple[bytes, str] | None:
        if len(service_id) > 64:
            return None
        with self.db.connect() as s:
            row = s.execute(select(SERVICE.c.logo, SERVICE.c.logo_type).where(
                SERVICE.c.id == service_id)).first()
        return (row.logo, row.logo_type) if row is not None and row.logo else None

    # -- changes -----------------------------------------------------------------------------
    def revoke(self, citizen_id: str, grant_id: str) -> list[GrantChange] | None:
        return self._change(lambda s, now: self.changes.withdraw(s, grant_id, citizen_id, now))

    def narrow(self, citizen_id: str, grant_id: str, scopes: list[str]) -> GrantChange | None:
        return self._change(lambda s, now: self.changes.narrow(
            s, grant_id, citizen_id, scopes, now))

    def _change(self, action):
        try:
            with self.db.begin() as s:
                change = action(s, int(time.time()))
        except GrantNotChangeable:
            return None
        self.on_change()
        return change

    def _identity_digest(self, s, citizen_id: str) -> str | None:
        citizen = SqlOidcStore(s).get_citizen(citizen_id)
        return identity_digest(self.journal_key, pivot_of(citizen)) if citizen else None
