"""The demo online service as the tests run it: served on a loopback socket next to a real
broker, or holding one signed-in session in front of a stand-in data API; and what its tests
read from its answers (cookies, the sign-out form's token)."""

from __future__ import annotations

import contextlib
import re
import time

import httpx
from joserfc.jwk import ECKey
from litestar import Litestar, get
from litestar.response import Response

from broker.demo.online_service import RelyingParty, create_service_app
from broker.demo.online_service.sessions import open_session
from broker.demo.seed import DEMO_CLIENT_ID, demo_service_key, seed_demo_service
from tests.helpers import Browser
from tests.servers import bound_socket, serve_app, start_asgi

QUOTIENT = {"quotient_familial": {"fournisseur": "CNAF", "valeur": 2550, "annee": 2026, "mois": 3}}


def start_demo_service(broker, data_api_url: str = ""):
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    var_dir = broker.settings.var_dir
    with broker.state.db.transaction() as session:
        seed_demo_service(session, var_dir, url)
    rp = RelyingParty(
        issuer=broker.url,
        client_id=DEMO_CLIENT_ID,
        private_key=demo_service_key(var_dir),
        base_url=url,
        data_api_url=data_api_url,
    )
    return url, serve_app(create_service_app(rp), sock)


def callback_url(service: httpx.Client, browser: Browser, decision: str = "approve") -> str:
    """The callback address the broker sends ``service`` (a browser at the service) back to,
    after signing in and answering the consent screen with ``decision``; not followed."""
    start = service.get("/login")
    assert start.status_code == 302
    response = browser.get(start.headers["location"])
    response = browser.login(response.headers["location"])
    response = browser.consent(response.headers["location"], decision)
    callback = response.headers["location"]
    assert callback.startswith(str(service.base_url).rstrip("/") + "/callback")
    return callback


def follow_to_broker(
    service_url: str, browser: Browser, decision: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Client, httpx.Response]:
    """The citizen's browser at the service (its cookies kept) and the page the callback led
    to, after signing in at the broker and answering the consent screen with ``decision``."""
    service = httpx.Client(base_url=service_url, headers=headers, timeout=10)
    callback = callback_url(service, browser, decision)
    return service, service.get(callback, follow_redirects=True)


def sign_out_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no sign-out token on the page"
    return match.group(1)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """The response's Set-Cookie headers by cookie name, lower-cased."""
    return {
        header.split("=", 1)[0]: header.lower()
        for header in response.headers.get_list("set-cookie")
    }


@contextlib.contextmanager
def service_with_a_session(calls: list[int]):
    """The demo service holding one signed-in session (its id in the client's cookie and in
    ``client.session_id``), and a data API that counts its calls."""

    @get("/v3/dss/quotient_familial/france_connect")
    async def quotient() -> Response:
        calls.append(1)
        return Response({"data": QUOTIENT})

    with start_asgi(Litestar([quotient])) as data_api_url:
        rp = RelyingParty(
            issuer="http://127.0.0.1:9",
            client_id=DEMO_CLIENT_ID,
            private_key=ECKey.generate_key("P-256"),
            base_url="http://x",
            data_api_url=data_api_url,
        )
        values = {
            "claims": {"sub": "sub-1", "given_name": "Angela", "family_name": "DUBOIS"},
            "acr": "eidas1",
            "access_token": "at",
            "id_token": "id",
            "granted": {"cnaf_quotient_familial"},
        }
        session_id = open_session(rp.sessions, values, time.time())
        with start_asgi(create_service_app(rp)) as url:
            client = httpx.Client(base_url=url, cookies={"cantine_session": session_id}, timeout=10)
            client.session_id = session_id  # type: ignore[attr-defined]
            yield client, rp
