"""Registration refuses URLs the broker would be made to call inside its own networks (SSRF):
``--notification-uri`` and ``--jwks-uri`` of ``broker clients add``, ``--issuer`` of ``broker
idps add``. Every spelling of an internal address is refused, in both modes; loopback only in
production (development runs the simulators there); plain http in production."""

from __future__ import annotations

import json

import pytest

METADATA_SPELLINGS = [
    "https://169.254.169.254/latest/meta-data/",
    "https://2852039166/latest/meta-data/",  # decimal
    "https://0xA9FEA9FE/",  # hex
    "https://0xa9.0xfe.0xa9.0xfe/",  # hex per byte
    "https://0251.0376.0251.0376/",  # octal
    "https://169.254.43518/",  # short form: the last number fills two bytes
    "https://[::ffff:169.254.169.254]/",  # IPv4-mapped IPv6
    "https://[::ffff:a9fe:a9fe]/",  # the same in hex
    "https://[2002:a9fe:a9fe::1]/",  # 6to4
    "https://１６９．２５４．１６９．２５４/",  # fullwidth digits, mapped to ASCII by IDNA
    "https://169.254.169.254./",  # the root label
]
INTERNAL_ADDRESSES = [
    "https://10.0.0.1/events",
    "https://10.1/events",  # 10.0.0.1
    "https://172.16.0.1/events",
    "https://192.168.1.1/events",
    "https://100.64.0.1/events",  # carrier-grade NAT
    "https://0.0.0.0/events",
    "https://0/events",
    "https://224.0.0.1/events",  # multicast
    "https://240.0.0.1/events",  # reserved
    "https://[fc00::1]/events",  # unique local
    "https://[fe80::1]/events",  # link-local
    "https://[::]/events",
]
LOOPBACK_SPELLINGS = [
    "https://127.0.0.1:6379/",
    "https://127.1:6379/",
    "https://2130706433:6379/",
    "https://0x7f000001:6379/",
    "https://[::1]:6379/",
    "https://[::ffff:127.0.0.1]:6379/",
    "https://localhost:6379/",  # a name that resolves to loopback
]


@pytest.fixture
def production_env(broker_env):
    return {
        **broker_env,
        "BROKER_ENV": "production",
        "BROKER_ISSUER": "https://broker.example",
        "BROKER_DATA_API_URL": "https://api.broker.example",
    }


def add_client(cli, option: str, url: str, *, ok: bool = False, env=None):
    extra = ["--auth-method", "private_key_jwt"] if option == "--jwks-uri" else []
    return cli(
        "clients",
        "add",
        "--name",
        "Mairie",
        "--redirect-uri",
        "https://mairie.example/cb",
        "--scope",
        "openid",
        *extra,
        option,
        url,
        ok=ok,
        env=env,
    )


def add_provider(cli, issuer: str, *, ok: bool = False, env=None):
    return cli(
        "idps",
        "add",
        "--name",
        "Fournisseur",
        "--issuer",
        issuer,
        "--client-id",
        "broker",
        "--client-secret",
        "s3cret",
        "--acr",
        "eidas1",
        ok=ok,
        env=env,
    )


def refused(result) -> None:
    assert result.exit_code != 0, result.stdout
    assert "refused, the broker does not call it" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


@pytest.mark.parametrize("url", METADATA_SPELLINGS)
@pytest.mark.parametrize("option", ["--notification-uri", "--jwks-uri"])
def test_attack_ssrf_metadata_address_in_every_spelling(cli, option, url):
    result = add_client(cli, option, url)
    refused(result)
    assert "link-local address 169.254.169.254" in result.stderr


@pytest.mark.parametrize("url", INTERNAL_ADDRESSES)
def test_attack_ssrf_internal_addresses(cli, url):
    refused(add_client(cli, "--notification-uri", url))


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS)
def test_attack_ssrf_loopback_refused_in_production(cli, production_env, url):
    result = add_client(cli, "--notification-uri", url, env=production_env)
    refused(result)
    assert "loopback address" in result.stderr


@pytest.mark.parametrize("url", ["https://127.0.0.1:6379/events", "http://127.0.0.1:6379/"])
def test_loopback_is_allowed_in_development(cli, url):
    created = json.loads(add_client(cli, "--notification-uri", url, ok=True).stdout)
    assert created["notification_uri"] == url


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379/", "http://localhost/jwks", "http://8.8.8.8/jwks"]
)
def test_plain_http_is_refused_in_production(cli, production_env, url):
    result = add_client(cli, "--jwks-uri", url, env=production_env)
    refused(result)
    assert "plain http" in result.stderr


def test_plain_http_is_refused_outside_loopback_in_development(cli):
    result = add_client(cli, "--notification-uri", "http://8.8.8.8/events")
    refused(result)
    assert "only allowed on loopback" in result.stderr


def test_a_name_that_does_not_resolve_yet_is_accepted(cli, production_env):
    """The connection guard checks its addresses at every call."""
    url = "https://events.mairie.invalid/consent"
    created = json.loads(
        add_client(cli, "--notification-uri", url, ok=True, env=production_env).stdout
    )
    assert created["notification_uri"] == url


@pytest.mark.parametrize(
    "issuer",
    ["https://169.254.169.254", "https://0xA9FEA9FE", "https://[::ffff:10.0.0.1]", "https://10.1"],
)
def test_attack_ssrf_identity_provider_issuer(cli, issuer):
    refused(add_provider(cli, issuer))


def test_identity_provider_on_loopback_only_in_development(cli, production_env):
    refused(add_provider(cli, "http://127.0.0.1:8004", env=production_env))
    refused(add_provider(cli, "https://localhost:8004", env=production_env))
    created = json.loads(add_provider(cli, "http://127.0.0.1:8004", ok=True).stdout)
    assert created["issuer"] == "http://127.0.0.1:8004"
