"""The consent step of an authorization request: what the screen shows, the preview of the
values, and the decision (with its duration, the items left ticked and the receipt), recorded
in one transaction with the code the broker then issues (``broker.interaction.handoff``)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from broker.core import metrics
from broker.core.db import Database
from broker.interaction.handoff import ConsentHandoff, PendingConsent
from broker.keys.keystore import KeyStore
from broker.oidc.models import Client, ConsentMode, HabilitationGrant
from broker.resources.preview import DataPreview, ProviderPreview
from consent.ledger import ConsentLedger, Decision
from consent.receipts import ReceiptFacts, sign_receipt
from consent.screen.identity_preview import identity_preview
from consent.screen.information import ConsentInformation, information, recorded
from consent.screen.wording import wording

DAY = 24 * 3600
DASHBOARD_PATH = "/espace"


@dataclass(frozen=True)
class ConsentRequest:
    """What the consent screen shows."""

    interaction_id: str
    step_token: str
    client_id: str
    service_name: str
    scopes: list[str]
    citizen_given_name: str
    citizen_family_name: str
    purpose: str | None = None  # of the habilitation the data scopes are requested under
    legal_basis: str | None = None
    legal_basis_url: str | None = None
    optional_scopes: frozenset[str] = field(default_factory=frozenset)
    consent_mode: ConsentMode = ConsentMode.RECURRING
    consent_until: int | None = None  # a recurring consent's expiry, if approved now
    service_logo_url: str | None = None
    ui_locales: str | None = None  # of the authorization request
    # Who is responsible, how long the data is kept, why each item, what if you refuse.
    information: ConsentInformation = field(default_factory=ConsentInformation)


def logo_url(client: Client) -> str | None:
    return f"/services/{client.service_id}/logo" if client.has_logo else None


def optional_items(pending: PendingConsent) -> frozenset[str]:
    """The items the citizen may leave out: the habilitation's optional ones, if requested."""
    habilitation = pending.habilitation
    return habilitation.optional_scopes & set(pending.scopes) if habilitation else frozenset()


class ConsentScreen:
    def __init__(
        self,
        db: Database,
        handoff: ConsentHandoff,
        ledger: ConsentLedger,
        keys: KeyStore,
        issuer: str,
        preview: DataPreview | None = None,
    ) -> None:
        self.db = db
        self.handoff = handoff
        self.ledger = ledger
        self.keys = keys
        self.issuer = issuer
        self.default_ttl = ledger.grant_ttl  # consents without a habilitation (identity only)
        self.data_preview = preview

    @property
    def preview_seconds(self) -> int | None:
        """The longest the preview can take, in whole seconds; None without previews."""
        return math.ceil(self.data_preview.budget) if self.data_preview else None

    async def consent_request(self, interaction_id: str, browser_id: str | None) -> ConsentRequest:
        pending, step_token = await self.db.run(lambda: self._read(interaction_id, browser_id))
        return self._request(pending, step_token)

    async def posted_request(
        self, interaction_id: str, browser_id: str | None, step_token: str | None
    ) -> ConsentRequest:
        """As ``consent_request``, for a form posted without a decision (the preview button):
        its step token is checked, nothing is decided or used up."""

        def read() -> PendingConsent:
            with self.db.connect() as conn:
                return self.handoff.posted(conn, interaction_id, browser_id, step_token)

        pending = await self.db.run(read)
        return self._request(pending, step_token or "")

    def _request(self, pending: PendingConsent, step_token: str) -> ConsentRequest:
        client, habilitation = pending.client, pending.habilitation
        mode, until = self.duration(client, habilitation, int(time.time()))
        return ConsentRequest(
            interaction_id=pending.interaction_id,
            step_token=step_token,
            client_id=client.client_id,
            service_name=client.name,
            scopes=pending.scopes,
            citizen_given_name=pending.citizen.given_name,
            citizen_family_name=pending.citizen.family_name,
            purpose=habilitation.purpose if habilitation else None,
            legal_basis=habilitation.legal_basis if habilitation else None,
            legal_basis_url=habilitation.legal_basis_url if habilitation else None,
            optional_scopes=optional_items(pending),
            consent_mode=mode,
            consent_until=until if mode == ConsentMode.RECURRING else None,
            service_logo_url=logo_url(client),
            ui_locales=pending.ui_locales,
            information=information(habilitation, pending.scopes),
        )

    async def preview(
        self, interaction_id: str, browser_id: str | None, locale: str
    ) -> dict[str | None, ProviderPreview] | None:
        """The values the data providers hold for the requested items, by provider key (None:
        the identity, as the identity provider sent it), fetched now and never stored; None
        when previews are not available."""
        if self.data_preview is None:
            return None
        pending, _ = await self.db.run(lambda: self._read(interaction_id, browser_id))
        # Outside any transaction: providers can take seconds. Nothing is kept.
        previews: dict[str | None, ProviderPreview] = {}
        previews.update(await self.data_preview.fetch(pending.citizen, pending.scopes, locale))
        identity = identity_preview(pending.citizen, pending.scopes, locale)
        if identity is not None:
            previews[None] = identity
        return previews

    def _read(self, interaction_id: str, browser_id: str | None) -> tuple[PendingConsent, str]:
        """The pending request, and the token its form carries."""
        with self.db.connect() as conn:
            pending = self.handoff.pending(conn, interaction_id, browser_id)
            return pending, self.handoff.form_token(conn, pending, browser_id or "")

    def duration(
        self, client: Client, habilitation: HabilitationGrant | None, now: int
    ) -> tuple[ConsentMode, int]:
        """The consent's mode and expiry if approved now. A one-time consent lasts as long as
        the tokens of this one request; a recurring one at most its habilitation's days, and
        never beyond the habilitation itself."""
        if habilitation is not None and not habilitation.recurring:
            return ConsentMode.ONE_TIME, now + self.handoff.code_ttl + client.access_token_ttl
        until = now + (
            habilitation.consent_days * DAY
            if habilitation and habilitation.consent_days
            else self.default_ttl
        )
        if habilitation is not None and habilitation.expires_at is not None:
            until = min(until, habilitation.expires_at)
        return ConsentMode.RECURRING, until

    async def decide(
        self,
        interaction_id: str,
        browser_id: str | None,
        step_token: str | None,
        approve: bool,
        ticked: list[str] | None = None,
    ) -> str:
        """Records the decision and returns where to send the browser (the service's
        redirect). ``ticked``: the optional items the citizen ticked (None: all of them)."""
        location = await self.db.run(
            lambda: self._decide(interaction_id, browser_id, step_token, approve, ticked)
        )
        metrics.consent_event("granted" if approve else "refused")  # once committed
        return location

    def _decide(
        self,
        interaction_id: str,
        browser_id: str | None,
        step_token: str | None,
        approve: bool,
        ticked: list[str] | None,
    ) -> str:
        now = int(time.time())
        with self.db.begin() as conn:
            pending = self.handoff.posted(conn, interaction_id, browser_id, step_token)
            client, habilitation = pending.client, pending.habilitation
            requested, optional = pending.scopes, optional_items(pending)
            # Only optional items can be left out; a posted scope that was not requested (or
            # not optional) changes nothing.
            kept = set(requested) if ticked is None else set(ticked)
            granted = [scope for scope in requested if scope not in optional or scope in kept]
            mode, until = self.duration(client, habilitation, now)
            shown = wording(client.name, requested, habilitation)
            decision = Decision(
                citizen_id=pending.citizen.id,
                client_id=client.client_id,
                service_id=client.service_id,
                scopes=granted if approve else requested,
                wording={
                    **shown,
                    "optional_scopes": sorted(optional),
                    "mode": mode,
                    "expires_at": until,
                },
                interaction_id=pending.interaction_id,
                at=now,
                habilitation_id=habilitation.id if habilitation else None,
                optional_scopes=optional,
                mode=mode,
                expires_at=until,
            )
            if not approve:
                location = self.handoff.refuse(conn, pending)
                self.ledger.record_refusal(conn, decision)
                return location
            accepted = self.handoff.accept(conn, pending)
            grant_id = self.ledger.record_approval(
                conn, decision, lambda grant_id: self.receipt(pending, grant_id, decision)
            )
            return self.handoff.code_for(conn, accepted, granted, grant_id)

    def receipt(self, pending: PendingConsent, grant_id: str, decision: Decision) -> str:
        """The signed receipt of an approval: what the citizen agreed to, in the words shown."""
        client, habilitation = pending.client, pending.habilitation
        granted = list(decision.scopes)
        shown = wording(client.name, granted, habilitation)
        facts = ReceiptFacts(
            grant_id=grant_id,
            service_name=client.name,
            client_id=client.client_id,
            purpose=shown["purpose"],
            legal_basis=shown["legal_basis"],
            legal_basis_url=habilitation.legal_basis_url if habilitation else None,
            scopes=granted,
            wording=shown,
            mode=decision.mode,
            granted_at=decision.at,
            expires_at=decision.expires_at,
            withdraw_url=self.issuer + DASHBOARD_PATH,
            sub=pending.subject,
            **recorded(information(habilitation, granted)),
        )
        return sign_receipt(facts, self.keys.signing_key(), self.issuer)
