"""Small primitives shared by the protocol code: random values and digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random string carrying ``nbytes`` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)


def digest(value: str) -> str:
    """SHA-256 hex digest: used for high-entropy secrets (codes, client secrets, cookies)."""
    return hashlib.sha256(value.encode()).hexdigest()


def same_digest(value: str, expected_digest: str | None) -> bool:
    if not expected_digest:
        return False
    return hmac.compare_digest(digest(value), expected_digest)


def keyed_digest(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
