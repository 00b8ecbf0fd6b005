"""The outbound policy of a deployment, and its registration-time check."""

from __future__ import annotations

import ipaddress
import re
import socket

import pytest

from broker.core.outbound.policy import (
    DEVELOPMENT,
    PRODUCTION,
    OutboundPolicy,
    OutboundRefused,
    check_destination,
)
from broker.core.settings import Settings


def answers(*addresses: str):
    """A resolver whose answer is ``addresses``, in getaddrinfo's shape."""

    def resolve(host, port, **hints):
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in addresses
        ]

    return resolve


def test_the_policy_follows_the_mode(tmp_path):
    dev = OutboundPolicy.from_settings(Settings(var_dir=tmp_path))
    assert dev == DEVELOPMENT
    prod = OutboundPolicy.from_settings(
        Settings(
            env="production",
            issuer="https://broker.example",
            database_url="sqlite://",
            key_encryption_secret="x" * 32,
            data_api_url="https://api.broker.example",
            outbound_allowed_networks=["10.20.0.0/16"],
        )
    )
    assert prod.require_https and not prod.allow_loopback
    assert prod.allowed_networks == (ipaddress.ip_network("10.20.0.0/16"),)


def test_allowed_networks_must_be_networks(tmp_path):
    with pytest.raises(ValueError):
        Settings(var_dir=tmp_path, outbound_allowed_networks=["10.20.0.1/16"])


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "https:///x", "/relative", "https://example.com:port/"]
)
def test_only_absolute_http_urls(url):
    with pytest.raises(OutboundRefused):
        DEVELOPMENT.check_url(url)


def test_destination_of_a_literal_in_any_spelling():
    destination = DEVELOPMENT.check_url("https://0x7f000001:8443/jwks?x=1")
    assert (destination.host, destination.port) == ("0x7f000001", 8443)
    assert destination.address == ipaddress.ip_address("127.0.0.1")
    assert DEVELOPMENT.check_url("http://localhost/").port == 80


def test_attack_ssrf_name_resolving_to_a_private_address_is_refused_at_registration():
    with pytest.raises(OutboundRefused, match=re.escape("resolves to a private address 10.0.0.7")):
        check_destination(
            "https://events.example/", PRODUCTION, resolve=answers("203.0.114.1", "10.0.0.7")
        )


def test_attack_ssrf_name_resolving_to_mapped_metadata_is_refused_at_registration():
    with pytest.raises(OutboundRefused, match=re.escape("link-local address 169.254.169.254")):
        check_destination(
            "https://events.example/", DEVELOPMENT, resolve=answers("::ffff:169.254.169.254")
        )


def test_a_public_name_is_accepted():
    assert check_destination("https://events.example/", PRODUCTION, resolve=answers("8.8.8.8"))


def test_a_name_that_does_not_resolve_is_accepted_with_a_warning(caplog):
    def nowhere(host, port, **hints):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert not check_destination("https://later.example/x?secret=1", PRODUCTION, resolve=nowhere)
    [record] = [r for r in caplog.records if r.name == "broker.outbound"]
    assert record.host == "later.example" and "secret" not in record.getMessage()


def test_loopback_names_only_in_development():
    resolve = answers("127.0.0.1", "::1")
    assert check_destination("http://localhost:8004/", DEVELOPMENT, resolve=resolve)
    with pytest.raises(OutboundRefused, match="loopback"):
        check_destination("https://localhost:8004/", PRODUCTION, resolve=resolve)
