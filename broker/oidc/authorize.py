"""The authorization endpoint as a pipeline of one-check steps (in the spirit of
node-oidc-provider's ``actions/authorization``), ending in one of three outcomes: an error page
(client or redirect URI not trusted: never redirect), a redirect to the client, or an interaction
with the citizen (login, then consent)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidRequestError,
    OAuth2Error,
    UnsupportedResponseTypeError,
)
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    LoginRequiredError,
)

from broker.core import metrics
from broker.oidc.authorize_rules import ACR_LEVELS as ACR_LEVELS
from broker.oidc.authorize_rules import PROMPTS as PROMPTS
from broker.oidc.authorize_rules import RequestedAuthentication as RequestedAuthentication
from broker.oidc.authorize_rules import (
    check_broker_rules,
    must_push,
    parse_requested_authentication,
)
from broker.oidc.authorize_rules import meets_acr as meets_acr
from broker.oidc.authorize_rules import requested_data_scopes as requested_data_scopes
from broker.oidc.authorize_rules import validate_pushed as validate_pushed
from broker.oidc.models import Authentication, Client
from broker.oidc.request import BrokerOAuth2Request, HttpRequestData
from broker.oidc.screening import (
    plain_text,
    set_aside_offline_access,
    unplain_parameter,
)
from broker.oidc.server import BrokerServer, split_scope

log = logging.getLogger("broker.oidc")

CoveringGrant = Callable[[str, Client, list[str]], "str | None"]


class ParkedRequestInvalid(Exception):
    """The parked authorization request no longer passes validation: nowhere to redirect."""


@dataclass(frozen=True)
class ErrorPage:
    error: str
    description: str
    status: int = 400


@dataclass(frozen=True)
class RedirectToClient:
    location: str


@dataclass(frozen=True)
class NeedsInteraction:
    client: Client
    params: dict[str, str]
    step: str  # "login" or "consent"
    authentication: Authentication | None


Outcome = ErrorPage | RedirectToClient | NeedsInteraction


def with_issuer(location: str, issuer: str) -> str:
    """RFC 9207: every authorization response, errors included, names its issuer."""
    return add_params_to_uri(location, [("iss", issuer)])


def error_redirect(error: OAuth2Error, issuer: str, state: str | None) -> RedirectToClient:
    metrics.flow_failed(error.error)
    if state and not error.state:
        error.state = state
    _, _, headers = error()
    return RedirectToClient(with_issuer(dict(headers)["Location"], issuer))


def trusted_client(server: BrokerServer, request: BrokerOAuth2Request) -> tuple[Client, str] | None:
    """The client and the redirect URI an error may be sent to: RFC 6749 §4.1.2.1, only a
    registered client, and one of its registered redirect URIs exactly, each sent once."""
    datalist = request.payload.datalist
    if len(datalist.get("client_id", [])) != 1 or len(datalist.get("redirect_uri", [])) != 1:
        return None
    client_id, redirect_uri = datalist["client_id"][0], datalist["redirect_uri"][0]
    if not (client_id and plain_text(client_id) and plain_text(redirect_uri)):
        return None
    client = server.query_client(client_id)
    if client is None or not client.check_redirect_uri(redirect_uri):
        return None
    return client, redirect_uri


def refused(
    error: OAuth2Error, trusted: tuple[Client, str] | None, server: BrokerServer
) -> Outcome:
    """One warning per refused request, naming no value the request carried (the client id
    only once known to be registered); then an error page, or a redirect to a trusted client."""
    extra = {"error": error.error, "reason": error.description}
    if trusted is not None:
        extra["client_id"] = trusted[0].client_id
    log.warning("authorization request refused", extra=extra)
    if trusted is None:
        metrics.flow_failed(error.error)
        return ErrorPage(error.error or "invalid_request", error.description or "", status=400)
    error.redirect_uri = trusted[1]
    return error_redirect(error, server.config.issuer, None)


Refusal = tuple[OAuth2Error, tuple[Client, str] | None]


def screening_error(
    server: BrokerServer, request: BrokerOAuth2Request, *, pushed: bool
) -> Refusal | None:
    """What authlib must not see: values it would quote in an error description (which must be
    plain ASCII: a quote, a backslash, a control character or a non-ASCII letter there makes
    authlib raise instead), and values no request of a real client carries. The client and
    its redirect URI are settled first, so that an error goes back only where RFC 6749
    allows; authlib's own checks run afterwards, on what passed. ``pushed``: the parameters
    come from a pushed request (RFC 9126), which a client may be required to use.

    The error, and the client and redirect URI it may be sent to (None: nowhere)."""
    trusted = trusted_client(server, request)
    payload = request.payload
    if trusted is None:
        client_ids = payload.datalist.get("client_id", [])
        if not client_ids or not client_ids[0]:
            error: OAuth2Error = InvalidClientError(description="Missing 'client_id' parameter.")
        elif len(client_ids) > 1:
            error = InvalidRequestError("Multiple 'client_id' in request.")
        elif not plain_text(client_ids[0]) or server.query_client(client_ids[0]) is None:
            error = InvalidClientError(description="The client does not exist on this server.")
        else:
            error = InvalidRequestError(
                "The 'redirect_uri' parameter is missing, repeated or not registered."
            )
        return error, None
    if not pushed and must_push(server.config, trusted[0]):
        error = InvalidRequestError(
            "This client must push its authorization requests to the pushed authorization "
            "request endpoint (RFC 9126) and send only 'client_id' and 'request_uri' here."
        )
        return error, trusted
    if (why := unplain_parameter(payload.datalist)) is not None:
        state = payload.state if payload.state and plain_text(payload.state) else None
        return InvalidRequestError(why, state=state), trusted
    if payload.response_type != "code":
        error = UnsupportedResponseTypeError(
            "The only supported response type is 'code'.", state=payload.state
        )
        return error, trusted
    return None


def screen(
    server: BrokerServer, request: BrokerOAuth2Request, pushed: bool = False
) -> Outcome | None:
    """``screening_error`` as the authorization endpoint answers it: an error page, or a
    redirect to a trusted client."""
    found = screening_error(server, request, pushed=pushed)
    if found is None:
        return None
    return refused(found[0], found[1], server)


def validate(
    server: BrokerServer,
    request: BrokerOAuth2Request,
    user,
    now: int,
) -> tuple[object, Client]:
    """authlib's checks (client, redirect URI, response type, scope, PKCE, nonce) then ours."""
    grant = server.get_consent_grant(request, end_user=user)
    redirect_uri = grant.redirect_uri
    try:
        check_broker_rules(request, request.payload.data, now, server.config)
    except OAuth2Error as error:
        error.redirect_uri = redirect_uri
        raise
    return grant, request.client


def authorize(
    server: BrokerServer,
    http: HttpRequestData,
    session: Authentication | None,
    covering_grant: CoveringGrant,
    now: int,
    pushed: bool = False,
) -> Outcome:
    """``pushed``: ``http`` carries the parameters of a pushed request (``broker.oidc.par``
    resolved its ``request_uri``), which a client may be required to use."""
    http = replace(http, params=set_aside_offline_access(http.params))
    request = server.create_oauth2_request(http)
    state = request.payload.state
    screened = screen(server, request, pushed)
    if screened is not None:
        return screened
    try:
        _, client = validate(server, request, session, now)
    except OAuth2Error as error:
        reason = error.description or error.error or ""
        log.warning(
            "authorization request refused",
            extra={"error": error.error, "reason": reason, "client_id": request.payload.client_id},
        )
        if error.redirect_uri:
            return error_redirect(error, server.config.issuer, state)
        metrics.flow_failed(error.error)
        return ErrorPage(error.error, error.description or "", status=400)

    params = dict(request.payload.data)
    wanted = parse_requested_authentication(params)
    scopes = split_scope(request.scope)
    redirect_uri = params["redirect_uri"]

    if not wanted.session_is_usable(session, now):
        if "none" in wanted.prompts:
            return error_redirect(
                LoginRequiredError(redirect_uri=redirect_uri), server.config.issuer, state
            )
        return NeedsInteraction(client, params, "login", None)

    assert session is not None
    grant_id = (
        None if "consent" in wanted.prompts else covering_grant(session.citizen_id, client, scopes)
    )
    if grant_id is None:
        if "none" in wanted.prompts:
            return error_redirect(
                ConsentRequiredError(redirect_uri=redirect_uri), server.config.issuer, state
            )
        return NeedsInteraction(client, params, "consent", session)
    return RedirectToClient(issue_code(server, params, session, " ".join(scopes), grant_id))


def rebuild_request(server: BrokerServer, params: dict[str, str]) -> BrokerOAuth2Request:
    http = HttpRequestData(
        method="GET",
        uri=server.config.authorization_endpoint,
        headers={},
        params={k: [v] for k, v in params.items()},
    )
    return server.create_oauth2_request(http)


def issue_code(
    server: BrokerServer,
    params: dict[str, str],
    authentication: Authentication,
    granted_scope: str,
    grant_id: str | None,
) -> str:
    """authlib validates the parked request again (the client may have changed since) and
    creates the code and the redirect. Our own checks ran on these very parameters at
    /authorize, and the parked parameters cannot change."""
    request = rebuild_request(server, params)
    grant = server.get_authorization_grant(request)
    request.granted_scope = granted_scope
    request.grant_id = grant_id
    response = server.create_authorization_response(request, grant_user=authentication, grant=grant)
    if response.location is None:
        # The client or its redirect URI went away while the citizen was deciding.
        raise ParkedRequestInvalid(str(response.body))
    metrics.flow_completed()
    return with_issuer(response.location, server.config.issuer)


def deny(server: BrokerServer, params: dict[str, str], error: OAuth2Error) -> str:
    error.redirect_uri = params["redirect_uri"]
    return error_redirect(error, server.config.issuer, params.get("state")).location
