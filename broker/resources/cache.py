"""Optional cache of provider answers, per product, on a Litestar store.

Keyed by product, call mode, subject and product parameters, never by token or caller: two
services asking about the same person share the provider's answer, and each still sees only
what its own scopes unlock, because masking happens after the cache. Entries hold the whole
provider answer, so they are encrypted (AES-256-GCM, the entry key as associated data) and the
store (memory or Redis) never holds personal data in clear. The key itself is an HMAC, so it
reveals nothing about the person either.
"""

from __future__ import annotations

import dataclasses
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar.stores.base import Store
from redis.exceptions import RedisError

from broker.catalogue.products import product
from broker.core.outages import OUTAGES
from broker.core.security import keyed_digest
from broker.core.settings import ConfigurationError
from broker.keys.vault import derive_key
from broker.providers.base import ProductCall

MAX_LIFETIME = 86400


def check_lifetimes(lifetimes: dict[str, int]) -> None:
    """``BROKER_CACHE_LIFETIMES`` names known products, each for 0 to a day; the data API
    refuses to start otherwise."""
    unknown = [key for key in lifetimes if product(key) is None]
    if unknown:
        raise ConfigurationError(
            "BROKER_CACHE_LIFETIMES names unknown products: " + ", ".join(unknown)
        )
    if any(ttl < 0 or ttl > MAX_LIFETIME for ttl in lifetimes.values()):
        raise ConfigurationError(f"cache lifetimes must be between 0 and {MAX_LIFETIME} seconds")


class ResponseCache:
    def __init__(self, store: Store, key: bytes, lifetimes: dict[str, int]) -> None:
        check_lifetimes(lifetimes)
        self.store = store
        self._aead = AESGCM(derive_key(key, "response cache entries v1"))
        self._key = derive_key(key, "response cache keys v1")
        self.lifetimes = {product: ttl for product, ttl in lifetimes.items() if ttl > 0}

    def enabled_for(self, product: str) -> bool:
        return product in self.lifetimes

    def entry_key(self, call: ProductCall) -> str:
        """Everything the provider is sent, nothing about who asks: the request id aside, two
        calls with the same key are the same question to the provider."""
        question = dataclasses.asdict(dataclasses.replace(call, request_id=""))
        return "cache:" + keyed_digest(self._key, json.dumps(question, sort_keys=True))

    async def get(self, entry_key: str) -> dict | None:
        sealed = await self.store.get(entry_key)
        if not sealed or len(sealed) < 13:
            return None
        try:
            plain = self._aead.decrypt(sealed[:12], sealed[12:], entry_key.encode())
        except InvalidTag:
            return None  # written under another secret: treat as a miss
        return json.loads(plain)

    async def put(self, entry_key: str, product: str, data: dict) -> None:
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, json.dumps(data).encode(), entry_key.encode())
        await self.store.set(entry_key, sealed, expires_in=self.lifetimes[product])


# A cache that cannot be reached is a miss, never a failed call.
async def get_quietly(cache: ResponseCache, entry: str) -> dict | None:
    try:
        return await cache.get(entry)
    except (OSError, RedisError) as exc:
        OUTAGES.report("redis", exc, "response cache")
        return None


async def put_quietly(cache: ResponseCache, entry: str, product: str, data: dict) -> None:
    try:
        await cache.put(entry, product, data)
    except (OSError, RedisError) as exc:
        OUTAGES.report("redis", exc, "response cache")
