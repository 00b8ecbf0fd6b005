"""Signing keys: generated at first start, sealed at rest, rotated on demand.

Rotation makes fresh keys the signers; the previous ones stop signing but stay published in
the JWKS until every token they signed has expired (``unpublish_at``)."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from joserfc.jwk import ECKey, KeyParameters, KeySet, RSAKey

from broker.core.security import random_token
from broker.keys.vault import KeyVault

log = logging.getLogger("broker.keys")
SUPPORTED_ALGS = ("ES256", "RS256")
DEFAULT_ALG = "ES256"
STALE_RETRY = 5  # seconds before reloading again keys that could not be reloaded


@dataclass(frozen=True)
class StoredKey:
    kid: str
    alg: str
    public_jwk: dict[str, Any]
    private_jwk_encrypted: bytes
    created_at: int
    retired_at: int | None
    unpublish_at: int | None


class KeyRepository(Protocol):
    def list_keys(self) -> list[StoredKey]: ...
    def add_key(self, key: StoredKey) -> None: ...
    def retire_keys(self, kids: list[str], retired_at: int, unpublish_at: int) -> None: ...


def _generate(alg: str, kid: str) -> ECKey | RSAKey:
    params: KeyParameters = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=params, private=True)
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=params, private=True)
    raise ValueError(f"unsupported signing algorithm {alg}")


class KeyStore:
    """Signing and verification keys, cached in memory and reloaded every ``refresh`` seconds."""

    def __init__(
        self, repository: KeyRepository, vault: KeyVault, max_token_ttl: int, refresh: int = 30
    ) -> None:
        self._repo = repository
        self._vault = vault
        self._max_token_ttl = max_token_ttl
        self._refresh = refresh
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._signers: dict[str, ECKey | RSAKey] = {}
        self._verifiers = KeySet([])
        self._jwks: dict[str, Any] = {"keys": []}

    def ensure_keys(self) -> list[str]:
        """Create a signing key for every supported algorithm that has none; returns new kids."""
        active = {k.alg for k in self._repo.list_keys() if k.retired_at is None}
        created = [self._create(alg) for alg in SUPPORTED_ALGS if alg not in active]
        self._loaded_at = 0
        return created

    def rotate(self, now: int | None = None) -> dict[str, list[str]]:
        now = int(time.time()) if now is None else now
        old = [k.kid for k in self._repo.list_keys() if k.retired_at is None]
        new = [self._create(alg) for alg in SUPPORTED_ALGS]
        # Tokens signed up to now live at most max_token_ttl; keep a minute of clock skew.
        self._repo.retire_keys(old, retired_at=now, unpublish_at=now + self._max_token_ttl + 60)
        self._loaded_at = 0
        return {"created": new, "retired": old}

    def _create(self, alg: str) -> str:
        kid = f"{alg.lower()}-{time.strftime('%Y%m%d')}-{random_token(6)}"
        key = _generate(alg, kid)
        sealed = self._vault.seal(json.dumps(key.as_dict(private=True)).encode(), kid)
        self._repo.add_key(
            StoredKey(
                kid=kid,
                alg=alg,
                public_jwk=key.as_dict(private=False),
                private_jwk_encrypted=sealed,
                created_at=int(time.time()),
                retired_at=None,
                unpublish_at=None,
            )
        )
        return kid

    def _load(self) -> None:
        now = time.time()
        if now - self._loaded_at < self._refresh:
            return
        with self._lock:
            if now - self._loaded_at < self._refresh:
                return
            try:
                stored_keys = self._repo.list_keys()
            except Exception as exc:
                if not self._loaded_at:
                    raise
                # The keys already loaded stay valid while the database is away: /jwks and
                # token verification keep working. Tried again in a few seconds, not at every
                # request.
                self._loaded_at = now - self._refresh + STALE_RETRY
                log.warning(
                    "signing keys not reloaded, the loaded ones are kept",
                    extra={"error": type(exc).__name__},
                )
                return
            signers: dict[str, ECKey | RSAKey] = {}
            published = []
            for stored in sorted(stored_keys, key=lambda k: k.created_at):
                if stored.unpublish_at is not None and stored.unpublish_at <= now:
                    continue
                published.append(stored.public_jwk)
                if stored.retired_at is None:
                    private = json.loads(self._vault.open(stored.private_jwk_encrypted, stored.kid))
                    signers[stored.alg] = _import(private)
            self._signers = signers
            self._jwks = {"keys": published}
            # A data API may start before the broker has made its first keys: no key verifies.
            self._verifiers = (
                KeySet.import_key_set({"keys": published}) if published else KeySet([])
            )
            self._loaded_at = now

    def signing_key(self, alg: str = DEFAULT_ALG) -> ECKey | RSAKey:
        self._load()
        try:
            return self._signers[alg]
        except KeyError:
            raise RuntimeError(f"no active {alg} signing key: run `broker keys rotate`") from None

    def verification_keys(self) -> KeySet:
        self._load()
        return self._verifiers

    def jwks(self) -> dict[str, Any]:
        self._load()
        return self._jwks

    def archive_jwks(self) -> dict[str, Any]:
        """The public part of every key the broker ever signed with, for checking documents
        that outlive a key's publication in the JWKS (consent receipts). Never used to verify
        tokens."""
        return {
            "keys": [
                k.public_jwk for k in sorted(self._repo.list_keys(), key=lambda k: k.created_at)
            ]
        }

    def invalidate(self) -> None:
        self._loaded_at = 0


def _import(jwk: dict[str, Any]) -> ECKey | RSAKey:
    if jwk["kty"] == "EC":
        return ECKey.import_key(jwk)
    return RSAKey.import_key(jwk)
