"""The pushed authorization request endpoint (RFC 9126): a form posted by a service,
authenticated like the token endpoint, throttled like it on failed client authentication."""

from __future__ import annotations

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency

from broker.web.oidc_controller import Endpoints, authenticated_call, form_request


class PushedAuthorizationController(Controller):
    @post("/par", status_code=201)
    async def push(self, request: Request, endpoints: NamedDependency[Endpoints]) -> Response:
        http = await form_request(request, endpoints, "pushed authorization")
        if isinstance(http, Response):
            return http
        return await authenticated_call(request, endpoints, http, endpoints.flow.push)
