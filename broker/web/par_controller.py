"""The pushed authorization request endpoint (RFC 9126): a form posted by a service,
authenticated like the token endpoint, throttled like it on failed client authentication."""

from __future__ import annotations

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency

from broker.web.client_throttle import claimed_client_id
from broker.web.http import NO_STORE, protocol_response
from broker.web.oidc_controller import Endpoints, client_authentication_failed, form_request
from broker.web.throttle import source_address


class PushedAuthorizationController(Controller):
    @post("/par", status_code=201)
    async def push(self, request: Request, endpoints: NamedDependency[Endpoints]) -> Response:
        http = await form_request(request, endpoints, "pushed authorization")
        if isinstance(http, Response):
            return http
        client_id = claimed_client_id(http)
        address = source_address(request)
        wait = await endpoints.client_throttle.retry_after(client_id, address)
        if wait:
            # RFC 9126 §2.3: 429; the body as the token endpoint words it.
            return Response(
                {
                    "error": "slow_down",
                    "error_description": "Too many failed client authentications: "
                    f"retry in {wait} s.",
                },
                status_code=429,
                headers={**NO_STORE, "Retry-After": str(wait)},
            )
        await endpoints.backchannel.prefetch_client_keys(http)
        result = await endpoints.flow.push(http)
        if client_authentication_failed(result):
            await endpoints.client_throttle.failed(client_id, address)
        return protocol_response(result)
