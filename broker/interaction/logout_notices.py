"""Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0 §2.5): the notices
queued when sessions end (``broker.store.logout_outbox``) are posted to each service's
registered ``backchannel_logout_uri`` as a ``logout_token`` form parameter, retried with
backoff, given up after a bounded time.

The claim, lease and retries are ``broker.core.outbox``'s, as for consent events. The token
is signed at each attempt (it lives two minutes) with the keys and algorithm of the
service's ID tokens, and encrypted to the service's key when its ID tokens are (§2.4): a
service whose key cannot be found is retried, never sent a token in the clear. Only 200 and
204 are a delivery (§2.8); a redirect is never followed; the URL must still be the one the
client registers, and the client enabled."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from broker.core import metrics
from broker.core.db import Database
from broker.core.outbox import DEFAULT_BACKOFF, OutboxDispatcher
from broker.keys.keystore import KeyStore
from broker.oidc.client_auth import JwksCache
from broker.oidc.client_keys import prefetch_encryption_keys
from broker.oidc.encryption import ResponseProtectionError, id_token_encryption
from broker.oidc.logout_token import logout_token
from broker.oidc.models import Client
from broker.store.clients import load_client
from broker.store.logout_outbox import DUE, STATEMENTS

log = logging.getLogger("broker.logout_notices")

DELIVERED_STATUSES = (200, 204)


class LogoutDispatcher(OutboxDispatcher):
    """Posts due logout notices; ``backoff[i]`` is the wait after failed attempt ``i + 1``,
    and a notice is given up after ``len(backoff) + 1`` failed attempts."""

    what = "logout notice"

    def __init__(
        self,
        db: Database,
        client: httpx.AsyncClient,
        keys: KeyStore,
        issuer: str,
        jwks_cache: JwksCache,
        *,
        backoff: tuple[int, ...] = DEFAULT_BACKOFF,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(db, client, STATEMENTS, DUE, log, backoff=backoff, timeout=timeout)
        self.keys = keys
        self.issuer = issuer
        self.jwks_cache = jwks_cache  # the flows' own: clients' encryption keys

    async def attempt(self, row, now: int) -> None:
        client = await self.db.run(lambda: self.client_of(row.client_id))
        if client is None or client.backchannel_logout_uri != row.url:
            # Only ever post to the URL the client registers, and only while it is enabled.
            await self.settle(row, now, "url no longer registered for the client", final=True)
            return
        await prefetch_encryption_keys(self.jwks_cache, client)
        error: str | None
        try:
            # Off the event loop: the key store may read the database.
            token = await self.db.run(lambda: self.token_for(row, client))
        except ResponseProtectionError as exc:
            error = f"logout token not encrypted: {exc.description}"
        else:
            error = await self.post(row.url, token)
        await self.settle(row, now, error)

    def client_of(self, client_id: str) -> Client | None:
        with self.db.connect() as conn:
            return load_client(conn, client_id)

    def token_for(self, row, client: Client) -> str:
        """The logout token for the notice's service: signed like its ID tokens, and encrypted
        like them when it registered so (raises ResponseProtectionError when it cannot be)."""
        encryption = id_token_encryption(client, self.jwks_cache)  # before signing: fail fast
        token = logout_token(
            self.keys.signing_key(client.id_token_signed_response_alg),
            issuer=self.issuer,
            client_id=row.client_id,
            sub=row.sub,
            sid=row.sid,
            now=int(time.time()),
        )
        return encryption.seal(token) if encryption is not None else token

    def about(self, row, attempt: int) -> dict[str, Any]:
        """What the logs say of a notice: never its subject or the token."""
        return {"notice_id": row.id, "client_id": row.client_id, "attempt": attempt}

    def measure_backlog(self) -> None:
        """How many notices wait for delivery, and the oldest one's age, for the metrics."""
        metrics.logout_backlog(*self.backlog())

    async def post(self, url: str, token: str) -> str | None:
        """None when the service answered 200 or 204; otherwise what went wrong, short (never
        the service's body, which may echo the token)."""
        try:
            async with (
                asyncio.timeout(self.timeout),
                # Streamed and never read: only the status matters, whatever the body's size.
                self.client.stream(
                    "POST",
                    url,
                    data={"logout_token": token},
                    headers={"Accept": "application/json", "Accept-Encoding": "identity"},
                    timeout=self.timeout,
                    follow_redirects=False,
                ) as response,
            ):
                status = response.status_code
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {str(exc)[:200]}".rstrip(": ")
        if status in DELIVERED_STATUSES:
            return None
        if 300 <= status < 400:
            return f"HTTP {status}: redirect not followed"
        return f"HTTP {status}"
