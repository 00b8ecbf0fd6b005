"""The back-channel end of the flow: the service redeems its code (or refresh token) at /token
and reads /userinfo; data providers introspect the access tokens they receive.

Each call is one database transaction; tokens are read from the database at every use, so a
revocation takes effect on the next request."""

from __future__ import annotations

import json
from typing import Any

from joserfc import jws

from broker.catalogue.scopes import REGISTRY
from broker.interaction.context import FlowContext
from broker.oidc.client_keys import prefetch_encryption_keys
from broker.oidc.dpop import DpopProof
from broker.oidc.dpop_resource import PresentedToken, check_binding, spend_proof
from broker.oidc.introspection import IntrospectionServer
from broker.oidc.models import Client
from broker.oidc.request import HttpRequestData
from broker.oidc.revocation import revoke
from broker.oidc.server import ProtocolResponse
from broker.oidc.tokens import InvalidAccessToken, verify_access_token
from broker.oidc.userinfo import UserinfoResponse, userinfo_claims, userinfo_response
from broker.store.data_access_store import SqlDataAccessStore
from broker.store.oidc_store import SqlOidcStore


class InsufficientScope(Exception):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class BackChannel:
    def __init__(self, context: FlowContext) -> None:
        self.context = context

    async def prefetch_client_keys(self, http: HttpRequestData, client_id: str = "") -> None:
        """Fetch a client's remote JWKS off the synchronous path: the keys of its client
        assertion (private_key_jwt), and, when a code is redeemed, the key its ID token is
        encrypted to. ``client_id``: the client the request claims to be (unverified, the
        HTTP Basic user included); by default the form's, or the assertion's subject."""
        assertion = http.first("client_assertion")
        redeems_code = http.first("grant_type") == "authorization_code"
        claimed = client_id or http.first("client_id") or unverified_subject(assertion or "")
        if not claimed or not (assertion or redeems_code):
            return
        context = self.context
        # The client cache first: most token requests then need no thread nor connection.
        client = context.clients.get(claimed) or await context.db.run(lambda: self._client(claimed))
        if client is None or client.jwks is not None or not client.jwks_uri:
            return
        if assertion:
            await context.jwks_cache.prefetch(client.jwks_uri, kid=unverified_kid(assertion))
        if redeems_code:
            await prefetch_encryption_keys(context.jwks_cache, client)

    def _client(self, client_id: str) -> Client | None:
        context = self.context
        with context.db.connect() as conn:
            return context.store(conn).get_client(client_id)

    async def token(self, http: HttpRequestData) -> ProtocolResponse:
        return await self.context.db.run(lambda: self._token(http))

    def _token(self, http: HttpRequestData) -> ProtocolResponse:
        context = self.context
        with context.db.begin() as conn:
            grants = context.token_grants(conn)
            response = context.server(conn, grants).create_token_response(http)
        grants.after_commit()
        return response

    async def introspect(self, http: HttpRequestData) -> ProtocolResponse:
        """RFC 7662 for data providers; tokens are read from the database on every call."""
        return await self.context.db.run(lambda: self._introspect(http))

    def _introspect(self, http: HttpRequestData) -> ProtocolResponse:
        context = self.context
        with context.db.connect() as conn:

            def grant_standing(grant_id: str | None, now: int) -> tuple[bool, str | None]:
                standing = context.consent.standing(conn, grant_id, now)
                return standing.active, standing.habilitation_id

            server = IntrospectionServer(
                context.config,
                SqlOidcStore(conn),
                SqlDataAccessStore(conn),  # no client cache
                context.keys.verification_keys(),
                context.keys.signing_key(),
                grant_standing,
            )
            return server.introspect(http)

    async def revoke(self, http: HttpRequestData) -> ProtocolResponse:
        """RFC 7009 for services: one transaction, so the revocation holds at the next request."""
        return await self.context.db.run(lambda: self._revoke(http))

    def _revoke(self, http: HttpRequestData) -> ProtocolResponse:
        context = self.context
        with context.db.begin() as conn:
            return revoke(context.server(conn), http)

    async def userinfo(
        self, presented: PresentedToken, proof: DpopProof | None
    ) -> UserinfoResponse:
        """``proof``: a DPoP presentation's proof, its stateless checks passed. Raises
        InvalidAccessToken or ResourceRefusal (401), InsufficientScope (403), or
        ResponseProtectionError (400 invalid_client: the client's registration asks for an
        encrypted answer and its JWKS holds no key for it)."""
        context = self.context
        claims, client = await context.db.run(lambda: self._userinfo(presented, proof))
        await prefetch_encryption_keys(context.jwks_cache, client)
        # In the thread pool: the signing keys may be reloaded from the database.
        return await context.db.run(
            lambda: userinfo_response(
                claims,
                client,
                config=context.config,
                keys=context.keys,
                jwks_cache=context.jwks_cache,
            )
        )

    def _userinfo(
        self, presented: PresentedToken, proof: DpopProof | None
    ) -> tuple[dict[str, Any], Client]:
        context = self.context
        with context.db.connect() as conn:
            store = context.store(conn)
            record = verify_access_token(
                presented.token,
                context.keys.verification_keys(),
                context.config,
                store,
                audience=context.config.userinfo_endpoint,
            )
            check_binding(presented, record.jkt, proof)
            if proof is not None:
                spend_proof(store, proof)
                conn.commit()  # a read connection: the proof's row must outlive it
            if "openid" not in record.scope.split():
                raise InsufficientScope("The access token was not issued with the openid scope.")
            client = store.get_client(record.client_id)
            citizen = store.get_citizen(record.citizen_id)
            if client is None or citizen is None:
                raise InvalidAccessToken("The access token's client or subject no longer exists.")
            claims = userinfo_claims(context.config, record, client, citizen, REGISTRY.claims_for)
            return claims, client


def unverified_kid(assertion: str) -> str | None:
    """The ``kid`` a client assertion names, before anything is verified (to fetch keys)."""
    try:
        kid = jws.extract_compact(assertion.encode()).headers().get("kid")
    except Exception:
        return None
    return kid if isinstance(kid, str) else None


def unverified_subject(assertion: str) -> str | None:
    """The client a client assertion claims to come from, before anything is verified."""
    try:
        claims = json.loads(jws.extract_compact(assertion.encode()).payload)
    except Exception:
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None
