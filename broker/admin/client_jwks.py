"""A client's registered keys, given inline as a JWKS: what the broker accepts to store.

The JWKS is public (the broker publishes nothing of it, but anyone reading the client table,
an operator or a backup, sees it): a private or symmetric key in it is a leaked credential,
refused with a message saying so rather than stored. Each key must be one the broker can use,
so that a mistake shows at registration, not at the client's first token request."""

from __future__ import annotations

import json
from typing import Any

from joserfc.jwk import JWKRegistry
from joserfc.util import base64_to_int

from broker.admin.client_profile import AdminError
from broker.oidc.dpop import PRIVATE_MEMBERS

KEY_TYPES = ("EC", "RSA", "OKP")  # asymmetric only: an "oct" key is a shared secret
MIN_RSA_BITS = 2048  # RFC 7518 §3.3 and §4.3
MAX_KEYS = 10
MAX_JWKS_CHARS = 20_000


def parse_jwks(text: str) -> dict[str, Any]:
    """A JWKS typed or pasted as JSON text, checked (see ``check_client_jwks``)."""
    if len(text) > MAX_JWKS_CHARS:
        raise AdminError(f"the JWKS must be at most {MAX_JWKS_CHARS} characters")
    try:
        jwks = json.loads(text)
    except ValueError as exc:
        raise AdminError(f"the JWKS is not valid JSON: {exc}") from None
    except RecursionError:  # "[[[[…": nesting deeper than the parser goes, never a JWKS
        raise AdminError("the JWKS is nested too deeply to be a key set") from None
    check_client_jwks(jwks)
    return jwks


def check_client_jwks(jwks: Any) -> None:
    """A JSON Web Key Set (RFC 7517 §5) of at most ``MAX_KEYS`` public keys (EC, RSA of 2048
    bits or more, OKP), each readable, with distinct ``kid``s."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise AdminError('the JWKS must be a JSON object with a "keys" array')
    keys = jwks["keys"]
    if not keys:
        raise AdminError("the JWKS holds no key")
    if len(keys) > MAX_KEYS:
        raise AdminError(f"the JWKS must hold at most {MAX_KEYS} keys")
    if len(json.dumps(jwks)) > MAX_JWKS_CHARS:
        raise AdminError(f"the JWKS must be at most {MAX_JWKS_CHARS} characters")
    kids: set[str] = set()
    for position, key in enumerate(keys, start=1):
        check_public_key(key, position)
        kid = key.get("kid")
        if kid is not None:
            if kid in kids:
                raise AdminError(f"key {position} of the JWKS repeats the kid {kid!r}")
            kids.add(kid)


def check_public_key(key: Any, position: int) -> None:
    where = f"key {position} of the JWKS"
    if not isinstance(key, dict):
        raise AdminError(f"{where} must be a JSON object")
    if private := sorted(PRIVATE_MEMBERS & key.keys()):
        raise AdminError(
            f"{where} holds private key material ({', '.join(private)}): register the public "
            "key only, and treat this private key as compromised"
        )
    kty = key.get("kty")
    if kty not in KEY_TYPES:
        raise AdminError(f"{where} must be a public key of type {', '.join(KEY_TYPES)}")
    kid = key.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid.strip()):
        raise AdminError(f"{where} has a kid that is not a non-empty string")
    try:
        JWKRegistry.import_key(key)
    except Exception as exc:  # joserfc raises several types for a malformed key
        raise AdminError(f"{where} cannot be read as a {kty} key ({exc})") from None
    if kty == "RSA" and base64_to_int(key["n"]).bit_length() < MIN_RSA_BITS:
        raise AdminError(f"{where} is an RSA key under {MIN_RSA_BITS} bits")


def holds_private_material(text: str) -> bool:
    """Whether JSON text typed as a JWKS carries a private or symmetric key: a page that
    refuses it must not show it again (it would travel back and sit in the browser)."""
    try:
        jwks = json.loads(text)
    except (ValueError, RecursionError):
        return any(f'"{member}"' in text for member in PRIVATE_MEMBERS)
    keys = jwks.get("keys") if isinstance(jwks, dict) else jwks
    candidates = keys if isinstance(keys, list) else [jwks]
    return any(isinstance(key, dict) and PRIVATE_MEMBERS & key.keys() for key in candidates)
