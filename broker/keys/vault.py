"""Encryption at rest of private signing keys: AES-256-GCM under a key derived (HKDF) from the
key-encryption secret. The key id is bound as associated data, so a ciphertext cannot be moved
to another row."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"


class VaultError(RuntimeError):
    pass


def derive_key(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret
    )


class KeyVault:
    def __init__(self, secret: bytes) -> None:
        self._aead = AESGCM(derive_key(secret, "broker signing keys at rest v1"))

    def seal(self, plaintext: bytes, kid: str) -> bytes:
        nonce = os.urandom(12)
        return VERSION + nonce + self._aead.encrypt(nonce, plaintext, kid.encode())

    def open(self, sealed: bytes, kid: str) -> bytes:
        if sealed[:1] != VERSION:
            raise VaultError(f"unknown sealed key format for {kid}")
        try:
            return self._aead.decrypt(sealed[1:13], sealed[13:], kid.encode())
        except InvalidTag as exc:
            raise VaultError(
                f"cannot decrypt signing key {kid}: wrong BROKER_KEY_ENCRYPTION_SECRET?"
            ) from exc
