"""Bad input gets a clear error in the protocol's own format, never a stack trace."""

from __future__ import annotations

import httpx

from broker.core.db import create_db_engine
from tests.helpers import AuthorizationRequest, register_client


def test_token_endpoint_errors_are_rfc6749_json(broker):
    cases = [
        ({"grant_type": "password", "username": "u", "password": "p"}, "unsupported_grant_type"),
        (
            {
                "grant_type": "authorization_code",
                "code": "x",
                "client_id": "nobody",
                "client_secret": "s",
            },
            "invalid_client",
        ),
    ]
    for data, error in cases:
        response = httpx.post(f"{broker.url}/token", data=data)
        assert response.status_code in (400, 401)
        assert response.json()["error"] == error
        assert response.headers["cache-control"] == "no-store"
    json_body = httpx.post(f"{broker.url}/token", json={"grant_type": "authorization_code"})
    assert json_body.status_code == 400 and json_body.json()["error"] == "invalid_request"
    wrong_method = httpx.get(f"{broker.url}/token")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


def test_userinfo_without_token_is_a_bearer_challenge(broker):
    response = httpx.get(f"{broker.url}/userinfo")
    # RFC 6750 §3.1 and RFC 9449 §7.2: a bare challenge for each scheme the endpoint takes.
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer, DPoP algs=")
    garbage = httpx.get(f"{broker.url}/userinfo", headers={"Authorization": "Bearer a.b.c"})
    assert garbage.status_code == 401 and garbage.json()["error"] == "invalid_token"


def test_unknown_page_is_a_french_page_with_request_id(broker):
    response = httpx.get(f"{broker.url}/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.text and 'lang="fr"' in response.text
    assert response.headers["x-request-id"] in response.text


def test_every_response_has_a_request_id_and_security_headers(broker):
    response = httpx.get(
        f"{broker.url}/.well-known/openid-configuration",
        headers={"X-Request-ID": "caller-supplied-id-1"},
    )
    assert response.headers["x-request-id"] == "caller-supplied-id-1"
    hostile = httpx.get(f"{broker.url}/jwks", headers={"X-Request-ID": "bad id\twith tab"})
    assert hostile.headers["x-request-id"] != "bad id\twith tab"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_interaction_pages_reject_unknown_ids(broker):
    response = httpx.get(f"{broker.url}/interaction/{'x' * 500}/login")
    assert response.status_code == 404 and "Demande introuvable" in response.text


def requests_with_engine(broker, url: str) -> tuple[httpx.Response, httpx.Response]:
    """An authorization and a token request while the broker's database is ``url``."""
    original = broker.state.db.engine
    broker.state.db.engine = create_db_engine(url)
    try:
        page = httpx.get(f"{broker.url}/authorize", params={"client_id": "x"})
        token = httpx.post(
            f"{broker.url}/token",
            data={"grant_type": "authorization_code"},
            auth=("some-client", "some-secret"),
        )
    finally:
        broker.state.db.engine = original
    return page, token


def test_internal_error_shows_no_stack_trace(broker, tmp_path):
    """A bug, not an outage: the database answers, but its tables are not there."""
    page, token = requests_with_engine(broker, f"sqlite:///{tmp_path / 'empty.db'}")
    assert page.status_code == 500 and "Traceback" not in page.text
    assert "Erreur du service" in page.text
    assert token.status_code == 500 and token.json() == {
        "error": "server_error",
        "error_description": "An unexpected error occurred.",
    }


def test_a_database_that_cannot_be_reached_answers_503(broker):
    page, token = requests_with_engine(broker, "sqlite:////nonexistent/dir/broker.db")
    assert page.status_code == 503 and "Traceback" not in page.text
    assert "momentanément indisponible" in page.text and page.headers["retry-after"] == "5"
    assert token.status_code == 503 and token.headers["retry-after"] == "5"
    assert token.json()["error"] == "temporarily_unavailable"


def test_token_endpoint_ignores_credentials_in_the_query_string(broker):
    from tests.helpers import AuthorizationRequest, Browser

    client = register_client(broker.state, auth_method="client_secret_post")
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    response = httpx.post(
        f"{broker.url}/token",
        params={
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "code": received["code"],
        },
        data={
            "grant_type": "authorization_code",
            "redirect_uri": client.redirect_uri,
            "code_verifier": request.verifier,
        },
    )
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_forwarded_host_header_does_not_change_the_protocol(broker):
    """Behind a TLS-terminating proxy the Host header is the public name: still served."""
    from tests.helpers import AuthorizationRequest

    client = register_client(broker.state)
    response = httpx.get(
        f"{broker.url}/authorize",
        params=AuthorizationRequest(client).params(),
        headers={"Host": "broker.example.gouv.fr"},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{broker.url}/interaction/")


def test_https_deployment_sends_hsts_and_secure_cookies(production):
    async def authorize(http, client):
        return await http.get("/authorize", params=AuthorizationRequest(client).params())

    response = production(authorize)
    assert response.headers["strict-transport-security"].startswith("max-age=")
    cookie = response.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
