"""The back-channel end of the flow: the service redeems its code (or refresh token) at /token
and reads /userinfo; data providers introspect the access tokens they receive.

Each call is one database transaction; tokens are read from the database at every use, so a
revocation takes effect on the next request."""

from __future__ import annotations

import json
import time
from typing import Any

from joserfc import jws
from sqlalchemy import Connection

from broker.catalogue.scopes import REGISTRY
from broker.interaction.context import FlowContext
from broker.oidc.client_keys import prefetch_encryption_keys
from broker.oidc.dpop import DpopProof
from broker.oidc.dpop_resource import PresentedToken, admit_proof, check_binding
from broker.oidc.identity_release import IdentityRelease, userinfo_release
from broker.oidc.introspection import IntrospectionServer
from broker.oidc.models import AccessTokenRecord, Client
from broker.oidc.request import HttpRequestData
from broker.oidc.revocation import revoke
from broker.oidc.server import ProtocolResponse
from broker.oidc.tokens import InvalidAccessToken, verify_access_token
from broker.oidc.userinfo import (
    JSON,
    UserinfoResponse,
    userinfo_claims,
    userinfo_response,
    userinfo_signing_alg,
)
from broker.store.data_access_store import SqlDataAccessStore
from broker.store.oidc_store import SqlOidcStore


class InsufficientScope(Exception):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class BackChannel:
    def __init__(self, context: FlowContext) -> None:
        self.context = context
        self.unknown_clients = UnknownClients(context.clients.ttl)

    async def prefetch_client_keys(self, http: HttpRequestData, client_id: str = "") -> None:
        """Fetch a client's remote JWKS off the synchronous path: the keys of its client
        assertion (private_key_jwt), and, when a code is redeemed, the key its ID token is
        encrypted to. ``client_id``: the client the request claims to be (unverified, the
        HTTP Basic user included); by default the form's, or the assertion's subject.

        The client comes from the cache; when it is not there, one lookup fills the cache the
        token step then reads (no read is added, only moved). A client_id found unknown is
        remembered as long as a cached client is, so that repeating it costs no thread and no
        connection."""
        assertion = http.first("client_assertion")
        redeems_code = http.first("grant_type") == "authorization_code"
        claimed = client_id or http.first("client_id") or unverified_subject(assertion or "")
        if not claimed or not (assertion or redeems_code):
            return
        client = await self._cached_client(claimed)
        if client is None or client.jwks is not None or not client.jwks_uri:
            return
        if assertion:
            await self.context.jwks_cache.prefetch(client.jwks_uri, kid=unverified_kid(assertion))
        if redeems_code:
            await prefetch_encryption_keys(self.context.jwks_cache, client)

    async def _cached_client(self, client_id: str) -> Client | None:
        context = self.context
        client = context.clients.get(client_id)
        if client is not None or self.unknown_clients.known(client_id):
            return client
        client = await context.db.run(lambda: self._client(client_id))
        if client is None:
            self.unknown_clients.add(client_id)
        return client

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
        ResponseProtectionError (400 invalid_request: the client's registration asks for an
        encrypted answer and its JWKS holds no key for it).

        A Bearer token costs one executor hop for a plain JSON answer. A DPoP proof is spent
        first, in a transaction of its own (``dpop_resource``): the read step that follows may
        be retried by ``Database.run`` without finding it spent by itself. The identity an
        answer carries is journaled before the answer leaves (``journal_release``)."""
        context = self.context
        admitted = None
        if proof is not None:
            admitted = await context.db.run(lambda: self.admit_dpop(presented, proof))
        claims, client, release = await context.db.run(
            lambda: self.read_userinfo(presented, admitted)
        )
        if userinfo_signing_alg(client) is None:
            return UserinfoResponse(claims, JSON)
        await prefetch_encryption_keys(context.jwks_cache, client)
        # In the thread pool: the signing keys may be reloaded from the database.
        return await context.db.run(lambda: self.protected_answer(claims, client, release))

    def protected_answer(
        self, claims: dict[str, Any], client: Client, release: IdentityRelease | None
    ) -> UserinfoResponse:
        """The signed (or encrypted) answer, then its release journaled: an answer that cannot
        be made sends nothing and journals nothing."""
        context = self.context
        answer = userinfo_response(
            claims,
            client,
            config=context.config,
            keys=context.keys,
            jwks_cache=context.jwks_cache,
        )
        if release is not None:
            with context.db.connect() as conn:
                self.journal_release(conn, release)
        return answer

    def journal_release(self, conn: Connection, release: IdentityRelease) -> None:
        """The release's journal row, committed before the answer leaves; if it cannot be
        written, the error stops the answer. On the read connection: in autocommit on a
        networked database, the INSERT commits as it runs (no BEGIN and COMMIT round trips);
        ``commit`` is SQLite's."""
        self.context.store(conn).journal_identity_release(release, int(time.time()))
        conn.commit()

    def _verified(self, presented: PresentedToken, store: SqlOidcStore) -> AccessTokenRecord:
        context = self.context
        return verify_access_token(
            presented.token,
            context.keys.verification_keys(),
            context.config,
            store,
            audience=context.config.userinfo_endpoint,
        )

    def admit_dpop(
        self, presented: PresentedToken, proof: DpopProof
    ) -> tuple[AccessTokenRecord, Client]:
        """The token, its client, and the proof spent: committed on return."""
        context = self.context
        with context.db.begin() as conn:
            store = context.store(conn)
            record = self._verified(presented, store)
            client = store.get_client(record.client_id)
            if client is None:
                raise InvalidAccessToken("The access token's client no longer exists.")
            admit_proof(store, presented, record.jkt, client, proof)
            return record, client

    def read_userinfo(
        self, presented: PresentedToken, admitted: tuple[AccessTokenRecord, Client] | None
    ) -> tuple[dict[str, Any], Client, IdentityRelease | None]:
        """``admitted``: the token and client of a DPoP presentation whose proof is spent;
        None for a Bearer presentation, verified here.

        The claims, their client, and the identity they release when it is still to be
        journaled: a plain JSON answer's is journaled here (then None); a signed answer's is
        journaled once the answer is made (``protected_answer``)."""
        context = self.context
        with context.db.connect() as conn:
            store = context.store(conn)
            if admitted is None:
                record = self._verified(presented, store)
                check_binding(presented, record.jkt, None)
                client = store.get_client(record.client_id)
            else:
                record, client = admitted
            if "openid" not in record.scope.split():
                raise InsufficientScope("The access token was not issued with the openid scope.")
            citizen = store.get_citizen(record.citizen_id)
            if client is None or citizen is None:
                raise InvalidAccessToken("The access token's client or subject no longer exists.")
            claims = userinfo_claims(context.config, record, client, citizen, REGISTRY.claims_for)
            release = userinfo_release(record, client, claims)
            if release is not None and userinfo_signing_alg(client) is None:
                self.journal_release(conn, release)
                release = None
            return claims, client, release


class UnknownClients:
    """Client ids looked up and not found, for ``ttl`` seconds (a client registered since is
    seen as soon as the entry expires, as a changed client is by the client cache)."""

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.entries: dict[str, float] = {}

    def known(self, client_id: str) -> bool:
        seen = self.entries.get(client_id)
        return seen is not None and time.monotonic() - seen <= self.ttl

    def add(self, client_id: str) -> None:
        if len(self.entries) >= self.MAX_ENTRIES:
            self.entries.clear()
        self.entries[client_id] = time.monotonic()


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
