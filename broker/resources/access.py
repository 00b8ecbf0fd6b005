"""One call of the data API, from credential to journaled, masked answer.

Order of the checks, as API Particulier's: credential (401), scope and habilitation (403),
rate limit (429), parameters (422), then the provider. Every call ends with one journal row,
written before any data is returned: if the row cannot be written, no data leaves.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.exceptions import RedisError
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from broker.catalogue.products import FRANCE_CONNECT, Product
from broker.core.db import Database
from broker.core.outages import OUTAGES, RETRY_AFTER, outage_kind
from broker.oidc.config import OidcConfig
from broker.oidc.dpop_nonce import nonces_for
from broker.oidc.dpop_resource import NONCE_HEADER, ResourceRefusal, resource_proof
from broker.oidc.models import CitizenIdentity, GrantStanding
from broker.providers import base
from broker.resources import errors
from broker.resources.cache import ResponseCache
from broker.resources.credentials import (
    ACCESS_TOKEN,
    Caller,
    Permission,
    authenticate,
    credential_from,
    permission,
    refused,
)
from broker.resources.masking import allowed_tree, mask
from broker.resources.params import ParameterProblems, ParsedQuery, parse_query
from broker.resources.ratelimit import DEFAULT_RATE_LIMIT, RateLimiter
from broker.resources.subjects import identifier_digest, identity_digest, pivot_of
from broker.store.data_access_store import SqlDataAccessStore
from broker.store.oidc_store import SqlOidcStore

log = logging.getLogger("broker.resources")


class GrantLedger(Protocol):
    """The consent side, as the data API needs it (``consent.ledger.ConsentLedger``, plugged
    in by the composition root)."""

    def standing(self, conn: Connection, grant_id: str | None, now: int) -> GrantStanding: ...


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Call:
    """What the journal row will say, filled in as the call goes."""

    product: Product
    mode: str
    request_id: str
    started: float
    caller: Caller | None = None
    habilitation_id: str | None = None
    scopes: list[str] = field(default_factory=list)
    recipient: str | None = None
    identity_digest: str | None = None
    cached: bool = False
    rate_headers: dict[str, str] = field(default_factory=dict)  # once the limiter has counted
    dpop_headers: dict[str, str] = field(default_factory=dict)  # the next DPoP nonce, if asked


class DataAccess:
    def __init__(
        self,
        db: Database,
        keys,
        config: OidcConfig,
        adapters: dict[str, base.Adapter],
        limiter: RateLimiter,
        journal_key: bytes,
        ledger: GrantLedger,
        cache: ResponseCache | None = None,
        default_rate_limit: int = DEFAULT_RATE_LIMIT,
    ) -> None:
        self.db = db
        self.keys = keys
        self.config = config
        self.adapters = adapters
        self.limiter = limiter
        self.journal_key = journal_key
        self.ledger = ledger
        self.cache = cache
        self.default_rate_limit = default_rate_limit
        # RFC 9449 §9: the data API's own nonces (its audience in the MAC: not the broker's).
        self.nonces = nonces_for(
            config.dpop_nonce_key, config.resource_audience, config.dpop_require_nonce
        )

    async def call(self, product: Product, mode: str, headers, query, request_id: str) -> Answer:
        call = _Call(product=product, mode=mode, request_id=request_id, started=time.perf_counter())
        try:
            subject, parsed = await self._admit(call, headers, query)
            found = await self._fetch(call, subject, parsed, headers)
            data = mask(found, allowed_tree(call.scopes, product.path))
        except errors.ApiError as error:
            await self._journal_quietly(call, error.outcome, error.status, error.code)
            return Answer(
                error.status,
                error.body(),
                {**call.rate_headers, **call.dpop_headers, **error.headers},
            )
        except Exception as exc:
            kind = outage_kind(exc)
            if kind is None:
                # Still one journal row per call; the web layer answers 500 in JSON:API form.
                await self._journal_quietly(call, "server_error", 500, "00500")
                raise
            OUTAGES.report(kind, exc, "data API call")
            down = errors.store_unavailable(RETRY_AFTER)
            await self._journal_quietly(call, down.outcome, down.status, down.code)
            return Answer(down.status, down.body(), {**call.rate_headers, **down.headers})
        out_headers = {**call.rate_headers, **call.dpop_headers}
        if self._cache_for(product) is not None:
            out_headers["X-Response-Cached"] = "true" if call.cached else "false"
        if not await self._journal_quietly(call, "ok", 200, None):
            unavailable = errors.journal_unavailable()
            return Answer(unavailable.status, unavailable.body(), out_headers)
        return Answer(200, {"data": data, "links": {}, "meta": {}}, out_headers)

    async def _fetch(self, call: _Call, subject, parsed: ParsedQuery, headers) -> dict:
        """The provider's whole answer, from the cache when allowed and fresh."""
        product = call.product
        question = base.ProductCall(
            product=product.key,
            mode=call.mode,
            pivot=subject,
            identifier=parsed.identifier,
            params=parsed.params,
            request_id=call.request_id,
        )
        cache = self._cache_for(product)
        entry = None
        if cache is not None:
            entry = cache.entry_key(question)
            if "no-cache" not in headers.get("cache-control", "").lower():
                cached = await _cache_get(cache, entry)
                if cached is not None:
                    call.cached = True
                    return cached
        outcome = await self.adapters[product.provider].fetch(question)
        if not isinstance(outcome, base.Found):
            raise errors.from_outcome(product.provider, outcome)
        if cache is not None and entry is not None:
            await _cache_put(cache, entry, product.key, outcome.data)
        return outcome.data

    def public_url(self, call: _Call) -> str:
        """The URL the client called, as a DPoP proof's ``htu`` names it: on the data API's
        public address (its audience, the URL of ``/v3``), never on the Host header."""
        return f"{self.config.resource_audience.rstrip('/')}/{call.product.key}/{call.mode}"

    def _cache_for(self, product: Product) -> ResponseCache | None:
        """The response cache, when it keeps this product's answers."""
        if self.cache is not None and self.cache.enabled_for(product.key):
            return self.cache
        return None

    async def _admit(self, call: _Call, headers, query):
        caller, allowed, citizen = await self.db.run(lambda: self._identify(call, headers))
        limit = allowed.habilitation.rate_limit or self.default_rate_limit
        try:
            # Per credential and habilitation: a token whose products fall under habilitations
            # with different limits gets each limit, not the smallest.
            decision = await self.limiter.hit(
                f"{caller.credential_id}:{allowed.habilitation.id}", limit
            )
        except (OSError, RedisError) as exc:
            OUTAGES.report("redis", exc, "rate-limit store")
            raise errors.rate_limit_store_unavailable() from exc
        call.rate_headers = decision.headers()
        if not decision.allowed:
            raise errors.rate_limited(decision.reset)
        try:
            parsed = parse_query(
                query, call.product, call.mode, api_key=caller.kind != ACCESS_TOKEN
            )
        except ParameterProblems as exc:
            raise errors.invalid_parameters(exc.problems) from exc
        call.recipient = parsed.recipient
        subject = parsed.pivot
        if call.mode == FRANCE_CONNECT:
            if citizen is None:
                raise errors.unauthorized("L'usager de ce jeton n'existe plus.")
            subject = pivot_of(citizen)
        if subject is not None:
            call.identity_digest = identity_digest(self.journal_key, subject)
        elif parsed.identifier:
            call.identity_digest = identifier_digest(self.journal_key, call.mode, parsed.identifier)
        return subject, parsed

    def _identify(self, call: _Call, headers) -> tuple[Caller, Permission, CitizenIdentity | None]:
        """Who calls, what they may read of this product, and whom a token is about."""
        now = int(time.time())
        credential = credential_from(headers)
        proof = None
        if credential is not None:
            try:
                proof = resource_proof(
                    credential, headers, "GET", self.public_url(call), self.nonces, now
                )
            except ResourceRefusal as refusal:
                raise refused(refusal) from refusal
            if proof is not None and self.nonces is not None:
                call.dpop_headers = {NONCE_HEADER: self.nonces.current(now)}
        with self.db.connect() as conn:
            oidc = SqlOidcStore(conn)  # no client cache: revocations apply on the next call
            caller = call.caller = authenticate(
                credential,
                oidc,
                SqlDataAccessStore(conn),
                lambda: self.keys.verification_keys(credential.token if credential else None),
                self.config,
                now,
                proof,
            )
            if proof is not None:
                conn.commit()  # a read connection: the proof's row must outlive it
            consented_under = None
            if caller.kind == ACCESS_TOKEN:
                standing = self.ledger.standing(conn, caller.grant_id, now)
                if not standing.active:
                    raise errors.unauthorized("L'usager a retiré son consentement, ou il a expiré.")
                consented_under = standing.habilitation_id
            allowed = permission(caller, call.product, call.mode, now, consented_under)
            call.habilitation_id = allowed.habilitation.id
            call.scopes = sorted(allowed.scopes)
            citizen = oidc.get_citizen(caller.citizen_id) if caller.citizen_id else None
        return caller, allowed, citizen

    async def _journal_quietly(
        self, call: _Call, outcome: str, status: int, error_code: str | None
    ) -> bool:
        return await self.db.run(lambda: self._journal(call, outcome, status, error_code))

    def _journal(self, call: _Call, outcome: str, status: int, error_code: str | None) -> bool:
        caller = call.caller
        entry = {
            "at": int(time.time()),
            "request_id": call.request_id[:64],
            "service_id": caller.service_id if caller else None,
            "habilitation_id": call.habilitation_id,
            "credential": caller.kind if caller else "none",
            "credential_id": caller.credential_id if caller else None,
            "client_id": caller.client.client_id if caller and caller.client else None,
            "citizen_id": caller.citizen_id if caller else None,
            "subject": caller.subject if caller else None,
            "identity_digest": call.identity_digest,
            "product": call.product.key,
            "mode": call.mode,
            "scopes": call.scopes if status == 200 else [],
            "recipient": call.recipient,
            "outcome": outcome,
            "status": status,
            "error_code": error_code,
            "cached": call.cached,
            "latency_ms": round((time.perf_counter() - call.started) * 1000),
        }
        try:
            with self.db.begin() as conn:
                SqlDataAccessStore(conn).journal(entry)
        except SQLAlchemyError as exc:
            kind = outage_kind(exc)
            if kind is not None:
                OUTAGES.report(kind, exc, "access journal")
                return False
            log.error(
                "access journal write failed",  # the type only: no row values in logs
                extra={
                    "product": call.product.key,
                    "outcome": outcome,
                    "error": type(exc).__name__,
                },
            )
            return False
        return True


# A cache that cannot be reached is a miss, never a failed call.
async def _cache_get(cache: ResponseCache, entry: str) -> dict | None:
    try:
        return await cache.get(entry)
    except (OSError, RedisError) as exc:
        OUTAGES.report("redis", exc, "response cache")
        return None


async def _cache_put(cache: ResponseCache, entry: str, product: str, data: dict) -> None:
    try:
        await cache.put(entry, product, data)
    except (OSError, RedisError) as exc:
        OUTAGES.report("redis", exc, "response cache")


__all__ = ["Answer", "DataAccess", "ParsedQuery"]
