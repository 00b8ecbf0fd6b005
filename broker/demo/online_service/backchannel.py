"""The demo service's back-channel receivers: the broker's consent events (RFC 8417 SETs
pushed per RFC 8935) and its logout tokens (OpenID Connect Back-Channel Logout 1.0)."""

from __future__ import annotations

import json

import httpx
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.response import Response

from broker.demo.online_service.logout_receiver import (
    LogoutRejected,
    logout_claims,
    sessions_to_end,
)
from broker.demo.online_service.relying_party import SET_MEDIA_TYPE, EventRejected, RelyingParty
from broker.demo.seed import LOGOUT_PATH, NOTIFICATION_PATH


@post(NOTIFICATION_PATH, request_max_body_size=16_384)
async def consent_events(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    """RFC 8935 push delivery: 202 once verified and recorded, 400 with ``err`` else."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type != SET_MEDIA_TYPE:
            raise EventRejected("invalid_request", f"Content-Type must be {SET_MEDIA_TYPE}")
        await rp.receive_event((await request.body()).decode("ascii", "replace").strip())
    except EventRejected as exc:
        return Response(
            json.dumps({"err": exc.err, "description": exc.description}),
            status_code=400,
            media_type="application/json",
        )
    except httpx.HTTPError:  # the broker's keys are unreachable: the broker retries
        return Response(b"", status_code=503)
    return Response(b"", status_code=202)


@post(LOGOUT_PATH, request_max_body_size=16_384)
async def backchannel_logout(request: Request, rp: NamedDependency[RelyingParty]) -> Response:
    """OpenID Connect Back-Channel Logout 1.0: the broker's session ended, so do this service's
    sessions of it; 200 once done, 400 with an OAuth error for a token it cannot trust."""
    no_store = {"Cache-Control": "no-store"}
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type != "application/x-www-form-urlencoded":
            raise LogoutRejected("the logout token is sent as a form")
        token = (await request.form()).get("logout_token")
        if not isinstance(token, str) or not token:
            raise LogoutRejected("logout_token is missing")
        claims = await logout_claims(rp, token)
    except LogoutRejected as exc:
        return Response(
            json.dumps({"error": exc.error, "error_description": exc.description}),
            status_code=400,
            media_type="application/json",
            headers=no_store,
        )
    except httpx.HTTPError:  # the broker's keys are unreachable: the broker retries
        return Response(b"", status_code=503, headers=no_store)
    for session_id in sessions_to_end(rp.sessions, claims):
        rp.sessions.pop(session_id, None)
    return Response(b"", status_code=200, headers=no_store)
