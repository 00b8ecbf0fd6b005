"""The key a client's responses are encrypted to (OpenID Connect Core §10.2), chosen from the
JWKS it registered, inline or at its ``jwks_uri``.

A remote JWKS is read from ``JwksCache``: ``prefetch_encryption_keys`` (async, before the
response is made) fetches it when it is absent or older than the cache's TTL, and again, at
most once per ``min_refresh`` seconds, when it holds no key to encrypt to; the synchronous
grant code then only reads the cache (``client_jwks``). A client that rotates its encryption
key (§10.2.1: it publishes the new one and removes the old) is served the new one once the
cached set expires."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey
from joserfc.util import base64_to_int

from broker.oidc.client_auth import JwksCache
from broker.oidc.models import Client

# RFC 7518 §4.3 and §4.6, RFC 8037 §3.2: which keys each key management algorithm works with.
# Symmetric keys (``oct``: ``dir``, ``A*KW``) never: a client's JWKS is public.
KEY_TYPES: dict[str, dict[str, frozenset[str] | None]] = {
    "RSA-OAEP-256": {"RSA": None},
    "ECDH-ES": {"EC": frozenset({"P-256", "P-384", "P-521"}), "OKP": frozenset({"X25519"})},
}
MIN_RSA_BITS = 2048  # RFC 7518 §4.3: "A key of size 2048 bits or larger MUST be used"
ENCRYPTING_OPS = frozenset({"encrypt", "wrapKey", "deriveKey", "deriveBits"})
PUBLIC_MEMBERS = ("kty", "kid", "use", "alg", "key_ops", "crv", "x", "y", "n", "e")

EncryptionKey = RSAKey | ECKey | OKPKey


def encryption_key(jwks: Mapping[str, Any] | None, alg: str) -> EncryptionKey | None:
    """The first key of ``jwks`` a JWE with key management ``alg`` can be encrypted to, or
    None: ``use`` "enc" (absent only when the JWKS holds that one key and none declares
    ``use``), ``alg`` absent or equal, ``key_ops`` allowing encryption, a key type and curve
    that fit ``alg``, and RSA keys of at least 2048 bits."""
    if alg not in KEY_TYPES or not isinstance(jwks, Mapping):
        return None
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        return None
    # Core §10.1.1 and §10.2.1: a JWKS with several keys, or any ``use``, says which encrypt;
    # a signing key published without ``use`` never becomes the key responses are sealed to.
    use_required = len(keys) > 1 or any(isinstance(k, dict) and "use" in k for k in keys)
    for jwk in keys:
        key = fitting_key(jwk, alg, use_required=use_required)
        if key is not None:
            return key
    return None


def fitting_key(jwk: Any, alg: str, *, use_required: bool = True) -> EncryptionKey | None:
    if not isinstance(jwk, dict):
        return None
    if jwk.get("use", None if use_required else "enc") != "enc":
        return None
    if jwk.get("alg", alg) != alg:
        return None
    key_ops = jwk.get("key_ops")
    if key_ops is not None and not (
        isinstance(key_ops, list) and any(op in key_ops for op in ENCRYPTING_OPS)
    ):
        return None
    kty, crv, fitting = jwk.get("kty"), jwk.get("crv"), KEY_TYPES[alg]
    if not isinstance(kty, str) or kty not in fitting:
        return None
    curves = fitting[kty]
    if curves is not None and not (isinstance(crv, str) and crv in curves):
        return None
    # Only the public members: a private key registered by mistake is not imported as one.
    public = {name: jwk[name] for name in PUBLIC_MEMBERS if name in jwk}
    try:
        if public["kty"] == "RSA" and base64_to_int(public["n"]).bit_length() < MIN_RSA_BITS:
            return None
        key = JWKRegistry.import_key(public)
    except Exception:  # a malformed key is not a usable one; the others may be
        return None
    return key if isinstance(key, RSAKey | ECKey | OKPKey) else None


def client_jwks(client: Client, cache: JwksCache) -> dict[str, Any] | None:
    """The client's registered JWKS: inline, or its ``jwks_uri``'s as last fetched (None when
    not fetched, or older than the cache's TTL). Never fetches: for the synchronous code."""
    if client.jwks is not None:
        return client.jwks
    if client.jwks_uri:
        return cache.get(client.jwks_uri)
    return None


def encryption_algs(client: Client) -> set[str]:
    """The key management algorithms the client's registration asks responses encrypted with."""
    return {
        alg
        for alg in (client.id_token_encrypted_response_alg, client.userinfo_encrypted_response_alg)
        if alg
    }


def holds_encryption_keys(jwks: Mapping[str, Any], algs: set[str]) -> bool:
    return all(encryption_key(jwks, alg) is not None for alg in algs)


async def prefetch_encryption_keys(cache: JwksCache, client: Client) -> None:
    """Before a token or userinfo response for ``client`` is made: its remote JWKS, fetched
    when absent or older than the cache's TTL, or when it holds no key to encrypt to (at most
    once per ``min_refresh`` seconds: a client cannot make the broker hammer its server).
    Nothing to do for a client without encrypted responses or with an inline JWKS."""
    algs = encryption_algs(client)
    if not algs or client.jwks is not None or not client.jwks_uri:
        return
    await cache.prefetch(client.jwks_uri, usable=lambda jwks: holds_encryption_keys(jwks, algs))
