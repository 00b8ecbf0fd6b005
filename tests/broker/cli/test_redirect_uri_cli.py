"""``broker clients add --redirect-uri``: redirect URIs are matched exactly, so what is
registered is a plain absolute URL: no wildcard, no userinfo, no fragment, nothing outside
the URL alphabet, and plain http only on loopback (in every environment, production
included)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def production_env(broker_env):
    return {
        **broker_env,
        "BROKER_ENV": "production",
        "BROKER_ISSUER": "https://broker.example",
        "BROKER_DATA_API_URL": "https://api.broker.example",
    }


def add_client(cli, *redirect_uris: str, ok: bool = False, env=None, option="--redirect-uri"):
    uris = [arg for uri in redirect_uris for arg in (option, uri)]
    if option != "--redirect-uri":
        uris = ["--redirect-uri", "https://mairie.example/cb", *uris]
    return cli("clients", "add", "--name", "Mairie", *uris, "--scope", "openid", ok=ok, env=env)


def assert_refused(result, message: str) -> None:
    assert result.exit_code != 0 and message in result.stderr, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "uri",
    [
        "https://*.mairie.example/cb",
        "https://mairie.example/*",
        "https://mairie.example/cb*",
        "https://mairie.example/cb?next=*",
        "http://127.0.0.1:*/cb",
    ],
)
def test_attack_wildcard_redirect_uri_refused(cli, uri):
    assert_refused(add_client(cli, uri), "wildcard")


@pytest.mark.parametrize(
    "uri",
    [
        "https://user:pw@mairie.example/cb",
        "https://user@mairie.example/cb",
        "https://mairie.example@evil.example/cb",
        "http://user:pw@127.0.0.1:9/cb",
    ],
)
def test_attack_userinfo_redirect_uri_refused(cli, uri):
    assert_refused(add_client(cli, uri), "userinfo")


@pytest.mark.parametrize("uri", ["https://mairie.example/cb#frag", "https://mairie.example/cb#"])
def test_redirect_uri_with_a_fragment_refused(cli, uri):
    assert_refused(add_client(cli, uri), "fragment")


@pytest.mark.parametrize(
    "uri",
    [
        "https://mairie.example/c b",
        'https://mairie.example/cb"',
        "https://mairie.example/cb\t",
        "https://mairie.example/cb\r\nX: y",
        "https://mairie.example/cb\x00",
        "https://mairie.example/cé",
        "https://mairie.example/<cb>",
    ],
)
def test_redirect_uri_outside_the_url_alphabet_refused(cli, uri):
    result = add_client(cli, uri)
    assert_refused(result, "URL characters only")
    assert "\x00" not in result.stderr and "\r" not in result.stderr


@pytest.mark.parametrize(
    "uri", ["https://mairie.example:99999/cb", "https://:443/cb", "javascript:alert(1)"]
)
def test_malformed_redirect_uri_refused(cli, uri):
    assert_refused(add_client(cli, uri), "redirect URI")


@pytest.mark.parametrize(
    "uri",
    ["http://mairie.example/cb", "http://10.0.0.1/cb", "http://127.0.0.1.evil.example/cb"],
)
def test_plain_http_outside_loopback_refused_in_production(cli, production_env, uri):
    assert_refused(add_client(cli, uri, env=production_env), "loopback")


@pytest.mark.parametrize("uri", ["http://mairie.example/cb", "http://192.168.1.10/cb"])
def test_plain_http_outside_loopback_refused_in_development_too(cli, uri):
    assert_refused(add_client(cli, uri), "loopback")


@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1:9/cb", "http://localhost:8080/cb?x=1", "http://[::1]:8/cb"]
)
def test_plain_http_on_loopback_accepted(cli, production_env, uri):
    """RFC 8252 §7.3: a native application listens on loopback."""
    created = json.loads(add_client(cli, uri, ok=True, env=production_env).stdout)
    assert created["redirect_uris"] == [uri]


def test_ordinary_redirect_uris_accepted(cli, production_env):
    uris = ["https://mairie.example/cb", "https://mairie.example/oidc/cb?tenant=42&x=%C3%A9"]
    created = json.loads(add_client(cli, *uris, ok=True, env=production_env).stdout)
    assert created["redirect_uris"] == uris


@pytest.mark.parametrize(
    "uri", ["https://user:pw@mairie.example/", "https://mairie.example/*", "http://evil.example/"]
)
def test_post_logout_redirect_uri_follows_the_same_rules(cli, uri):
    result = add_client(cli, uri, option="--post-logout-redirect-uri")
    assert_refused(result, "--post-logout-redirect-uri")
