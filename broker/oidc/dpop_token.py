"""DPoP at the token endpoint (RFC 9449 §5): which proof a token request carries, whether its
client may go without one, and the errors the endpoint answers.

The order matters. A proof's stateless checks run before anything else, its ``jti`` is
recorded right after client authentication (only authenticated clients leave rows behind), and
both happen before the code or the refresh token is looked up: a bad or replayed proof
consumes no code and rotates no refresh token. A valid proof on a request that then fails is
spent, as any proof presented once.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import OAuth2Error

from broker.oidc.config import OidcConfig
from broker.oidc.dpop import (
    FAPI2_ALGS,
    DpopProof,
    InvalidDpopProof,
    ProofContext,
    UseDpopNonce,
    check_proof,
    proof_header,
)
from broker.oidc.dpop_nonce import DpopNonces, nonces_for
from broker.oidc.models import Client
from broker.oidc.ports import OidcStore
from broker.oidc.request import BrokerOAuth2Request

NONCE_HEADER = "DPoP-Nonce"


class InvalidDpopProofError(OAuth2Error):
    error = "invalid_dpop_proof"
    status_code = 400


class UseDpopNonceError(OAuth2Error):
    error = "use_dpop_nonce"
    status_code = 400

    def __init__(self, description: str, nonce: str) -> None:
        super().__init__(description)
        self.nonce = nonce

    def get_headers(self):
        return [*super().get_headers(), (NONCE_HEADER, self.nonce)]


def as_oauth_error(problem: InvalidDpopProof) -> OAuth2Error:
    if isinstance(problem, UseDpopNonce):
        return UseDpopNonceError(problem.description, problem.nonce)
    return InvalidDpopProofError(problem.description)


def issuer_nonces(config: OidcConfig) -> DpopNonces | None:
    """The nonces the broker's endpoints (token, userinfo) require, if it requires them."""
    return nonces_for(config.dpop_nonce_key, config.issuer, config.dpop_require_nonce)


def token_request_proof(
    config: OidcConfig, request: BrokerOAuth2Request, now: int, nonces: DpopNonces | None
) -> DpopProof | None:
    """The request's proof, checked for the token endpoint; None without a ``DPoP`` header.
    ``nonces``: the broker's, when it requires them. Raises an OAuth2Error."""
    try:
        value = proof_header(request.headers)
        if value is None:
            return None
        context = ProofContext("POST", config.token_endpoint, nonces=nonces)
        return check_proof(value, context, now)
    except InvalidDpopProof as problem:
        raise as_oauth_error(problem) from problem


def admit_client(store: OidcStore, client: Client, proof: DpopProof | None) -> None:
    """Once the client is authenticated: a client registered with ``dpop_bound_access_tokens``
    needs a proof (§5.2), and so does a FAPI 2.0 client (its tokens are sender-constrained,
    FAPI 2.0 §5.3.2.1), signed with the profile's algorithms; the proof's ``jti`` is then
    spent (§11.1), whichever worker sees it next.

    The spend is part of the token transaction: if the transaction fails and
    ``Database.run`` retries it, the row was never committed, so the retry spends it anew;
    once the transaction commits, the proof and the tokens it bound exist together."""
    if proof is None:
        if client.dpop_bound_access_tokens or client.fapi2:
            raise InvalidDpopProofError("This client must send a DPoP proof with its requests.")
        return
    if client.fapi2 and proof.alg not in FAPI2_ALGS:
        raise InvalidDpopProofError(
            f"A FAPI 2.0 client signs its DPoP proofs with {' or '.join(FAPI2_ALGS)}."
        )
    if not store.remember_dpop_proof(proof.replay_digest, proof.expires_at):
        raise InvalidDpopProofError("This DPoP proof was already used.")


def check_refresh_binding(bound_to: str | None, proof: DpopProof | None) -> None:
    """A refresh token bound to a key is used only with a proof made with that key (§5)."""
    if bound_to is None:
        return
    if proof is None:
        raise InvalidDpopProofError(
            "The refresh token is bound to a DPoP key: send a proof made with it."
        )
    if proof.jkt != bound_to:
        raise InvalidDpopProofError("The refresh token is bound to another DPoP key.")


def check_code_binding(grant, result=None) -> None:
    """A grant hook, after the code and PKCE checks: a code whose authorization request named
    a DPoP key (``dpop_jkt``, RFC 9449 §10) is redeemed only with a proof made with that key.
    Like a PKCE failure, a mismatch is a failed redemption and consumes the code."""
    bound_to = getattr(grant.request.authorization_code, "dpop_jkt", None)
    if not bound_to:
        return
    proof = grant.server.proof
    if proof is None or proof.jkt != bound_to:
        raise InvalidDpopProofError("The code is bound to another DPoP key (dpop_jkt).")


def dpop_code_binding(grant) -> None:
    """The grant extension that installs ``check_code_binding``."""
    grant.register_hook("after_validate_token_request", check_code_binding)
