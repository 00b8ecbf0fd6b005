"""Hostile characters in the parameters of an authorization request, over real HTTP (GET and
POST): never a 500 nor a traceback, one warning log line naming no value sent, and no CR, LF
or NUL ever reaching a header. An untrusted client or redirect URI gets the error page; a
trusted one gets ``error=invalid_request`` at its redirect URI (RFC 6749 §4.1.2.1).

Also: a failed redemption of a code (a guessed PKCE verifier, a wrong redirect URI) consumes
it."""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote

import httpx
import pytest

from tests.helpers import AuthorizationRequest, Browser, pkce_pair, query, redeem, register_client

FORM = {"content-type": "application/x-www-form-urlencoded"}
# Percent-encoded as the attacker sends them: the HTTP layer decodes them.
HOSTILE = {
    "quote": "%22",
    "nul": "%00",
    "lf": "%0A",
    "cr": "%0D",
    "crlf-header": "%0D%0ASet-Cookie:%20x=1",
    "tab": "%09",
    "del": "%7F",
    "c1": "%C2%85",
    "bidi-override": "%E2%80%AE",
    "invalid-utf8": "%FF",
    "backslash": "%5C",
}
# Characters no name or value may carry at all.
CONTROL = {k: v for k, v in HOSTILE.items() if k not in ("quote", "backslash")}
# Across every parameter, a few of them (each character has its test on response_type).
SAMPLE = {k: CONTROL[k] for k in ("nul", "crlf-header", "bidi-override", "invalid-utf8")}
PARAMETERS = [
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "ui_locales",
    "login_hint",
    "acr_values",
    "claims",
    "max_age",
]
SECRET_MARK = "zz-sent-value-zz"  # part of every hostile value: it must never be logged


def encode(params: dict[str, str], raw: dict[str, str]) -> str:
    """A query string with the ``raw`` parts appended, already percent-encoded, to the values
    (or as extra parameters)."""
    parts = [f"{quote(k, safe='')}={quote(v, safe='')}{raw.pop(k, '')}" for k, v in params.items()]
    parts += [f"{k}={v}" for k, v in raw.items()]
    return "&".join(parts)


def send(broker, method: str, query_string: str) -> httpx.Response:
    with httpx.Client(base_url=broker.url, follow_redirects=False, timeout=10) as http:
        if method == "GET":
            return http.get(f"/authorize?{query_string}")
        return http.post("/authorize", content=query_string, headers=FORM)


def hostile_request(broker, method: str, name: str, char: str, **client_kwargs):
    """The request of a registered client, one parameter spoiled with ``char``."""
    client = register_client(broker.state, **client_kwargs)
    request = AuthorizationRequest(client)
    params = request.params()
    params.setdefault(name, "")
    params[name] += SECRET_MARK
    return client, request, send(broker, method, encode(params, {name: char}))


def assert_no_header_injection(response: httpx.Response) -> None:
    for key, value in response.headers.raw:
        assert not set(b"\r\n\x00") & set(key + value), (key, value)
    assert "set-cookie" not in response.headers or b"x=1" not in b"".join(
        v for k, v in response.headers.raw if k.lower() == b"set-cookie"
    )


def assert_error_page(response: httpx.Response, char: str = "") -> None:
    assert response.status_code == 400, response.text[:200]
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    # The page's language links repeat its URL, percent-encoded: never the character itself.
    if char:
        assert SECRET_MARK + unquote(char) not in response.text


def assert_one_quiet_warning(caplog) -> None:
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["authorization request refused"], [
        (r.name, r.getMessage()) for r in warnings
    ]
    [record] = warnings
    assert record.exc_info is None and record.levelno == logging.WARNING
    # Our logs never carry a value sent (uvicorn's own access log, silenced outside the
    # tests by configure_logging, is not ours).
    ours = [r for r in caplog.records if r.name.startswith("broker")]
    assert all(SECRET_MARK not in str(vars(r)) for r in ours)


def assert_invalid_request_redirect(response, client, request, state_kept: bool = True) -> None:
    assert response.status_code == 303, response.text[:200]
    assert_no_header_injection(response)
    location = response.headers["location"]
    assert location.startswith(client.redirect_uri + "?")
    received = query(location)
    assert received["error"] == "invalid_request" and "code" not in received
    assert SECRET_MARK not in location
    assert received.get("state") == (request.state if state_kept else None)


# --- Untrusted client or redirect URI: the error page --------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
def test_attack_header_injection_in_redirect_uri(broker, caplog, method, char):
    _, _, response = hostile_request(broker, method, "redirect_uri", char)
    assert_error_page(response, char)
    assert_no_header_injection(response)
    assert_one_quiet_warning(caplog)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
def test_attack_hostile_client_id(broker, caplog, method, char):
    _, _, response = hostile_request(broker, method, "client_id", char)
    assert_error_page(response, char)
    assert_one_quiet_warning(caplog)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    "redirect_uri", ["http://127.0.0.1:9/cé", "http://127.0.0.1:9/cb\\", 'http://x/"><b>']
)
def test_attack_unregistered_redirect_uri_authlib_cannot_quote(
    broker, caplog, method, redirect_uri
):
    """authlib quotes the redirect URI in its error description, whose alphabet excludes
    these characters: it used to raise instead."""
    client = register_client(broker.state)
    params = AuthorizationRequest(client).params() | {"redirect_uri": redirect_uri}
    assert_error_page(send(broker, method, encode(params, {})))
    assert_one_quiet_warning(caplog)


# --- Trusted client and redirect URI: error=invalid_request at the redirect URI --------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("char", SAMPLE.values(), ids=SAMPLE.keys())
@pytest.mark.parametrize("name", PARAMETERS)
def test_attack_control_characters_in_parameters(broker, caplog, method, name, char):
    client, request, response = hostile_request(broker, method, name, char)
    assert_invalid_request_redirect(response, client, request, state_kept=name != "state")
    assert f"'{name}'" in query(response.headers["location"])["error_description"]
    assert_one_quiet_warning(caplog)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
def test_attack_nul_in_response_type(broker, caplog, method, char):
    """The NUL of the name, and every other hostile character: authlib quoted the response
    type in its error description, and raised on a character it may not carry."""
    client, request, response = hostile_request(broker, method, "response_type", char)
    assert response.status_code == 303
    assert response.headers["location"].startswith(client.redirect_uri + "?")
    received = query(response.headers["location"])
    expected = "unsupported_response_type" if char in ("%22", "%5C") else "invalid_request"
    assert received["error"] == expected and received["state"] == request.state
    assert_no_header_injection(response)
    assert_one_quiet_warning(caplog)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("char", CONTROL.values(), ids=CONTROL.keys())
def test_attack_hostile_parameter_name(broker, caplog, method, char):
    client = register_client(broker.state)
    request = AuthorizationRequest(client)
    response = send(broker, method, encode(request.params(), {f"x{char}{SECRET_MARK}": "1"}))
    assert_invalid_request_redirect(response, client, request)
    assert_one_quiet_warning(caplog)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name", ["state", "nonce", "login_hint", "claims"])
def test_attack_very_long_value(broker, caplog, method, name):
    client = register_client(broker.state)
    request = AuthorizationRequest(client)
    params = request.params() | {name: SECRET_MARK + "a" * 5000}
    response = send(broker, method, encode(params, {}))
    assert_invalid_request_redirect(response, client, request, state_kept=name != "state")
    assert_one_quiet_warning(caplog)


def test_attack_very_long_redirect_uri_gets_the_error_page(broker, caplog):
    client = register_client(broker.state)
    params = AuthorizationRequest(client).params()
    params["redirect_uri"] += SECRET_MARK + "a" * 5000
    assert_error_page(send(broker, "POST", encode(params, {})))
    assert_one_quiet_warning(caplog)


# --- What is not hostile ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_quotes_and_letters_in_state_are_sent_back_encoded(broker, method):
    """A state is any visible ASCII (RFC 6749 appendix A.5); a login hint may carry letters."""
    client = register_client(broker.state)
    request = AuthorizationRequest(client, state='a"b\\c<d>é', extra={"login_hint": "zoé"})
    response = send(broker, method, encode(request.params(), {}))
    assert response.status_code == 303
    assert "/interaction/" in response.headers["location"]
    # Refused later by the citizen's session (prompt=none): the state comes back intact.
    none = AuthorizationRequest(client, state='a"b\\c<d>é', extra={"prompt": "none"})
    response = send(broker, method, encode(none.params(), {}))
    assert_no_header_injection(response)
    received = query(response.headers["location"])
    assert received["error"] == "login_required" and received["state"] == 'a"b\\c<d>é'


# --- A failed redemption consumes the code ---------------------------------------------------


def signed_in(broker):
    client = register_client(broker.state)
    request = AuthorizationRequest(client)
    return client, request, Browser(broker.url).sign_in(request)


def test_attack_pkce_verifier_guessing_burns_the_code(broker, caplog):
    client, request, received = signed_in(broker)
    for _ in range(3):
        guess = redeem(broker.url, client, received["code"], pkce_pair()[0])
        assert guess.status_code == 400 and guess.json()["error"] == "invalid_grant"
    late = redeem(broker.url, client, received["code"], request.verifier)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    burnt = [
        r
        for r in caplog.records
        if r.getMessage() == "authorization code consumed by a failed redemption"
    ]
    assert [r.client_id for r in burnt] == [client.client_id]
    assert all(received["code"] not in str(vars(r)) for r in burnt)


def test_attack_wrong_redirect_uri_at_the_token_endpoint_burns_the_code(broker):
    client, request, received = signed_in(broker)
    wrong = redeem(
        broker.url,
        client,
        received["code"],
        request.verifier,
        redirect_uri=client.redirect_uri + "x",
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    late = redeem(broker.url, client, received["code"], request.verifier)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
