"""An upstream identity provider the tests control, over real HTTP: by default it answers like
a correct OpenID Connect provider (signed ID token, JSON userinfo with a full identity pivot);
each attack test bends one part of its answer."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import Cookie

ANGELA = {
    "given_name": "Angela Claire Louise",
    "family_name": "DUBOIS",
    "birthdate": "1962-08-24",
    "gender": "female",
    "birthplace": "75107",
    "birthcountry": "99100",
    "email": "wossewodda-3728@yopmail.com",
}


def new_key(kid: str | None = None) -> ECKey:
    return ECKey.generate_key(
        "P-256", parameters={"kid": kid or secrets.token_hex(4), "alg": "ES256"}, private=True
    )


@dataclass
class RogueBehaviour:
    """What the provider answers; every field is one thing an attack may change."""

    key: ECKey = field(default_factory=new_key)  # signs ID tokens
    published: list[ECKey] = field(default_factory=list)  # in the JWKS (default: key)
    claims: dict[str, Any] = field(default_factory=dict)  # overrides of the ID token's claims
    drop_claims: tuple[str, ...] = ()
    id_token: Callable[[dict[str, Any]], str] | None = None  # replaces the ID token outright
    userinfo: dict[str, Any] = field(default_factory=lambda: dict(ANGELA))
    userinfo_signed: bool = False
    iss_param: str | None = "issuer"  # "issuer": its own; None: left out; else that value
    advertise_iss: bool = True
    authorize_error: str | None = None
    token_delay: float = 0.0


@dataclass
class RogueIdp:
    url: str = ""
    client_id: str = "rogue-client"
    behaviour: RogueBehaviour = field(default_factory=RogueBehaviour)
    requests: list[dict[str, str]] = field(default_factory=list)
    jwks_fetches: int = 0
    token_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return self.url

    def id_token_for(self, request: dict[str, str], client_id: str) -> str:
        if self.behaviour.id_token is not None:
            return self.behaviour.id_token(request)
        return self.standard_id_token(request, client_id)

    def standard_id_token(self, request: dict[str, str], client_id: str) -> str:
        """A correct ID token for ``request``, with the behaviour's claim changes."""
        b = self.behaviour
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "rogue-subject-1",
            "aud": client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": request.get("nonce"),
            "acr": "eidas1",
            "amr": ["pwd"],
        }
        claims.update(b.claims)
        for name in b.drop_claims:
            claims.pop(name, None)
        return jwt.encode({"alg": "ES256", "kid": b.key.kid}, claims, b.key)

    def app(self) -> Litestar:
        idp = self

        @get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": idp.issuer,
                "authorization_endpoint": f"{idp.url}/authorize",
                "token_endpoint": f"{idp.url}/token",
                "userinfo_endpoint": f"{idp.url}/userinfo",
                "jwks_uri": f"{idp.url}/jwks",
                "end_session_endpoint": f"{idp.url}/logout",
                "authorization_response_iss_parameter_supported": idp.behaviour.advertise_iss,
            }

        @get("/jwks")
        async def jwks() -> dict[str, Any]:
            idp.jwks_fetches += 1
            keys = idp.behaviour.published or [idp.behaviour.key]
            return KeySet(keys).as_dict(private=False)

        @get("/authorize", status_code=303)
        async def authorize(request: Request) -> Response[None]:
            params = dict(request.query_params)
            idp.requests.append(params)
            b = idp.behaviour
            query: dict[str, str] = {"state": params.get("state", "")}
            if b.authorize_error:
                query["error"] = b.authorize_error
            else:
                query["code"] = secrets.token_urlsafe(16)
            if b.iss_param == "issuer":
                query["iss"] = idp.issuer
            elif b.iss_param is not None:
                query["iss"] = b.iss_param
            location = f"{params['redirect_uri']}?{urlencode(query)}"
            return Response(None, status_code=303, headers={"Location": location})

        @post("/token", status_code=200)
        async def token(request: Request) -> Response[Any]:
            form = dict(await request.form())
            idp.token_requests.append(
                {
                    **{k: str(v) for k, v in form.items()},
                    "cookie": request.headers.get("cookie", ""),
                }
            )
            if idp.behaviour.token_delay:
                await asyncio.sleep(idp.behaviour.token_delay)
            body = {
                "access_token": "rogue-access-token",
                "token_type": "Bearer",
                "expires_in": 60,
                "id_token": idp.id_token_for(idp.requests[-1], idp.client_id),
            }
            # A cookie (a load balancer's, say): it must not follow to another flow's request.
            return Response(body, cookies=[Cookie(key="lb", value=secrets.token_hex(4))])

        @get("/userinfo")
        async def userinfo() -> Response[Any]:
            b = idp.behaviour
            claims = {"sub": "rogue-subject-1", **b.userinfo}
            if b.userinfo_signed:
                signed = jwt.encode({"alg": "ES256", "kid": b.key.kid}, claims, b.key)
                return Response(signed, media_type="application/jwt")
            return Response(json.dumps(claims).encode(), media_type="application/json")

        return Litestar(
            [discovery, jwks, authorize, token, userinfo], openapi_config=None, logging_config=None
        )
