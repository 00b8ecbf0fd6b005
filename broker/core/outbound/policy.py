"""The rule of a deployment for the URLs the broker fetches, and its registration-time check.

Production: https only, public addresses only. Development: plain http too, but only towards
loopback, and loopback addresses are reachable (the simulators, the demo identity provider).
Private, link-local and the other non-public ranges are refused in both modes, unless the
operator lists a network in ``BROKER_OUTBOUND_ALLOWED_NETWORKS``."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from broker.core.outbound.addresses import (
    IPAddress,
    IPNetwork,
    MalformedHost,
    literal_address,
    refusal,
)
from broker.core.settings import Settings

log = logging.getLogger("broker.outbound")

LOOPBACK_NAMES = ("localhost",)
Resolver = Callable[..., Sequence[tuple[Any, ...]]]  # socket.getaddrinfo's shape


class OutboundRefused(ValueError):
    """A URL or an address the broker must not send a request to. The message names the host
    and the reason, never the URL's path or query."""


@dataclass(frozen=True)
class Destination:
    """Where a checked URL points: its host as written, its port, and its address when the
    host is an IP literal (in any spelling)."""

    host: str
    port: int
    address: IPAddress | None


@dataclass(frozen=True)
class OutboundPolicy:
    allow_loopback: bool
    require_https: bool
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        development = settings.is_development
        return cls(
            allow_loopback=development,
            require_https=not development,
            allowed_networks=tuple(settings.outbound_allowed_networks),
        )

    def address_refusal(self, address: IPAddress) -> str | None:
        """Why a connection to ``address`` is refused, or None."""
        return refusal(address, allow_loopback=self.allow_loopback, allowed=self.allowed_networks)

    def check_url(self, url: str) -> Destination:
        """The URL's destination, if its scheme and host are acceptable without resolving the
        host (OutboundRefused otherwise)."""
        parts = urlsplit(url)
        try:
            host, port = parts.hostname, parts.port
        except ValueError as exc:  # a port that is not a number
            raise OutboundRefused(f"malformed URL: {exc}") from exc
        if parts.scheme not in ("https", "http") or not host:
            raise OutboundRefused("not an absolute http(s) URL")
        try:
            address = literal_address(host)
        except MalformedHost as exc:
            raise OutboundRefused(str(exc)) from exc
        if parts.scheme == "http":
            on_loopback = host in LOOPBACK_NAMES or (address is not None and address.is_loopback)
            if self.require_https:
                raise OutboundRefused(f"{host}: plain http is refused in production")
            if not on_loopback:
                raise OutboundRefused(f"{host}: plain http is only allowed on loopback")
        if address is not None and (reason := self.address_refusal(address)):
            raise OutboundRefused(f"{host}: {reason}")
        default_port = 443 if parts.scheme == "https" else 80
        return Destination(host, port or default_port, address)


def check_destination(
    url: str, policy: OutboundPolicy, resolve: Resolver = socket.getaddrinfo
) -> bool:
    """The registration-time check: ``check_url``, then the host's addresses as the resolver
    gives them now (OutboundRefused if any is refused). False if the name does not resolve
    now: that is accepted, the connection guard checks the addresses at every request."""
    destination = policy.check_url(url)
    if destination.address is not None:
        return True
    try:
        found = resolve(destination.host, destination.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        log.warning("outbound host does not resolve now", extra={"host": destination.host})
        return False
    for address in addresses_of(found):
        if reason := policy.address_refusal(address):
            raise OutboundRefused(f"{destination.host} resolves to a {reason}")
    return True


def addresses_of(found: Sequence[tuple[Any, ...]]) -> list[IPAddress]:
    """The IP addresses of getaddrinfo's answer, in its order, each once."""
    seen: dict[IPAddress, None] = {}
    for family, *_, sockaddr in found:
        if family in (socket.AF_INET, socket.AF_INET6):
            try:
                seen.setdefault(ipaddress.ip_address(sockaddr[0]), None)
            except ValueError as exc:  # fail closed: an address we cannot read is not checked
                raise OutboundRefused(f"unreadable address {sockaddr[0]!r}") from exc
    return list(seen)


DEVELOPMENT = OutboundPolicy(allow_loopback=True, require_https=False)
PRODUCTION = OutboundPolicy(allow_loopback=False, require_https=True)
