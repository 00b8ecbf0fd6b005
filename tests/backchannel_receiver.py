"""A service's back-channel logout endpoint for the tests: a small ASGI application on a real
socket that records every logout token posted to it and answers with the statuses it is given
(the last one repeats)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from joserfc import jws, jwt
from joserfc.jwk import KeySet

from tests.servers import start_asgi


@dataclass
class Received:
    path: str
    content_type: str
    form: dict[str, list[str]]

    @property
    def token(self) -> str:
        [token] = self.form["logout_token"]
        return token


@dataclass
class LogoutReceiver:
    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self.lock:
            self.received.append(
                Received(scope["path"], headers.get("content-type", ""), parse_qs(body.decode()))
            )
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        extra = [(b"location", b"/elsewhere")] if 300 <= status < 400 else []
        await send({"type": "http.response.start", "status": status, "headers": extra})
        await send({"type": "http.response.body", "body": b""})

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` requests, once they arrived (AssertionError if they do not)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received[:count])
            time.sleep(0.02)
        raise AssertionError(f"{count} logout token(s) expected, {len(self.received)} received")


@contextlib.contextmanager
def logout_receiver(*statuses: int) -> Iterator[tuple[str, LogoutReceiver]]:
    """The receiver on a loopback socket, and the URL of its logout endpoint."""
    receiver = LogoutReceiver(list(statuses) or [200])
    with start_asgi(receiver) as base:
        yield f"{base}/backchannel-logout", receiver


def verified_logout_claims(token: str, jwks: dict, issuer: str, client_id: str) -> dict:
    """The claims of a logout token, checked as a service must (Back-Channel Logout §2.6)."""
    header = jws.extract_compact(token.encode()).headers()
    assert header["typ"] == "logout+jwt"
    claims = dict(jwt.decode(token, KeySet.import_key_set(jwks), algorithms=[header["alg"]]).claims)
    jwt.JWTClaimsRegistry(
        leeway=5,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        iat={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
        sid={"essential": True},
        sub={"essential": True},
    ).validate(claims)
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert "nonce" not in claims
    return claims
