"""Access tokens presented at a protected resource (userinfo, the data API), with RFC 6750's
``Bearer`` scheme or RFC 9449 §7's ``DPoP`` scheme, and the challenges a refusal carries.

The rules: a token bound to a key (``cnf.jkt``) is accepted only as ``DPoP`` with a proof
signed by that key (§7.2: never downgraded to ``Bearer``); an unbound token only as ``Bearer``
(§4.3 check 12: with ``DPoP`` there is no bound key for the proof to match); the proof names
this request (``htm``, ``htu``) and this token (``ath``), and is spent once. Bearer tokens take
no step of this beyond reading the header: their path costs what it did.

Order: the proof's stateless checks (``resource_proof``), then the caller verifies the token
and loads its client, then ``admit_proof`` (``check_binding``, the FAPI 2.0 algorithms, then
``spend_proof`` records the ``jti``), in a transaction of its own committed before the rest of
the request is read: ``Database.run`` may retry a read step, which must not find the proof
already spent by its own first attempt. A proof refused before it is spent fails the same way
whenever it is presented again (unknown or revoked token, wrong key, wrong algorithm).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from broker.oidc.dpop import (
    FAPI2_ALGS,
    SUPPORTED_ALGS,
    DpopProof,
    InvalidDpopProof,
    ProofContext,
    UseDpopNonce,
    check_proof,
    proof_header,
)
from broker.oidc.dpop_nonce import DpopNonces
from broker.oidc.models import Client
from broker.oidc.ports import OidcStore

BEARER = "Bearer"
DPOP = "DPoP"
NONCE_HEADER = "DPoP-Nonce"
INVALID_TOKEN = "invalid_token"
INVALID_DPOP_PROOF = "invalid_dpop_proof"
ALGS = " ".join(SUPPORTED_ALGS)
# RFC 6750 §3.1 and RFC 9449 §7.2: no credentials at all gets a bare challenge per scheme.
BARE_CHALLENGE = f'{BEARER}, {DPOP} algs="{ALGS}"'
NOT_BOUND = "The access token is not DPoP-bound: present it as a Bearer token."
BOUND = "The access token is DPoP-bound: present it with the DPoP scheme."


@dataclass(frozen=True)
class PresentedToken:
    scheme: str  # BEARER | DPOP
    token: str


class ResourceRefusal(Exception):
    """A 401 at a protected resource: ``error`` is ``invalid_token``, ``invalid_dpop_proof``
    or ``use_dpop_nonce`` (then ``nonce`` is the one to use)."""

    def __init__(
        self, error: str, description: str, scheme: str = DPOP, nonce: str | None = None
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.scheme = scheme
        self.nonce = nonce

    @property
    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value (RFC 6750 §3, RFC 9449 §7.1)."""
        text = f'{self.scheme} error="{self.error}", error_description="{self.description}"'
        return f'{text}, algs="{ALGS}"' if self.scheme == DPOP else text

    def headers(self) -> dict[str, str]:
        headers = {"WWW-Authenticate": self.challenge}
        if self.nonce:
            headers[NONCE_HEADER] = self.nonce
        return headers


def presented_token(authorization: str | None) -> PresentedToken | None:
    """The token of an ``Authorization`` header, with its scheme (case-insensitive)."""
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    if not value:
        return None
    for known in (BEARER, DPOP):
        if scheme.lower() == known.lower():
            return PresentedToken(known, value)
    return None


def resource_proof(
    presented: PresentedToken,
    headers: Mapping[str, str],
    method: str,
    url: str,
    nonces: DpopNonces | None,
    now: int,
) -> DpopProof | None:
    """For a ``DPoP`` presentation, its proof checked for this request; None for ``Bearer``
    (a stray ``DPoP`` header beside a bearer token proves nothing and is ignored)."""
    if presented.scheme != DPOP:
        return None
    try:
        value = proof_header(headers)
        if value is None:
            raise InvalidDpopProof("A DPoP-scheme token needs a DPoP proof header.")
        context = ProofContext(method, url, access_token=presented.token, nonces=nonces)
        return check_proof(value, context, now)
    except UseDpopNonce as problem:
        raise ResourceRefusal(problem.error, problem.description, nonce=problem.nonce) from None
    except InvalidDpopProof as problem:
        raise ResourceRefusal(problem.error, problem.description) from None


def invalid_token(presented: PresentedToken, description: str) -> ResourceRefusal:
    """The token itself is refused, in the scheme it came with."""
    return ResourceRefusal(INVALID_TOKEN, description, scheme=presented.scheme)


def check_binding(presented: PresentedToken, bound_to: str | None, proof: DpopProof | None) -> None:
    if bound_to is None:
        if presented.scheme == DPOP:
            raise ResourceRefusal(INVALID_TOKEN, NOT_BOUND)
        return
    if presented.scheme != DPOP or proof is None:
        # RFC 9449 §7.2: a bound token presented as a bearer token is refused.
        raise ResourceRefusal(INVALID_TOKEN, BOUND)
    if proof.jkt != bound_to:
        raise ResourceRefusal(
            INVALID_DPOP_PROOF, "The DPoP proof is not signed with the token's key."
        )


def check_profile(client: Client, proof: DpopProof | None) -> None:
    """FAPI 2.0 Security Profile §5.4.1: a FAPI 2.0 client's proofs are signed with the
    profile's algorithms, at the resources as at the token endpoint."""
    if proof is not None and client.fapi2 and proof.alg not in FAPI2_ALGS:
        raise ResourceRefusal(
            INVALID_DPOP_PROOF,
            f"A FAPI 2.0 client signs its DPoP proofs with {' or '.join(FAPI2_ALGS)}.",
        )


def spend_proof(store: OidcStore, proof: DpopProof | None) -> None:
    """The proof's ``jti`` is accepted once, across every process (§11.1)."""
    if proof is not None and not store.remember_dpop_proof(proof.replay_digest, proof.expires_at):
        raise ResourceRefusal(INVALID_DPOP_PROOF, "This DPoP proof was already used.")


def admit_proof(
    store: OidcStore,
    presented: PresentedToken,
    bound_to: str | None,
    client: Client,
    proof: DpopProof | None,
) -> None:
    """Once the token is verified and its client loaded: the presentation fits the token's
    binding, the proof the client's profile, and the proof is spent (ResourceRefusal if not)."""
    check_binding(presented, bound_to, proof)
    check_profile(client, proof)
    spend_proof(store, proof)
