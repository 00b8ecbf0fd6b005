"""The hand-off between the broker and the consent screen, in the spirit of node-oidc-provider's
``interactionDetails`` / ``interactionFinished``: the screen reads the pending request
(``pending``, or ``posted`` for its form), then finishes it, in its own transaction, so that
the consent it records and the code the broker issues are committed together or not at all:
``accept``, record the consent, ``code_for`` (the scopes granted and the grant they stand on);
or ``refuse``.

This is the only way the consent side moves an interaction; it never sees the state machine."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749.errors import AccessDeniedError
from sqlalchemy import Connection

from broker.interaction.context import FlowContext, habilitation_for
from broker.interaction.states import FlowError, InteractionView, State
from broker.oidc import authorize
from broker.oidc.models import Authentication, CitizenIdentity, Client, HabilitationGrant
from broker.oidc.server import split_scope
from broker.oidc.tokens import pairwise_subject


@dataclass(frozen=True)
class PendingConsent:
    """An authorization request waiting for the citizen's decision."""

    interaction: InteractionView
    authentication: Authentication
    client: Client
    citizen: CitizenIdentity
    scopes: list[str]  # as requested, in request order
    habilitation: HabilitationGrant | None  # the data scopes' purpose; None: identity only
    subject: str  # the pairwise ``sub`` the service knows the citizen by

    @property
    def interaction_id(self) -> str:
        return self.interaction.id

    @property
    def ui_locales(self) -> str | None:
        return self.interaction.params.get("ui_locales")


@dataclass(frozen=True)
class AcceptedConsent:
    """A pending request the citizen approved, its interaction already moved to done: only
    such a request gets a code (``ConsentHandoff.code_for``)."""

    pending: PendingConsent


class ConsentHandoff:
    def __init__(self, context: FlowContext) -> None:
        self.context = context

    @property
    def code_ttl(self) -> int:
        return self.context.config.code_ttl

    def pending(
        self, conn: Connection, interaction_id: str, browser_id: str | None
    ) -> PendingConsent:
        """The request waiting at the consent step in this browser; FlowError otherwise."""
        view = self.context.open(conn, interaction_id, browser_id, State.CONSENT)
        return self.details(conn, view)

    def posted(
        self, conn: Connection, interaction_id: str, browser_id: str | None, token: str | None
    ) -> PendingConsent:
        """As ``pending``, for a posted consent form: FlowError("bad_step_token") unless the
        form was issued for this step and browser, checked before anything else is read."""
        context = self.context
        view = context.open(conn, interaction_id, browser_id, State.CONSENT)
        context.interactions(conn).check_step_token(view, browser_id or "", token)
        return self.details(conn, view)

    def details(self, conn: Connection, view: InteractionView) -> PendingConsent:
        context = self.context
        store = context.store(conn)
        client = store.get_client(view.client_id)
        auth = view.authentication
        citizen = store.get_citizen(auth.citizen_id) if auth is not None else None
        if client is None or citizen is None or auth is None:
            raise FlowError("unknown")
        scopes = split_scope(view.params.get("scope"))
        return PendingConsent(
            interaction=view,
            authentication=auth,
            client=client,
            citizen=citizen,
            scopes=scopes,
            habilitation=habilitation_for(client, scopes),
            subject=pairwise_subject(context.config, client.sector_identifier, citizen.id),
        )

    def form_token(self, conn: Connection, pending: PendingConsent, browser_id: str) -> str:
        """What the consent form carries, bound to this interaction, step and browser."""
        return self.context.interactions(conn).step_token(pending.interaction, browser_id)

    def accept(self, conn: Connection, pending: PendingConsent) -> AcceptedConsent:
        """The citizen approved: the interaction is done (compare-and-set: FlowError if the
        step was taken meanwhile). Record the consent next, then ask for the code."""
        self.context.interactions(conn).move(pending.interaction, State.DONE)
        return AcceptedConsent(pending)

    def code_for(
        self, conn: Connection, accepted: AcceptedConsent, granted: list[str], grant_id: str
    ) -> str:
        """The redirect to the service with a code for ``granted``, standing on the consent
        ``grant_id`` just recorded."""
        context = self.context
        pending = accepted.pending
        return context.issue_code(
            context.server(conn),
            pending.interaction.params,
            pending.authentication,
            " ".join(granted),
            grant_id,
        )

    def refuse(self, conn: Connection, pending: PendingConsent) -> str:
        """The citizen refused: the interaction ends, and the redirect tells the service
        (``access_denied``)."""
        context = self.context
        context.interactions(conn).move(pending.interaction, State.REFUSED)
        return authorize.deny(
            context.server(conn),
            pending.interaction.params,
            AccessDeniedError("The citizen refused."),
        )
