"""One call of the data API, from credential to journaled, masked answer.

Order of the checks, as API Particulier's: credential (401), scope and habilitation (403),
rate limit (429), parameters (422), then the recipient the habilitation allows (403, once the
``recipient`` parameter is known to be a SIRET), then the provider. Every call ends with one
journal row, written before any data is returned: if the row cannot be written, no data
leaves.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.exceptions import RedisError
from sqlalchemy import Connection

from broker.catalogue.products import FRANCE_CONNECT, Product
from broker.core.db import Database
from broker.core.outages import OUTAGES, RETRY_AFTER, outage_kind
from broker.oidc.config import OidcConfig
from broker.oidc.dpop_nonce import nonces_for
from broker.oidc.dpop_resource import (
    DPOP,
    NONCE_HEADER,
    PresentedToken,
    ResourceRefusal,
    resource_proof,
)
from broker.oidc.models import CitizenIdentity, GrantStanding, GrantTerms
from broker.providers import base
from broker.resources import errors
from broker.resources.cache import ResponseCache, get_quietly, put_quietly
from broker.resources.credentials import (
    ACCESS_TOKEN,
    Caller,
    Permission,
    authenticate,
    caller_refused,
    consent_withdrawn,
    credential_from,
    permission,
    refused,
)
from broker.resources.journal import CallRecord, write_journal
from broker.resources.masking import allowed_tree, mask
from broker.resources.params import ParameterProblems, ParsedQuery, parse_query
from broker.resources.ratelimit import DEFAULT_RATE_LIMIT, RateLimiter
from broker.resources.recipients import check_recipient
from broker.resources.resource_metadata import with_resource_metadata
from broker.resources.rights import with_absolute_links
from broker.resources.subjects import identifier_digest, identity_digest, pivot_of
from broker.store.data_access_store import SqlDataAccessStore
from broker.store.oidc_store import SqlOidcStore

log = logging.getLogger("broker.resources")


class GrantLedger(Protocol):
    """The consent side, as the data API needs it (``consent.ledger.ConsentLedger``, plugged
    in by the composition root)."""

    def standing(self, conn: Connection, grant_id: str | None, now: int) -> GrantStanding: ...

    def terms(self, conn: Connection, grant_id: str | None, now: int) -> GrantTerms | None: ...


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


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
        call = CallRecord(
            product=product, mode=mode, request_id=request_id, started=time.perf_counter()
        )
        try:
            subject, parsed = await self._admit(call, headers, query)
            found = await self._fetch(call, subject, parsed, headers)
            data = mask(found, allowed_tree(call.scopes, product.path))
        except errors.ApiError as error:
            await self._journal_quietly(call, error.outcome, error.status, error.code)
            return self.error_answer(error, {**call.rate_headers, **call.dpop_headers})
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

    async def _fetch(self, call: CallRecord, subject, parsed: ParsedQuery, headers) -> dict:
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
                cached = await get_quietly(cache, entry)
                if cached is not None:
                    call.cached = True
                    return cached
        outcome = await self.adapters[product.provider].fetch(question)
        if not isinstance(outcome, base.Found):
            raise errors.from_outcome(
                product.provider, outcome, product=product.key, mode=call.mode
            )
        if cache is not None and entry is not None:
            await put_quietly(cache, entry, product.key, outcome.data)
        return outcome.data

    def public_url(self, path: str) -> str:
        """The URL the client called, as a DPoP proof's ``htu`` names it: on the data API's
        public address (its resource identifier, the tokens' audience), never on the Host
        header."""
        return self.config.resource_audience.rstrip("/") + path

    def error_answer(self, error: errors.ApiError, headers: dict[str, str]) -> Answer:
        """A refusal as the client receives it: a 401's challenges point at the data API's
        metadata (RFC 9728 §5.1), a 403's link to the caller's rights is absolute (a program
        can follow it as it is)."""
        out = with_resource_metadata(error.headers, self.config.resource_audience)
        body = with_absolute_links(error.body(), self.public_url(errors.INTROSPECT_PATH))
        return Answer(error.status, body, {**headers, **out})

    def _cache_for(self, product: Product) -> ResponseCache | None:
        """The response cache, when it keeps this product's answers."""
        if self.cache is not None and self.cache.enabled_for(product.key):
            return self.cache
        return None

    async def _admit(self, call: CallRecord, headers, query):
        credential = credential_from(headers)
        admitted = None
        if credential is not None and credential.scheme == DPOP:
            # RFC 9449 §11.1: the proof is spent in a transaction of its own, committed before
            # the read step, which ``Database.run`` may retry (``dpop_resource``).
            url = self.public_url(call.product.route(call.mode))
            admitted = await self.db.run(
                lambda: self.admit_proof(credential, headers, url, call.dpop_headers)
            )
        caller, allowed, citizen, recipients = await self.db.run(
            lambda: self._identify(call, credential, admitted)
        )
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
        check_recipient(parsed.recipient, recipients)
        subject = parsed.pivot
        if call.mode == FRANCE_CONNECT:
            if citizen is None:
                raise caller_refused(
                    credential,
                    "The access token's subject no longer exists.",
                    "L'usager de ce jeton n'existe plus.",
                )
            subject = pivot_of(citizen)
        if subject is not None:
            call.identity_digest = identity_digest(self.journal_key, subject)
        elif parsed.identifier:
            call.identity_digest = identifier_digest(self.journal_key, call.mode, parsed.identifier)
        return subject, parsed

    def admit_proof(
        self, credential: PresentedToken, headers, url: str, dpop_headers: dict[str, str]
    ) -> Caller:
        """A DPoP presentation: its proof checked for a GET of ``url``, its token verified,
        and the proof spent, committed on return. ``dpop_headers`` receives the next nonce,
        which every answer from then on carries, refusals included."""
        now = int(time.time())
        try:
            proof = resource_proof(credential, headers, "GET", url, self.nonces, now)
        except ResourceRefusal as refusal:
            raise refused(refusal) from refusal
        if self.nonces is not None:
            dpop_headers[NONCE_HEADER] = self.nonces.current(now)
        with self.db.begin() as conn:
            return authenticate(
                credential,
                SqlOidcStore(conn),  # no client cache: revocations apply on the next call
                SqlDataAccessStore(conn),
                lambda: self.keys.verification_keys(credential.token),
                self.config,
                now,
                proof,
            )

    def _identify(
        self,
        call: CallRecord,
        credential: PresentedToken | None,
        admitted: Caller | None,
    ) -> tuple[Caller, Permission, CitizenIdentity | None, tuple[str, ...]]:
        """Who calls (``admitted``: a DPoP presentation's caller, its proof spent), what they
        may read of this product, whom a token is about, and the recipients the habilitation
        allows (read with it)."""
        now = int(time.time())
        with self.db.connect() as conn:
            oidc = SqlOidcStore(conn)  # no client cache: revocations apply on the next call
            caller = admitted or authenticate(
                credential,
                oidc,
                SqlDataAccessStore(conn),
                lambda: self.keys.verification_keys(credential.token if credential else None),
                self.config,
                now,
            )
            call.caller = caller
            consented_under = None
            if caller.kind == ACCESS_TOKEN:
                standing = self.ledger.standing(conn, caller.grant_id, now)
                if not standing.active:
                    raise consent_withdrawn(credential)
                consented_under = standing.habilitation_id
            allowed = permission(caller, call.product, call.mode, now, consented_under)
            call.habilitation_id = allowed.habilitation.id
            call.scopes = sorted(allowed.scopes)
            citizen = oidc.get_citizen(caller.citizen_id) if caller.citizen_id else None
        return caller, allowed, citizen, allowed.habilitation.recipients

    async def _journal_quietly(
        self, call: CallRecord, outcome: str, status: int, error_code: str | None
    ) -> bool:
        return await self.db.run(lambda: write_journal(self.db, call, outcome, status, error_code))


__all__ = ["Answer", "DataAccess", "ParsedQuery"]
