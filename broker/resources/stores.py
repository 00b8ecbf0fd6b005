"""Litestar stores shared by every process: Redis when configured, this process's memory
otherwise. Rate limits, the response cache and the sign-in throttle live in them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore

from broker.core.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

REDIS_TIMEOUT = 0.5  # seconds: a Redis that stops answering must not hang every call

# One script, so one round trip and no other request between the two commands: the first hit
# of a window gives its key a lifetime (EXPIRE only then: later hits must not prolong it).
INCREMENT = b"""
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""


class CountingRedisStore(RedisStore):
    """Litestar's Redis store, plus an atomic counter: reading a count then writing it back
    lets a burst of parallel requests be counted as one."""

    def __init__(
        self, redis: Redis, namespace: str | None = None, handle_client_shutdown: bool = False
    ) -> None:
        super().__init__(redis, namespace=namespace, handle_client_shutdown=handle_client_shutdown)
        self.client = redis  # our own reference: Litestar keeps its client private
        self.increment_script = redis.register_script(INCREMENT)

    def counter_key(self, key: str) -> str:
        """The key under the store's namespace, as Litestar's ``get`` and ``delete_all`` see it."""
        return f"{self.namespace}:{key}" if self.namespace else key

    async def increment(self, key: str, expires_in: int) -> int:
        """Add one to ``key`` and return the new count; a new key expires in ``expires_in`` s."""
        count = await self.increment_script(keys=[self.counter_key(key)], args=[expires_in])
        return int(count)


def shared_store(settings: Settings, namespace: str) -> Store:
    """Redis when configured, so that every process shares it; else this process's memory."""
    if settings.redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(
            settings.redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        return CountingRedisStore(client, namespace=namespace, handle_client_shutdown=True)
    return MemoryStore()
