"""HTTP endpoints of the OpenID Connect provider. Thin: parse, call the flow, translate."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from broker.catalogue.scopes import REGISTRY
from broker.interaction.backchannel import BackChannel, InsufficientScope
from broker.interaction.flow import AuthorizationFlow
from broker.keys.keystore import KeyStore
from broker.oidc.config import OidcConfig
from broker.oidc.discovery import authorization_server_metadata, metadata
from broker.oidc.dpop_resource import (
    BARE_CHALLENGE,
    BEARER,
    NONCE_HEADER,
    PresentedToken,
    ResourceRefusal,
    invalid_token,
    presented_token,
    resource_proof,
)
from broker.oidc.encryption import ResponseProtectionError
from broker.oidc.request import HttpRequestData
from broker.oidc.server import ProtocolResponse
from broker.oidc.tokens import InvalidAccessToken
from broker.web.client_throttle import ClientAuthThrottle, claimed_client_id
from broker.web.http import (
    BROWSER_COOKIE,
    NO_STORE,
    SESSION_COOKIE,
    cookies_for,
    http_request_data,
    protocol_response,
    redirect,
)
from broker.web.pages import authorize_error_page
from broker.web.throttle import source_address

FORM = "application/x-www-form-urlencoded"
PUBLIC = {"Access-Control-Allow-Origin": "*"}


@dataclass(frozen=True)
class Endpoints:
    """What the protocol endpoints work with, handed to them as one dependency: Litestar
    resolves a handler's several dependencies concurrently, in a task group that costs more
    per request than the dependencies themselves."""

    flow: AuthorizationFlow
    backchannel: BackChannel
    keys: KeyStore
    config: OidcConfig
    secure_cookies: bool  # an https issuer: cookies are sent with Secure
    client_throttle: ClientAuthThrottle


class OidcController(Controller):
    @get("/.well-known/openid-configuration", cache=False)
    async def discovery(self, endpoints: NamedDependency[Endpoints]) -> Response:
        body = metadata(endpoints.config, REGISTRY.names(), REGISTRY.claims_supported())
        return Response(body, headers={"Cache-Control": "public, max-age=300", **PUBLIC})

    @get("/.well-known/oauth-authorization-server", cache=False)
    async def authorization_server(self, endpoints: NamedDependency[Endpoints]) -> Response:
        """For data providers (RFC 8414): the introspection endpoint they may use."""
        return Response(
            authorization_server_metadata(endpoints.config),
            headers={"Cache-Control": "public, max-age=300", **PUBLIC},
        )

    @get("/jwks")
    async def jwks(self, endpoints: NamedDependency[Endpoints]) -> Response:
        return Response(
            endpoints.keys.jwks(),
            media_type="application/jwk-set+json",
            headers={"Cache-Control": "public, max-age=60", **PUBLIC},
        )

    @get("/receipt-keys")
    async def receipt_keys(self, endpoints: NamedDependency[Endpoints]) -> Response:
        """Every public key the broker signed with, retired ones included: a consent receipt
        stays verifiable after the key that signed it has left /jwks."""
        return Response(
            endpoints.keys.archive_jwks(),
            media_type="application/jwk-set+json",
            headers={"Cache-Control": "public, max-age=300", **PUBLIC},
        )

    @get("/authorize")
    async def authorize_get(
        self, request: Request, endpoints: NamedDependency[Endpoints]
    ) -> Redirect | Template:
        return await _authorize(request, endpoints)

    @post("/authorize", status_code=303)
    async def authorize_post(
        self, request: Request, endpoints: NamedDependency[Endpoints]
    ) -> Redirect | Template:
        return await _authorize(request, endpoints)

    @post("/token", status_code=200)
    async def token(self, request: Request, endpoints: NamedDependency[Endpoints]) -> Response:
        http = await form_request(request, endpoints, "token")
        if isinstance(http, Response):
            return http
        return await authenticated_call(request, endpoints, http, endpoints.backchannel.token)

    @post("/introspect", status_code=200)
    async def introspect(self, request: Request, endpoints: NamedDependency[Endpoints]) -> Response:
        http = await form_request(request, endpoints, "introspection")
        if isinstance(http, Response):
            return http
        return protocol_response(await endpoints.backchannel.introspect(http))

    @post("/revoke", status_code=200)
    async def revoke(self, request: Request, endpoints: NamedDependency[Endpoints]) -> Response:
        """RFC 7009 for services, with the token endpoint's client authentication."""
        http = await form_request(request, endpoints, "revocation")
        if isinstance(http, Response):
            return http
        return await authenticated_call(request, endpoints, http, endpoints.backchannel.revoke)

    @get("/userinfo")
    async def userinfo_get(
        self, request: Request, endpoints: NamedDependency[Endpoints]
    ) -> Response:
        return await _userinfo(request, endpoints)

    @post("/userinfo", status_code=200)
    async def userinfo_post(
        self, request: Request, endpoints: NamedDependency[Endpoints]
    ) -> Response:
        return await _userinfo(request, endpoints)


async def form_request(
    request: Request, endpoints: Endpoints, what: str
) -> HttpRequestData | Response:
    """A back-channel request's form, or the error to answer: the body must be a form, and
    parameters in the URL are ignored (RFC 6749 §2.3.1: credentials and codes never travel
    there)."""
    if not (request.headers.get("content-type") or "").startswith(FORM):
        return _json_error(
            400, "invalid_request", f"The {what} request must be application/x-www-form-urlencoded."
        )
    return await http_request_data(
        request, endpoints.config.issuer, include_form=True, include_query=False
    )


async def authenticated_call(
    request: Request,
    endpoints: Endpoints,
    http: HttpRequestData,
    call: Callable[[HttpRequestData], Awaitable[ProtocolResponse]],
) -> Response:
    """A request a service authenticates (/token, /revoke, /par): failed client
    authentications slow the next ones down (``ClientAuthThrottle``)."""
    client_id = claimed_client_id(http)
    address = source_address(request)
    wait = await endpoints.client_throttle.retry_after(client_id, address)
    if wait:
        # RFC 8628 §3.5 registers slow_down as a token endpoint error (429 at /par: RFC 9126
        # §2.3 allows it).
        return Response(
            {
                "error": "slow_down",
                "error_description": f"Too many failed client authentications: retry in {wait} s.",
            },
            status_code=429,
            headers={**NO_STORE, "Retry-After": str(wait)},
        )
    await endpoints.backchannel.prefetch_client_keys(http, client_id)
    result = await call(http)
    if client_authentication_failed(result):
        await endpoints.client_throttle.failed(client_id, address)
    return protocol_response(result)


def client_authentication_failed(result: ProtocolResponse) -> bool:
    """401, or authlib's 400 ``invalid_client`` for an assertion it refuses (a replayed
    ``jti``, a wrong audience)."""
    body = result.body
    return result.status == 401 or (
        isinstance(body, dict) and body.get("error") == "invalid_client"
    )


async def _authorize(request: Request, endpoints: Endpoints) -> Redirect | Template:
    http = await http_request_data(request, endpoints.config.issuer, include_form=True)
    result = await endpoints.flow.authorize(
        http, request.cookies.get(BROWSER_COOKIE), request.cookies.get(SESSION_COOKIE)
    )
    if result.error_page is not None or result.location is None:
        error = result.error_page
        return authorize_error_page(
            error.error if error else "invalid_request", error.status if error else 400
        )
    return redirect(result.location, cookies_for(result, endpoints.secure_cookies))


async def _userinfo(request: Request, endpoints: Endpoints) -> Response:
    """OpenID Connect Core §5.3 with RFC 6750's Bearer tokens (header or form body) and
    RFC 9449's DPoP-bound ones (``Authorization: DPoP`` and a proof of this request)."""
    presented = presented_token(request.headers.get("authorization"))
    if presented is None and request.method == "POST":
        form = await request.form()
        body_token = form.get("access_token")
        if isinstance(body_token, str) and body_token:
            presented = PresentedToken(BEARER, body_token)
    if presented is None:
        # RFC 6750 §3.1: no credentials at all gets a bare challenge (one per scheme).
        return Response(
            {"error": "invalid_token", "error_description": "Missing access token."},
            status_code=401,
            headers={**NO_STORE, "WWW-Authenticate": BARE_CHALLENGE},
        )
    config = endpoints.config
    nonces = endpoints.backchannel.context.dpop_nonces
    now = int(time.time())
    try:
        proof = resource_proof(
            presented, request.headers, request.method, config.userinfo_endpoint, nonces, now
        )
        answer = await endpoints.backchannel.userinfo(presented, proof)
    except ResponseProtectionError as exc:
        # The token is good; the client's registration cannot be honoured (Core §5.3.3).
        return _json_error(400, exc.error, exc.get_error_description())
    except InvalidAccessToken as exc:
        return _refusal(invalid_token(presented, exc.description))
    except ResourceRefusal as refusal:
        return _refusal(refusal)
    except InsufficientScope as exc:
        scope_refusal = ResourceRefusal("insufficient_scope", exc.description, presented.scheme)
        return _refusal(scope_refusal, status=403)
    headers = dict(NO_STORE)
    if nonces is not None and proof is not None:
        headers[NONCE_HEADER] = nonces.current(now)  # RFC 9449 §9: the next one to use
    # Core §5.3.2: a signed or encrypted answer is application/jwt.
    return Response(answer.body, media_type=answer.media_type, headers=headers)


def _refusal(refusal: ResourceRefusal, status: int = 401) -> Response:
    return Response(
        {"error": refusal.error, "error_description": refusal.description},
        status_code=status,
        headers={**NO_STORE, **refusal.headers()},
    )


def _json_error(status: int, error: str, description: str) -> Response:
    return Response(
        {"error": error, "error_description": description}, status_code=status, headers=NO_STORE
    )
