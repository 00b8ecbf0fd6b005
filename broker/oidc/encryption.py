"""Encrypted responses (OpenID Connect Core §10.2, Dynamic Client Registration §2): an ID token
or a userinfo answer the broker has signed, encrypted to the client's public key as a nested
JWT (RFC 7519 §5.2: JWE compact serialization, ``cty: JWT``).

Only what a client may register is ever used (RSA-OAEP-256 or ECDH-ES, A256GCM or A128GCM):
whatever a registration row says, ``dir``, key wrapping with a shared secret or RSA1_5 are
refused, and a client whose JWKS holds no usable key gets an ``invalid_client`` error, never
an unencrypted token."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749.errors import InvalidClientError
from joserfc import jwe

from broker.oidc.client_auth import JwksCache
from broker.oidc.client_keys import EncryptionKey, client_jwks, encryption_key
from broker.oidc.models import Client

ENCRYPTION_ALGS = ("RSA-OAEP-256", "ECDH-ES")
ENCRYPTION_ENCS = ("A256GCM", "A128GCM")


class ResponseProtectionError(InvalidClientError):
    """The client's registration asks for a response the broker cannot protect as asked (no
    key to encrypt to, or an algorithm it does not use): ``invalid_client``, with why."""


@dataclass(frozen=True)
class ResponseEncryption:
    """How one response is encrypted for one client: its key, ``alg`` and ``enc``."""

    key: EncryptionKey
    alg: str
    enc: str

    def seal(self, signed_jwt: str) -> str:
        """The signed JWT, encrypted: the JWE header names the client's key (``kid``) so that
        a client with several keys knows which one decrypts (Core §10.2)."""
        header = {"alg": self.alg, "enc": self.enc, "cty": "JWT"}
        if self.key.kid:
            header["kid"] = self.key.kid
        return jwe.encrypt_compact(header, signed_jwt, self.key, algorithms=[self.alg, self.enc])


def id_token_encryption(client: Client, cache: JwksCache) -> ResponseEncryption | None:
    """None when the client's ID tokens are only signed; raises ResponseProtectionError when
    they must be encrypted and cannot be. Reads the cache, never the network."""
    return response_encryption(
        "ID tokens",
        client.id_token_encrypted_response_alg,
        client.id_token_encrypted_response_enc,
        client,
        cache,
    )


def userinfo_encryption(client: Client, cache: JwksCache) -> ResponseEncryption | None:
    """As ``id_token_encryption``, for the userinfo answers."""
    return response_encryption(
        "userinfo answers",
        client.userinfo_encrypted_response_alg,
        client.userinfo_encrypted_response_enc,
        client,
        cache,
    )


def response_encryption(
    what: str, alg: str | None, enc: str | None, client: Client, cache: JwksCache
) -> ResponseEncryption | None:
    if not alg:
        return None
    if alg not in ENCRYPTION_ALGS or enc is None or enc not in ENCRYPTION_ENCS:
        raise ResponseProtectionError(
            f"The client's {what} are registered for encryption with {alg} {enc}, which the "
            f"broker does not use ({', '.join(ENCRYPTION_ALGS)} with "
            f"{' or '.join(ENCRYPTION_ENCS)})."
        )
    jwks = client_jwks(client, cache)
    if jwks is None:
        raise ResponseProtectionError(
            f"The client's {what} must be encrypted, and its JWKS could not be fetched from "
            "its jwks_uri."
        )
    key = encryption_key(jwks, alg)
    if key is None:
        raise ResponseProtectionError(
            f"The client's {what} must be encrypted with {alg}, and its JWKS holds no key "
            f"to encrypt them to (use 'enc', which only a JWKS of one key may leave out, and "
            f"a key type that fits {alg})."
        )
    return ResponseEncryption(key, alg, enc)
