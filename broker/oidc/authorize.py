"""The authorization endpoint as a pipeline of one-check steps (in the spirit of
node-oidc-provider's ``actions/authorization``), ending in one of three outcomes: an error page
(client or redirect URI not trusted: never redirect), a redirect to the client, or an interaction
with the citizen (login, then consent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError, OAuth2Error
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    LoginRequiredError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)

from broker.catalogue.registry import DATA
from broker.catalogue.scopes import REGISTRY
from broker.core import metrics
from broker.oidc.models import Authentication, Client
from broker.oidc.request import BrokerOAuth2Request, HttpRequestData
from broker.oidc.server import BrokerServer, split_scope

ACR_LEVELS = {"eidas1": 1, "eidas2": 2, "eidas3": 3}
PROMPTS = {"none", "login", "consent", "select_account"}

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


@dataclass(frozen=True)
class RequestedAuthentication:
    prompts: frozenset[str]
    max_age: int | None
    min_acr: int

    def session_is_usable(self, session: Authentication | None, now: int) -> bool:
        if session is None or "login" in self.prompts or "select_account" in self.prompts:
            return False
        if self.max_age is not None and now - session.auth_time > self.max_age:
            return False
        return ACR_LEVELS.get(session.acr, 0) >= self.min_acr


def with_issuer(location: str, issuer: str) -> str:
    """RFC 9207: every authorization response, errors included, names its issuer."""
    return add_params_to_uri(location, [("iss", issuer)])


def error_redirect(error: OAuth2Error, issuer: str, state: str | None) -> RedirectToClient:
    metrics.flow_failed(error.error)
    if state and not error.state:
        error.state = state
    _, _, headers = error()
    return RedirectToClient(with_issuer(dict(headers)["Location"], issuer))


def parse_requested_authentication(params: dict[str, str]) -> RequestedAuthentication:
    prompts = frozenset((params.get("prompt") or "").split())
    if not prompts <= PROMPTS:
        raise InvalidRequestError("Unsupported 'prompt' value.")
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequestError("'prompt=none' cannot be combined with other values.")
    max_age = None
    if params.get("max_age") is not None:
        raw = params["max_age"]
        if not raw.isdigit():
            raise InvalidRequestError("'max_age' must be a non-negative integer.")
        max_age = int(raw)
    min_acr = 1
    if params.get("acr_values"):
        levels = [ACR_LEVELS[v] for v in params["acr_values"].split() if v in ACR_LEVELS]
        if not levels:
            raise InvalidRequestError("'acr_values' must name eidas1, eidas2 or eidas3.")
        min_acr = min(levels)
    return RequestedAuthentication(prompts=prompts, max_age=max_age, min_acr=min_acr)


def requested_data_scopes(scopes: list[str]) -> set[str]:
    return {name for name in scopes if (s := REGISTRY.get(name)) is not None and s.kind == DATA}


def validate(
    server: BrokerServer,
    request: BrokerOAuth2Request,
    user,
    now: int,
) -> tuple[object, Client]:
    """authlib's checks (client, redirect URI, response type, scope, PKCE, nonce) then ours."""
    grant = server.get_consent_grant(request, end_user=user)
    data = request.payload.data
    redirect_uri = grant.redirect_uri
    try:
        if "request" in data:
            raise RequestNotSupportedError()
        if "request_uri" in data:
            raise RequestURINotSupportedError()
        if data.get("response_mode", "query") != "query":
            raise InvalidRequestError("Only 'response_mode=query' is supported.")
        scopes = split_scope(request.scope)
        if "openid" not in scopes:
            raise InvalidScopeError("The 'openid' scope is required.")
        data_scopes = requested_data_scopes(scopes)
        if data_scopes and request.client.habilitation_for(data_scopes, now) is None:
            raise InvalidScopeError(
                "The requested data scopes are not all covered by one active habilitation "
                "of this service."
            )
        parse_requested_authentication(data)
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
) -> Outcome:
    request = server.create_oauth2_request(http)
    state = request.payload.state
    try:
        _, client = validate(server, request, session, now)
    except OAuth2Error as error:
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


def meets_acr(params: dict[str, str], acr: str) -> bool:
    return ACR_LEVELS.get(acr, 0) >= parse_requested_authentication(params).min_acr
