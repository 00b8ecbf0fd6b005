"""The Redis the tests use (database 15 of the local server), and a mark for tests that need it:
on a machine without Redis they are skipped, and say why."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not redis_reachable(), reason=f"Redis is not reachable at {REDIS_URL}"
)
