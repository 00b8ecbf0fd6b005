"""HTTP Basic credentials that are not UTF-8 once base64-decoded: authlib lets the decoding
error through, which became a 500; every endpoint that authenticates clients answers 401
``invalid_client`` and says what HTTP Basic credentials are. Over a real broker's socket."""

from __future__ import annotations

import base64

import httpx
import pytest

NOT_BASIC = (
    "client authentication failed: the Authorization header is not HTTP Basic client credentials"
)
FORMS = {
    "/token": {"grant_type": "authorization_code", "code": "x", "code_verifier": "y" * 43},
    "/par": {"response_type": "code", "scope": "openid", "redirect_uri": "https://a.example/"},
    "/introspect": {"token": "x"},
    "/revoke": {"token": "x"},
}
UNDECODABLE = [b"\xff\xfe:\x00", b"client:\xe9t\xe9", b"\xc3(:secret", b"\xff"]


@pytest.mark.parametrize("path", list(FORMS))
def test_attack_a_basic_header_that_is_not_utf8_is_refused_as_client_credentials(broker, path):
    with httpx.Client(base_url=broker.url) as http:
        for raw in UNDECODABLE:
            header = "Basic " + base64.b64encode(raw).decode()
            response = http.post(path, data=FORMS[path], headers={"Authorization": header})
            assert response.status_code == 401, (raw, response.text)
            assert response.headers["content-type"].startswith("application/json")
            body = response.json()
            assert body["error"] == "invalid_client", body
            assert body["error_description"].startswith(NOT_BASIC), body
            assert response.headers["www-authenticate"].startswith('Basic error="invalid_client"')
