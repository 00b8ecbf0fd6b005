"""Server nonces for DPoP proofs (RFC 9449 §8 and §9), stateless: a nonce is the number of a
time step and a MAC over it, so every worker and process with the key issues and accepts the
same nonces without sharing any state.

The nonce of the current step is issued; it and the previous step's are accepted, so a nonce
stays usable between ``STEP`` and ``2 * STEP`` seconds. The ``realm`` (the server's public URL)
enters the MAC: a nonce the broker issued is not one the data API accepts, nor the reverse.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

STEP = 120  # seconds


@dataclass(frozen=True)
class DpopNonces:
    key: bytes
    realm: str
    step: int = STEP

    def current(self, now: int) -> str:
        return self._nonce(now // self.step)

    def valid(self, nonce: str, now: int) -> bool:
        number, _, _ = nonce.partition(".")
        if not (number.isascii() and number.isdigit()) or len(nonce) > 64:
            return False
        step = now // self.step
        if int(number) not in (step, step - 1):
            return False
        return hmac.compare_digest(nonce, self._nonce(int(number)))

    def _nonce(self, step: int) -> str:
        mac = hmac.new(self.key, f"dpop-nonce:{self.realm}:{step}".encode(), hashlib.sha256)
        return f"{step}.{base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b'=').decode()}"


def nonces_for(key: bytes, realm: str, required: bool) -> DpopNonces | None:
    """The nonces a server asks for, or None when it does not require them."""
    if not required:
        return None
    if len(key) < 16:
        raise ValueError("DPoP nonces need a key of at least 128 bits")
    return DpopNonces(key, realm)
