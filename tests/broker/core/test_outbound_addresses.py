"""Which addresses outbound requests may reach, whatever the spelling of the host."""

from __future__ import annotations

import ipaddress

import pytest

from broker.core.outbound.addresses import MalformedHost, literal_address, refusal

METADATA = ipaddress.IPv4Address("169.254.169.254")


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "2852039166",  # decimal
        "0xA9FEA9FE",  # hex
        "0xa9.0xfe.0xa9.0xfe",
        "0251.0376.0251.0376",  # octal
        "169.254.43518",  # short form
        "169.16689662",  # shorter still
        "169.254.169.254.",  # the root label
        "１６９．２５４．１６９．２５４",  # fullwidth
    ],
)
def test_ipv4_spellings_are_read_as_the_c_library_reads_them(host):
    assert literal_address(host) == METADATA


@pytest.mark.parametrize(
    "host", ["[::ffff:169.254.169.254]", "::ffff:a9fe:a9fe", "2002:a9fe:a9fe::1"]
)
def test_attack_ipv6_forms_of_the_metadata_address(host):
    address = literal_address(host)
    assert isinstance(address, ipaddress.IPv6Address)
    reason = refusal(address, allow_loopback=True)
    assert reason and reason.startswith("link-local address 169.254.169.254")


@pytest.mark.parametrize("host", ["example.com", "idp.impots.gouv.fr", "1e100.net", "x-1.fr"])
def test_names_are_not_addresses(host):
    assert literal_address(host) is None


@pytest.mark.parametrize("host", ["127.0.0.1 x", "a b", "x..y", "[::g]", "évil\udcff"])
def test_malformed_hosts_are_refused(host):
    with pytest.raises(MalformedHost):
        literal_address(host)


@pytest.mark.parametrize(
    "address,kind",
    [
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "private"),
        ("224.0.1.1", "multicast"),  # is_global says True
        ("240.0.0.1", "reserved"),
        ("192.0.0.8", "reserved"),
        ("198.18.0.1", "private"),
        ("fc00::1", "private"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("::7f00:1", "reserved"),  # IPv4-compatible, is_global says True
        ("2001:db8::1", "private"),
        ("64:ff9b::a00:1", "private"),  # NAT64 towards 10.0.0.1
    ],
)
def test_attack_ssrf_non_public_addresses_are_refused_in_every_mode(address, kind):
    for allow_loopback in (False, True):
        reason = refusal(ipaddress.ip_address(address), allow_loopback=allow_loopback)
        assert reason is not None and reason.startswith(kind), reason


@pytest.mark.parametrize("address", ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"])
def test_loopback_is_reachable_only_when_allowed(address):
    assert refusal(ipaddress.ip_address(address), allow_loopback=True) is None
    assert "loopback" in (refusal(ipaddress.ip_address(address), allow_loopback=False) or "")


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_are_reachable(address):
    assert refusal(ipaddress.ip_address(address), allow_loopback=False) is None


def test_networks_the_operator_allows_are_reachable():
    allowed = [ipaddress.ip_network("10.20.0.0/16")]
    assert refusal(ipaddress.ip_address("10.20.1.2"), allow_loopback=False, allowed=allowed) is None
    assert (
        refusal(ipaddress.ip_address("::ffff:10.20.1.2"), allow_loopback=False, allowed=allowed)
        is None
    )
    assert refusal(ipaddress.ip_address("10.21.0.1"), allow_loopback=False, allowed=allowed)
