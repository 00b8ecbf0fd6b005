"""Pushed authorization requests (RFC 9126).

A client posts its authorization request to /par, authenticated exactly as at the token
endpoint; the request is checked as /authorize would check it, kept under a random
``request_uri`` (stored as a digest), and the client sends the browser to /authorize with only
``client_id`` and that ``request_uri``. There the pushed parameters replace whatever the query
carries (§4), once: a ``request_uri`` is single use, short-lived and bound to its client.

A client registered with ``require_pushed_authorization_requests`` (or every client, by the
deployment's setting), and every FAPI 2.0 client, can only be authorized this way
(``authorize_rules.must_push``)."""

from __future__ import annotations

import logging
from typing import Protocol

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import InvalidRequestURIError, RequestNotSupportedError

from broker.core import metrics
from broker.core.security import digest, random_token
from broker.oidc import authorize, authorize_rules, screening
from broker.oidc.dpop import FAPI2_ALGS, InvalidDpopProof, ProofContext, check_proof, proof_header
from broker.oidc.dpop_token import InvalidDpopProofError, as_oauth_error
from broker.oidc.models import AUTH_METHODS, Client
from broker.oidc.request import HttpRequestData
from broker.oidc.resource_indicators import RESOURCE, check_resources
from broker.oidc.server import BrokerServer, ProtocolResponse

log = logging.getLogger("broker.oidc")

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"  # RFC 9126 §2.2
ENDPOINT = "pushed_authorization_request"
# Relied upon for client authentication only, never part of the authorization request (§2).
CREDENTIALS = frozenset({"client_secret", "client_assertion", "client_assertion_type"})
# FAPI 2.0 Security Profile §5.3.2.2: a request_uri's expires_in is less than 600 seconds.
FAPI2_MAX_REQUEST_URI_TTL = 599
MAX_REQUEST_URI_LENGTH = 128  # ours are 77 characters


class PushedRequests(Protocol):
    """Where pushed requests wait for their ``request_uri`` (``broker.store`` keeps them in
    SQL, within the step's transaction)."""

    def save(
        self,
        uri_digest: str,
        client_id: str,
        params: dict[str, str],
        created_at: int,
        expires_at: int,
    ) -> None: ...

    def consume(self, uri_digest: str, client_id: str, now: int) -> dict[str, str] | None:
        """The pushed parameters, marked used, if the request exists, belongs to
        ``client_id``, is unused and unexpired (compare-and-set: once); None otherwise."""


def push(
    server: BrokerServer, http: HttpRequestData, store: PushedRequests, now: int
) -> ProtocolResponse:
    """One pushed authorization request (§2.1): 201 with the ``request_uri``, or an OAuth
    error (400; 401 for a client that tried HTTP Basic and failed)."""
    request = server.create_oauth2_request(http)
    try:
        client = server.authenticate_client(request, list(AUTH_METHODS), ENDPOINT)
    except OAuth2Error as error:
        log.warning(
            "pushed authorization request refused",
            extra={"error": error.error, "reason": error.description},
        )
        return error_response(server, request, error)
    try:
        params = authorization_parameters(http, client, server.config.resource_audience)
        if "scope" in params:
            params["scope"] = screening.without_offline_access(params["scope"])
        bind_to_dpop_key(server, http, client, params, now)
        check(server, params, now)
    except OAuth2Error as error:
        log.warning(
            "pushed authorization request refused",
            extra={
                "error": error.error,
                "reason": error.description,
                "client_id": client.client_id,
            },
        )
        metrics.flow_failed(error.error or "invalid_request")
        return error_response(server, request, error)
    ttl = request_uri_ttl(server, client)
    request_uri = REQUEST_URI_PREFIX + random_token(32)
    store.save(digest(request_uri), client.client_id, params, now, now + ttl)
    log.info("authorization request pushed", extra={"client_id": client.client_id})
    return ProtocolResponse(
        201, {"request_uri": request_uri, "expires_in": ttl}, [("Cache-Control", "no-store")]
    )


def error_response(server: BrokerServer, request, error: OAuth2Error) -> ProtocolResponse:
    """As JSON to the client that pushed, never as a redirect (§2.3)."""
    error.redirect_uri = None
    error.state = None
    return server.handle_error_response(request, error)


def authorization_parameters(
    http: HttpRequestData, client: Client, audience: str
) -> dict[str, str]:
    """The authorization request the authenticated ``client`` pushed: its parameters without
    the credentials, each sent once (RFC 6749 §3.1) but ``resource``, which may repeat
    (RFC 8707 §2: here always naming ``audience``, the only resource), naming that very
    client."""
    params: dict[str, str] = {}
    for name, values in http.params.items():
        if name in CREDENTIALS:
            continue
        if name == RESOURCE and values:
            check_resources(values, audience)
        elif len(values) != 1:
            what = f"'{name}'" if name in screening.KNOWN_PARAMETERS else "A parameter"
            raise InvalidRequestError(f"{what} is sent more than once.")
        params[name] = values[0]
    if "request_uri" in params:
        raise InvalidRequestError(
            "A pushed request cannot carry a 'request_uri' (RFC 9126, section 2.1)."
        )
    if "request" in params:
        raise RequestNotSupportedError("Request objects are not supported.")
    if params.get("client_id") != client.client_id:
        raise InvalidRequestError(
            "The 'client_id' parameter is required and must name the authenticated client."
        )
    return params


def bind_to_dpop_key(
    server: BrokerServer, http: HttpRequestData, client: Client, params: dict[str, str], now: int
) -> None:
    """RFC 9449 §10.1: a DPoP proof sent with the push binds the code to its key, as
    ``dpop_jkt`` does (both may come: they must name the same key). The proof is checked as at
    the token endpoint (§4.3, nonces included) and spent."""
    try:
        value = proof_header(http.headers)
        if value is None:
            return
        endpoint = server.config.pushed_authorization_request_endpoint
        context = ProofContext("POST", endpoint, nonces=server.dpop_nonces)
        proof = check_proof(value, context, now)
    except InvalidDpopProof as problem:
        raise as_oauth_error(problem) from problem
    if client.fapi2 and proof.alg not in FAPI2_ALGS:
        raise InvalidDpopProofError(
            f"A FAPI 2.0 client signs its DPoP proofs with {' or '.join(FAPI2_ALGS)}."
        )
    if params.setdefault("dpop_jkt", proof.jkt) != proof.jkt:
        raise InvalidDpopProofError("The DPoP proof's key is not the one 'dpop_jkt' names.")
    if not server.store.remember_dpop_proof(proof.replay_digest, proof.expires_at):
        raise InvalidDpopProofError("This DPoP proof was already used.")


def check(server: BrokerServer, params: dict[str, str], now: int) -> None:
    """Every check /authorize makes before it meets the citizen (OAuth2Error if one fails)."""
    request = authorize.rebuild_request(server, params)
    found = authorize.screening_error(server, request, pushed=True)
    if found is not None:
        raise found[0]
    authorize_rules.validate_pushed(server, request, now)


def request_uri_ttl(server: BrokerServer, client: Client) -> int:
    ttl = server.config.pushed_request_ttl
    return min(ttl, FAPI2_MAX_REQUEST_URI_TTL) if client.fapi2 else ttl


def resolve(
    server: BrokerServer, http: HttpRequestData, store: PushedRequests, now: int
) -> HttpRequestData | authorize.ErrorPage | None:
    """/authorize with a ``request_uri`` (§4): the pushed request it names, in place of what
    the query carries, used up; None if the request names no ``request_uri`` (parameters sent
    directly). One that is unknown, expired, used or pushed by another client than the one
    named gets an error page: nothing in the query can be trusted to redirect to."""
    if "request_uri" not in http.params:
        return None
    request_uris = http.params["request_uri"]
    client_ids = http.params.get("client_id", [])
    if len(request_uris) != 1 or len(client_ids) != 1:
        error: OAuth2Error = InvalidRequestError(
            "'client_id' and 'request_uri' are each required once."
        )
        return refused(server, error)
    request_uri, client_id = request_uris[0], client_ids[0]
    params = None
    if (
        request_uri.startswith(REQUEST_URI_PREFIX)
        and len(request_uri) <= MAX_REQUEST_URI_LENGTH
        and screening.plain_text(client_id)
    ):
        params = store.consume(digest(request_uri), client_id, now)
    if params is None:
        error = InvalidRequestURIError(
            "The 'request_uri' is unknown, expired, already used, or was pushed by another client."
        )
        return refused(server, error)
    return HttpRequestData(
        method="GET",
        uri=server.config.authorization_endpoint,
        headers=http.headers,
        params={name: [value] for name, value in params.items()},
    )


def refused(server: BrokerServer, error: OAuth2Error) -> authorize.ErrorPage:
    outcome = authorize.refused(error, None, server)
    assert isinstance(outcome, authorize.ErrorPage)
    return outcome
