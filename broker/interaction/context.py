"""What every step of the authorization flow shares: the database, the protocol settings and
keys, the consent side's answers (through ``ports``), the client cache; and the small steps
they compose (open an interaction, move it, issue the code)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Connection

from broker.catalogue.scopes import REGISTRY
from broker.core.db import Database
from broker.interaction.ports import ConsentLookup, TokenGrantsFactory
from broker.interaction.states import FlowError, Interactions, InteractionView, State
from broker.keys.keystore import KeyStore
from broker.oidc import authorize, authorize_rules
from broker.oidc.client_auth import JwksCache
from broker.oidc.config import OidcConfig
from broker.oidc.dpop_token import issuer_nonces
from broker.oidc.models import Authentication, Client, HabilitationGrant
from broker.oidc.ports import ConsentGrants
from broker.oidc.server import BrokerServer
from broker.store.clients import ClientCache
from broker.store.flowstate import FlowState
from broker.store.identity_providers import RegistryCache
from broker.store.oidc_store import SqlOidcStore
from broker.store.pushed_requests import SqlPushedRequests


class FlowContext:
    def __init__(
        self,
        db: Database,
        config: OidcConfig,
        keys: KeyStore,
        consent: ConsentLookup,
        token_grants: TokenGrantsFactory,
        step_key: bytes,
        interaction_ttl: int,
        flow_state: FlowState,
        jwks_cache: JwksCache | None = None,
    ) -> None:
        self.db = db
        self.flow_state = flow_state
        self.config = config
        self.keys = keys
        self.consent = consent
        self.token_grants = token_grants
        self.step_key = step_key
        self.interaction_ttl = interaction_ttl
        self.jwks_cache = jwks_cache or JwksCache()
        self.clients = ClientCache()
        self.registry = RegistryCache()
        self.scopes_supported = REGISTRY.names()
        # Built once: a DPoP nonce key that is unusable fails at startup, not per request.
        self.dpop_nonces = issuer_nonces(config)

    def server(self, conn: Connection, grants: ConsentGrants | None = None) -> BrokerServer:
        """authlib's server for one request, on that request's connection."""
        return BrokerServer(
            self.config,
            self.store(conn),
            self.keys,
            self.jwks_cache,
            self.scopes_supported,
            grants if grants is not None else self.token_grants(conn),
            self.dpop_nonces,
        )

    def store(self, conn: Connection) -> SqlOidcStore:
        return SqlOidcStore(conn, self.clients, codes=self.flow_state.on(conn))

    def pushed_requests(self, conn: Connection) -> SqlPushedRequests:
        """Pushed authorization requests (RFC 9126), in the step's transaction."""
        return SqlPushedRequests(conn)

    def interactions(self, conn: Connection) -> Interactions:
        return Interactions(self.flow_state.on(conn), self.step_key, self.interaction_ttl)

    def open(
        self, conn: Connection, interaction_id: str, browser_id: str | None, expected: State
    ) -> InteractionView:
        """The interaction, if this browser may take step ``expected`` now (FlowError if not)."""
        return self.interactions(conn).open(interaction_id, browser_id, expected, int(time.time()))

    def interaction_url(self, interaction_id: str, step: str) -> str:
        return f"{self.config.issuer}/interaction/{interaction_id}/{step}"

    def covering_grant(
        self, conn: Connection, citizen_id: str, client: Client, scopes: Sequence[str], now: int
    ) -> str | None:
        """A remembered consent covering the request, under the habilitation it is made
        under: consent to one purpose never carries over to another."""
        habilitation = habilitation_for(client, scopes)
        return self.consent.covering_grant(
            conn,
            citizen_id,
            client.client_id,
            scopes,
            now,
            habilitation.id if habilitation else None,
        )

    @staticmethod
    def issue_code(
        server: BrokerServer,
        params: dict[str, str],
        authentication: Authentication,
        granted_scope: str,
        grant_id: str | None,
    ) -> str:
        """The redirect carrying a new code; FlowError if the client or its redirect URI went
        away while the citizen was deciding."""
        try:
            return authorize.issue_code(server, params, authentication, granted_scope, grant_id)
        except authorize.ParkedRequestInvalid as exc:
            raise FlowError("unknown") from exc


def habilitation_for(client: Client, scopes: Sequence[str]) -> HabilitationGrant | None:
    """The habilitation the data scopes are requested under (None: identity only)."""
    data_scopes = authorize_rules.requested_data_scopes(list(scopes))
    return client.habilitation_for(data_scopes, int(time.time())) if data_scopes else None
