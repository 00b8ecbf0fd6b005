"""Our rules for an authorization request, beyond authlib's (no request objects, the query
response mode, openid, data scopes under one habilitation, the authentication asked for), and
who must push theirs (RFC 9126): shared by /authorize and the pushed authorization endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oidc.core.errors import InvalidRequestURIError, RequestNotSupportedError

from broker.catalogue.registry import DATA
from broker.catalogue.scopes import REGISTRY
from broker.oidc.config import OidcConfig
from broker.oidc.models import Authentication, Client
from broker.oidc.request import BrokerOAuth2Request
from broker.oidc.resource_indicators import RESOURCE, check_resources
from broker.oidc.scope_checks import check_habilitation_covers
from broker.oidc.screening import DPOP_JKT
from broker.oidc.server import BrokerServer, split_scope

ACR_LEVELS = {"eidas1": 1, "eidas2": 2, "eidas3": 3}
PROMPTS = {"none", "login", "consent", "select_account"}


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


def must_push(config: OidcConfig, client: Client) -> bool:
    """RFC 9126 §5 and §6, FAPI 2.0 §5.3.2.2: authorization requests only through /par."""
    return (
        config.require_pushed_authorization_requests
        or client.require_pushed_authorization_requests
        or client.fapi2
    )


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


def check_broker_rules(
    request: BrokerOAuth2Request, data: Mapping[str, str], now: int, config: OidcConfig
) -> None:
    """Our rules, after authlib's: no request objects, the query response mode, openid, data
    scopes covered by one habilitation, the resource asked for (RFC 8707: the data API, the
    only one), and authentication requirements we can meet."""
    if "request" in data:
        raise RequestNotSupportedError()
    if "request_uri" in data:
        # Resolved before this point when it names a pushed request (``broker.oidc.par``):
        # here it can only be one that was pushed inside a pushed request, or a stray one.
        raise InvalidRequestURIError("'request_uri' is not accepted here.")
    if data.get("response_mode", "query") != "query":
        raise InvalidRequestError("Only 'response_mode=query' is supported.")
    if "dpop_jkt" in data and not DPOP_JKT.fullmatch(data["dpop_jkt"]):
        raise InvalidRequestError("'dpop_jkt' must be a SHA-256 JWK thumbprint (RFC 7638).")
    scopes = split_scope(request.scope)
    if "openid" not in scopes:
        raise InvalidScopeError("The 'openid' scope is required.")
    check_habilitation_covers(requested_data_scopes(scopes), request.client, now)
    check_resources(request.payload.datalist.get(RESOURCE, []), config.resource_audience)
    parse_requested_authentication(dict(data))


def validate_pushed(server: BrokerServer, request: BrokerOAuth2Request, now: int) -> Client:
    """The checks of ``validate`` for a request being pushed (RFC 9126 §2.1): no citizen is
    known yet, so ``prompt=none`` cannot be judged here (it is at /authorize)."""
    grant = server.get_authorization_grant(request)
    grant.validate_no_multiple_request_parameter(request)
    grant.validate_authorization_request()
    check_broker_rules(request, request.payload.data, now, server.config)
    return request.client


def meets_acr(params: dict[str, str], acr: str) -> bool:
    return ACR_LEVELS.get(acr, 0) >= parse_requested_authentication(params).min_acr
