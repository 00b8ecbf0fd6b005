"""The broker's public keys only, for processes that verify tokens but must never sign them
(the data API): private keys are never read, let alone decrypted, here."""

from __future__ import annotations

import base64
import json
import threading
import time

from joserfc.jwk import KeySet

from broker.keys.keystore import KeyRepository


class PublicKeys:
    """Published keys, reloaded every ``refresh`` seconds, and sooner (at most every
    ``unknown_kid_refresh`` seconds) when a token names a key not seen yet: a rotation must not
    make fresh tokens fail for half a minute."""

    def __init__(
        self, repository: KeyRepository, refresh: float = 30, unknown_kid_refresh: float = 5
    ) -> None:
        self._repo = repository
        self._refresh = refresh
        self._unknown_kid_refresh = unknown_kid_refresh
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._keys = KeySet([])
        self._kids: set[str] = set()

    def verification_keys(self, token: str | None = None) -> KeySet:
        now = time.monotonic()
        age = now - self._loaded_at
        if age >= self._refresh or (
            age >= self._unknown_kid_refresh and token and _kid(token) not in self._kids
        ):
            self._load(now)
        return self._keys

    def invalidate(self) -> None:
        self._loaded_at = 0.0

    def _load(self, now: float) -> None:
        with self._lock:
            wall = time.time()
            published = [
                k.public_jwk
                for k in self._repo.list_keys()
                if k.unpublish_at is None or k.unpublish_at > wall
            ]
            self._keys = KeySet.import_key_set({"keys": published}) if published else KeySet([])
            self._kids = {jwk["kid"] for jwk in published if isinstance(jwk.get("kid"), str)}
            self._loaded_at = now


def _kid(token: str) -> str | None:
    try:
        header = token.split(".", 1)[0]
        return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))).get("kid")
    except (ValueError, AttributeError):
        return None
