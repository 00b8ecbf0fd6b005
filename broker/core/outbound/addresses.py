"""Which addresses an outbound request may reach.

Only globally routable unicast addresses are fair game. Python's ``is_global`` alone has gaps
(multicast, IPv4-compatible and 6to4 forms, 192.0.0.0/24 on some versions), so each category is
named, and addresses that carry an IPv4 address inside an IPv6 one are judged by the IPv4
address they lead to. Host names are read the way the C library reads them: ``2852039166``,
``0xA9FEA9FE``, ``0251.0376.0251.0376`` and ``127.1`` are IPv4 addresses, not names."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
IETF_PROTOCOL_ASSIGNMENTS = ipaddress.IPv4Network("192.0.0.0/24")  # not global (RFC 6890)
SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


class MalformedHost(ValueError):
    """Neither an IP address nor a host name a resolver would look up."""


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` stands for when a resolver would not look it up (an IP literal in
    any spelling the C library accepts), None for a host name."""
    host = host.strip("[]").lower()
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]  # the root label: "127.0.0.1." is still that address to some resolvers
    if not host.isascii():
        try:  # IDNA maps fullwidth digits and dots to ASCII ones, as clients do before DNS
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise MalformedHost(f"malformed host name {host!r}") from exc
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise MalformedHost(f"malformed IPv6 address {host!r}") from exc
    if not HOST_NAME.fullmatch(host):
        raise MalformedHost(f"malformed host name {host!r}")
    try:
        # inet_aton reads decimal, hex, octal and short forms: the spellings getaddrinfo and
        # every libc-based client resolve without asking DNS.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to: IPv4-mapped (a dual-stack socket connects to the
    IPv4 address itself), 6to4 and NAT64 (gateways translate to it)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def category(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None if it is one."""
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared (carrier-grade NAT)", address in SHARED_ADDRESS_SPACE),
        ("reserved", address.is_reserved or address in IETF_PROTOCOL_ASSIGNMENTS),
        ("private", address.is_private),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("not globally routable", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def refusal(
    address: IPAddress, *, allow_loopback: bool, allowed: Iterable[IPNetwork] = ()
) -> str | None:
    """Why a request must not reach ``address`` (e.g. "link-local address 169.254.169.254"),
    or None. ``allowed``: networks the operator trusts, reachable whatever they are."""
    allowed = tuple(allowed)
    if any(address in network for network in allowed):
        return None
    if isinstance(address, ipaddress.IPv6Address) and (inner := embedded_ipv4(address)):
        reason = refusal(inner, allow_loopback=allow_loopback, allowed=allowed)
        return reason and f"{reason} (as {address})"
    kind = category(address)
    if kind is None or (kind == "loopback" and allow_loopback):
        return None
    return f"{kind} address {address}"
