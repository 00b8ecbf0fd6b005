"""Litestar stores shared by every process: Redis when configured, this process's memory
otherwise. Rate limits, the response cache and the sign-in throttle live in them."""

from __future__ import annotations

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from broker.core.settings import Settings

REDIS_TIMEOUT = 0.5  # seconds: a Redis that stops answering must not hang every call


def shared_store(settings: Settings, namespace: str) -> Store:
    """Redis when configured, so that every process shares it; else this process's memory."""
    if settings.redis_url:
        from litestar.stores.redis import RedisStore
        from redis.asyncio import Redis

        client = Redis.from_url(
            settings.redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        return RedisStore(client, namespace=namespace, handle_client_shutdown=True)
    return MemoryStore()
