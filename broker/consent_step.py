"""The consent step of an interaction: what the screen shows, the preview of the values, and
the decision (with its duration, the items left ticked and the receipt), in one transaction."""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749.errors import AccessDeniedError

from broker.flow import AuthorizationFlow
from broker.handoff import ConsentRequest, FlowError, Wording
from broker.identity_preview import identity_preview
from broker.interactions import State
from broker.oidc import authorize as az
from broker.oidc.models import Client, HabilitationGrant
from broker.oidc.server import split_scope
from broker.oidc.tokens import pairwise_subject
from consent.models import ONE_TIME, RECURRING
from consent.receipts import ReceiptFacts, sign_receipt

DAY = 24 * 3600
DASHBOARD_PATH = "/espace"


def logo_url(client: Client) -> str | None:
    return f"/services/{client.service_id}/logo" if client.has_logo else None


class ConsentStep:
    """Implements broker.handoff.ConsentHandoff on top of the authorization flow."""

    def __init__(self, flow: AuthorizationFlow, default_ttl: int, preview_source=None) -> None:
        self.flow = flow
        self.default_ttl = default_ttl  # consents without a habilitation (identity only)
        self.preview_source = preview_source  # broker.preview.DataPreview, set at start-up

    def consent_request(self, interaction_id: str, browser_id: str | None) -> ConsentRequest:
        flow = self.flow
        with flow.db.connect() as s:
            view = flow._open(s, interaction_id, browser_id, State.CONSENT)
            store = flow.store(s)
            client = store.get_client(view.client_id)
            citizen = store.get_citizen(view.authentication.citizen_id)
            if client is None or citizen is None:
                raise FlowError("unknown")
            scopes = split_scope(view.params.get("scope"))
            habilitation = flow._habilitation(client, scopes)
            mode, until = self.duration(client, habilitation, int(time.time()))
            return ConsentRequest(
                interaction_id=view.id,
                step_token=flow._interactions(s).step_token(view, browser_id),
                client_id=client.client_id, service_name=client.name,
                scopes=scopes, citizen_given_name=citizen.given_name,
                citizen_family_name=citizen.family_name,
                purpose=habilitation.purpose if habilitation else None,
                legal_basis=habilitation.legal_basis if habilitation else None,
                legal_basis_url=habilitation.legal_basis_url if habilitation else None,
                optional_scopes=habilitation.optional_scopes & set(scopes)
                if habilitation else frozenset(),
                consent_mode=mode, consent_until=until if mode == RECURRING else None,
                service_logo_url=logo_url(client), ui_locales=view.params.get("ui_locales"),
            )

    async def preview(self, interaction_id: str, browser_id: str | None,
                      locale: str) -> dict[str, Any] | None:
        if self.preview_source is None:
            return None
        flow = self.flow
        with flow.db.connect() as s:
            view = flow._open(s, interaction_id, browser_id, State.CONSENT)
            citizen = flow.store(s).get_citizen(view.authentication.citizen_id)
            if citizen is None:
                raise FlowError("unknown")
            scopes = split_scope(view.params.get("scope"))
        # Outside the transaction: providers can take seconds. Nothing is kept.
        previews: dict[str | None, Any] = dict(
            await self.preview_source.fetch(citizen, scopes, locale))
        identity = identity_preview(citizen, scopes, locale)
        if identity is not None:
            previews[None] = identity  # the identity group: what the identity provider sent
        return previews

    def duration(self, client: Client, habilitation: HabilitationGrant | None,
                 now: int) -> tuple[str, int]:
        """The consent's mode and expiry if approved now. A one-time consent lasts as long as
        the tokens of this one request; a recurring one at most its habilitation's days, and
        never beyond the habilitation itself."""
        if habilitation is not None and not habilitation.recurring:
            return ONE_TIME, now + self.flow.config.code_ttl + client.access_token_ttl
        until = now + (habilitation.consent_days * DAY if habilitation and habilitation.consent_days
                       else self.default_ttl)
        if habilitation is not None and habilitation.expires_at is not None:
            until = min(until, habilitation.expires_at)
        return RECURRING, until

    def decide(self, interaction_id: str, browser_id: str | None, step_token: str | None,
               approve: bool, wording: Wording, ticked: list[str] | None = None) -> str:
        flow = self.flow
        now = int(time.time())
        with flow.db.begin() as s:
            interactions = flow._interactions(s)
            view = flow._open(s, interaction_id, browser_id, State.CONSENT)
            flow._check_token(interactions, view, browser_id, step_token)
            server = flow.server(s)
            client = server.store.get_client(view.client_id)
            if client is None:
                raise FlowError("unknown")
            requested = split_scope(view.params.get("scope"))
            habilitation = flow._habilitation(client, requested)
            purpose = habilitation.purpose if habilitation else None
            legal_basis = habilitation.legal_basis if habilitation else None
            optional = habilitation.optional_scopes & set(requested) if habilitation else set()
            # Only optional items can be left out; a posted scope that was not requested (or
            # not optional) changes nothing.
            kept = set(requested) if ticked is None else set(ticked)
            granted = [scope for scope in requested if scope not in optional or scope in kept]
            mode, until = self.duration(client, habilitation, now)
            shown = wording(client.name, requested, purpose, legal_basis)
            decision = flow.ledger.decision(
                citizen_id=view.authentication.citizen_id, client_id=client.client_id,
                service_id=client.service_id, scopes=granted if approve else requested,
                wording={**shown, "optional_scopes": sorted(optional), "mode": mode,
                         "expires_at": until},
                interaction_id=view.id, at=now,
                habilitation_id=habilitation.id if habilitation else None,
                optional_scopes=frozenset(optional), mode=mode, expires_at=until)
            if not approve:
                flow._move(interactions, view, State.REFUSED)
                flow.ledger.record_refusal(s, decision)
                return az.deny(server, view.params, AccessDeniedError("The citizen refused."))
            flow._move(interactions, view, State.DONE)
            grant_id = flow.ledger.record_approval(s, decision)
            facts = ReceiptFacts(
                grant_id=grant_id, service_name=client.name, client_id=client.client_id,
                purpose=purpose, legal_basis=legal_basis,
                legal_basis_url=habilitation.legal_basis_url if habilitation else None,
                scopes=granted, wording=wording(client.name, granted, purpose, legal_basis),
                mode=mode, granted_at=now, expires_at=until,
                withdraw_url=flow.config.issuer + DASHBOARD_PATH,
                sub=pairwise_subject(flow.config, client.sector_identifier,
                                     view.authentication.citizen_id))
            flow.ledger.attach_receipt(s, grant_id, sign_receipt(facts, flow.keys.signing_key(),
                                                                flow.config.issuer))
            return flow._issue_code(server, view.params, view.authentication,
                                    " ".join(granted), grant_id)
