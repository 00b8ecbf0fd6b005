"""DPoP proofs (RFC 9449 §4): checked, never trusted before every rule below holds.

A proof is a JWS the client signs with a key of its own, whose public half rides in the header;
it names one HTTP request (``htm``, ``htu``), is fresh (``iat``), unique (``jti``), names the
access token it comes with (``ath``) and, when the server asks for them, carries a nonce the
server issued (§8, §9). The checks here are stateless; that a ``jti`` is never accepted twice is
the caller's part (``replay_digest`` and ``expires_at`` say what to remember, for how long).

Freshness: a proof is accepted while ``now - MAX_AGE <= iat <= now + MAX_SKEW`` (60 s old at
most, 10 s ahead of our clock at most). Past that window it fails on ``iat`` alone, so its
``jti`` need only be remembered until ``iat + MAX_AGE``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from joserfc.jws import JWSRegistry

from broker.core.security import digest
from broker.oidc.dpop_nonce import DpopNonces

PROOF_TYPE = "dpop+jwt"
# Asymmetric only (§4.3 check 5): what ``dpop_signing_alg_values_supported`` advertises.
SUPPORTED_ALGS = ("ES256", "PS256", "EdDSA", "Ed25519", "RS256")
# The FAPI 2.0 Security Profile §5.4.1 allows PS256, ES256 and EdDSA (Ed25519) only.
FAPI2_ALGS = ("ES256", "PS256", "EdDSA", "Ed25519")
MAX_AGE = 60  # seconds a proof stays acceptable after its iat
MAX_SKEW = 10  # seconds a client's clock may run ahead of ours
MAX_PROOF_LENGTH = 4096  # an RSA-4096 proof is under 3 kB
MAX_JTI_LENGTH = 256
# RSA proof keys: under 2048 bits is weak (FAPI 2.0 §5.4.1); above 4096, each proof costs the
# server more to verify than it costs the client to make.
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 4096
# OKP keys: Ed25519 only (the EdDSA the FAPI 2.0 Security Profile allows; not Ed448).
OKP_CURVES = ("Ed25519",)
# Members that only a private (or symmetric) key has (RFC 7517 §9.2, RFC 7518 §6).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
DEFAULT_PORTS = {"http": 80, "https": 443}


class ProofRegistry(JWSRegistry):
    # joserfc's default (512) is too small for a header carrying an RSA key.
    max_header_length = 2048
    max_payload_length = 1024


PROOF_REGISTRY = ProofRegistry(algorithms=list(SUPPORTED_ALGS))


class InvalidDpopProof(Exception):
    """The proof fails a rule: ``invalid_dpop_proof`` (§5 at the token endpoint, §7.1 at a
    protected resource)."""

    error = "invalid_dpop_proof"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class UseDpopNonce(InvalidDpopProof):
    """The server wants a nonce it issued in the proof (§8, §9): ``use_dpop_nonce``, with the
    nonce to use in the ``DPoP-Nonce`` header."""

    error = "use_dpop_nonce"

    def __init__(self, description: str, nonce: str) -> None:
        super().__init__(description)
        self.nonce = nonce


@dataclass(frozen=True)
class DpopProof:
    """A proof that passed every stateless check."""

    jkt: str  # RFC 7638 thumbprint (SHA-256) of its public key
    jti: str
    iat: int
    alg: str

    @property
    def replay_digest(self) -> str:
        """What identifies the proof for replay detection (§11.1): its key and its jti."""
        return digest(f"{self.jkt}:{self.jti}")

    @property
    def expires_at(self) -> int:
        """When the proof stops being acceptable, whoever presents it."""
        return self.iat + MAX_AGE


@dataclass(frozen=True)
class ProofContext:
    """The request a proof must name, as the server knows it."""

    method: str
    url: str  # the endpoint's public URL, built from the configuration, never from Host
    access_token: str | None = None  # presented with the proof: ``ath`` must name it
    nonces: DpopNonces | None = None  # set when the server requires nonces


def proof_header(headers: Mapping[str, str]) -> str | None:
    """The ``DPoP`` header's value (None if absent). Several ``DPoP`` fields are refused
    (§4.3 check 1): a framework that joins them with commas yields no valid JWS."""
    getall = getattr(headers, "getall", None)
    if getall is not None:
        values = list(getall("dpop", []))
        if len(values) > 1:
            raise InvalidDpopProof("Exactly one DPoP header is allowed.")
        return values[0] if values else None
    return headers.get("dpop")


def check_proof(value: str, context: ProofContext, now: int) -> DpopProof:
    """Every rule of §4.3 but the replay one, in the RFC's order."""
    if not value or len(value) > MAX_PROOF_LENGTH or value.count(".") != 2:
        raise InvalidDpopProof("The DPoP proof is not a compact JWS.")
    try:
        compact = jws.extract_compact(value.encode("ascii"), registry=PROOF_REGISTRY)
        header = compact.headers()
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidDpopProof("The DPoP proof is not a compact JWS.") from exc
    if str(header.get("typ", "")).lower() != PROOF_TYPE:
        raise InvalidDpopProof(f"The DPoP proof's typ must be {PROOF_TYPE}.")
    alg = header.get("alg")
    if alg not in SUPPORTED_ALGS:
        raise InvalidDpopProof(f"The DPoP proof's alg must be one of {' '.join(SUPPORTED_ALGS)}.")
    key = public_key(header.get("jwk"))
    try:
        verified = jws.deserialize_compact(value, key, algorithms=[alg], registry=PROOF_REGISTRY)
        claims = json.loads(verified.payload)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidDpopProof("The DPoP proof's signature does not verify.") from exc
    if not isinstance(claims, dict):
        raise InvalidDpopProof("The DPoP proof's payload is not a JSON object.")
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise InvalidDpopProof("The DPoP proof has no valid jti.")
    if claims.get("htm") != context.method:
        raise InvalidDpopProof("The DPoP proof's htm is not this request's method.")
    htu = claims.get("htu")
    expected = comparable_url(context.url)
    if not isinstance(htu, str) or expected is None or comparable_url(htu) != expected:
        raise InvalidDpopProof("The DPoP proof's htu is not this endpoint's URL.")
    if context.nonces is not None:
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not context.nonces.valid(nonce, now):
            raise UseDpopNonce(
                "The server requires a nonce it issued in the DPoP proof.",
                context.nonces.current(now),
            )
    if isinstance(iat, bool) or not isinstance(iat, int | float) or not math.isfinite(iat):
        raise InvalidDpopProof("The DPoP proof has no valid iat.")
    if iat < now - MAX_AGE:
        raise InvalidDpopProof("The DPoP proof is too old (iat).")
    if iat > now + MAX_SKEW:
        raise InvalidDpopProof("The DPoP proof is issued in the future (iat).")
    if context.access_token is not None and claims.get("ath") != token_hash(context.access_token):
        raise InvalidDpopProof("The DPoP proof's ath does not match the access token.")
    return DpopProof(jkt=key.thumbprint(), jti=jti, iat=int(iat), alg=alg)


def public_key(jwk: object):
    """The header's key, if it is a public asymmetric key (§4.3 check 7) of a size and curve
    we accept."""
    if not isinstance(jwk, dict) or not jwk.get("kty"):
        raise InvalidDpopProof("The DPoP proof's header carries no jwk.")
    if jwk.get("kty") == "oct" or PRIVATE_MEMBERS & jwk.keys():
        raise InvalidDpopProof("The DPoP proof's jwk must be a public key.")
    if jwk["kty"] == "RSA" and not MIN_RSA_BITS <= modulus_bits(jwk.get("n")) <= MAX_RSA_BITS:
        raise InvalidDpopProof(
            f"The DPoP proof's RSA key must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits."
        )
    if jwk["kty"] == "OKP" and jwk.get("crv") not in OKP_CURVES:
        raise InvalidDpopProof(f"The DPoP proof's OKP key must be on {' or '.join(OKP_CURVES)}.")
    try:
        return JWKRegistry.import_key(jwk)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidDpopProof("The DPoP proof's jwk is not a valid public key.") from exc


def modulus_bits(n: object) -> int:
    """The size of an RSA JWK's modulus (0 if ``n`` is not base64url), read before the key is
    imported: a weak key is refused without ever being used."""
    if not isinstance(n, str) or len(n) > MAX_PROOF_LENGTH:
        return 0
    try:
        raw = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except (ValueError, TypeError):
        return 0
    return int.from_bytes(raw, "big").bit_length()


def token_hash(access_token: str) -> str:
    """``ath`` (§4.2): base64url SHA-256 of the token's ASCII characters."""
    hashed = hashlib.sha256(access_token.encode("ascii", errors="replace")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()


def comparable_url(url: str) -> tuple[str, str, int | None, str] | None:
    """A URL without its query and fragment, normalised as RFC 3986 §6.2.2 and §6.2.3 say
    (case of scheme and host, default port, empty path); None if it is not an http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    return (scheme, parts.hostname, port or DEFAULT_PORTS[scheme], parts.path or "/")
