"""The connection guard: the addresses actually connected to are checked, at each connection.

Real sockets on loopback; the only stand-in is the resolver, the guard's own dependency,
injected to play DNS answers that change between the registration and the call."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Awaitable, Callable

import httpcore
import httpx
import pytest

from broker.core.outbound.guard import ForbiddenAddress, GuardedBackend, guarded_client
from broker.core.outbound.policy import DEVELOPMENT, PRODUCTION, OutboundPolicy, check_destination
from broker.providers.transport import tls_context


def gai(address: str, port: int) -> tuple:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sockaddr = (address, port, 0, 0) if ":" in address else (address, port)
    return (family, socket.SOCK_STREAM, 6, "", sockaddr)


class Dns:
    """DNS as an attacker controlling a name plays it: each lookup gets the next answer."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    def answer(self, host: str, port: int) -> list[tuple]:
        self.lookups.append(host)
        addresses = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [gai(a, port) for a in addresses]

    def sync(self, host, port, **hints):
        return self.answer(host, port)

    async def resolve(self, host, port, **hints):
        return self.answer(host, port)


TLS_HANDSHAKE = b"\x16"


class Listener:
    """A real HTTP server on loopback that counts the connections it accepted."""

    def __init__(self) -> None:
        self.accepted = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            if await reader.readexactly(1) != TLS_HANDSHAKE:  # it speaks plain HTTP only
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def __aenter__(self) -> Listener:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]


def run(steps: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(steps())


def client(policy: OutboundPolicy, resolve=None) -> httpx.AsyncClient:
    options = {"resolve": resolve} if resolve is not None else {}
    return guarded_client(policy, verify=tls_context(), timeout=2.0, **options)


def test_attack_dns_rebinding():
    """The name resolved to a public address when it was registered, to an internal one when
    the broker calls it: the guard resolves at the call and refuses."""
    dns = Dns(["8.8.8.8"], ["10.0.0.7"])
    assert check_destination("https://events.rebind.test/", PRODUCTION, resolve=dns.sync)

    async def steps():
        async with client(PRODUCTION, dns.resolve) as http:
            with pytest.raises(ForbiddenAddress, match=re.escape("private address 10.0.0.7")):
                await http.post("https://events.rebind.test/", content=b"{}")

    run(steps)
    assert dns.lookups == ["events.rebind.test", "events.rebind.test"]


def test_attack_dns_rebinding_one_bad_address_among_good_ones():
    dns = Dns(["8.8.8.8", "::ffff:169.254.169.254"])

    async def steps():
        async with client(PRODUCTION, dns.resolve) as http:
            with pytest.raises(
                ForbiddenAddress, match=re.escape("link-local address 169.254.169.254")
            ):
                await http.get("https://idp.rebind.test/.well-known/openid-configuration")

    run(steps)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:{port}/",
        "https://127.1:{port}/",
        "https://2130706433:{port}/",
        "https://[::ffff:127.0.0.1]:{port}/",
        "https://localhost:{port}/",  # a name that really resolves to loopback
        "http://127.0.0.1:{port}/",
    ],
)
def test_attack_ssrf_loopback_listener_in_production_never_accepts(url):
    async def steps():
        async with Listener() as listener, client(PRODUCTION) as http:
            with pytest.raises(ForbiddenAddress):
                await http.get(url.format(port=listener.port))
            await asyncio.sleep(0.05)
            assert listener.accepted == 0

    run(steps)


def test_loopback_listener_is_reachable_in_development():
    async def steps():
        async with Listener() as listener, client(DEVELOPMENT) as http:
            response = await http.get(f"http://localhost:{listener.port}/")
            assert response.text == "ok" and listener.accepted == 1

    run(steps)


def test_the_refusal_is_an_unreachable_host_for_callers(caplog):
    async def steps():
        async with client(PRODUCTION) as http:
            with pytest.raises(httpx.ConnectError) as refused:
                await http.get("https://169.254.169.254/latest/meta-data/?token=secret")
            assert isinstance(refused.value, httpx.TransportError)

    with caplog.at_level(logging.WARNING, logger="broker.outbound"):
        run(steps)
    [record] = [r for r in caplog.records if r.name == "broker.outbound"]
    assert record.getMessage() == "outbound request refused"
    assert record.host == "169.254.169.254" and "link-local" in record.reason
    assert "secret" not in f"{record.reason}" and "meta-data" not in f"{record.reason}"


class Recording(httpcore.AsyncNetworkBackend):
    """The real network backend, noting where it connected and the TLS name it was asked."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connected: list[str] = []
        self.server_names: list[str | None] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connected.append(host)
        stream = await self.inner.connect_tcp(host, port, timeout=timeout)
        backend = self

        class Stream(httpcore.AsyncNetworkStream):
            async def start_tls(self, ssl_context, server_hostname=None, timeout=None):
                backend.server_names.append(server_hostname)
                return await stream.start_tls(ssl_context, server_hostname, timeout)

            async def aclose(self):
                await stream.aclose()

        return Stream()


def test_it_connects_to_the_address_it_checked_and_verifies_tls_for_the_name():
    """No second lookup can rebind: the connection goes to the checked address; TLS is for
    the name in the URL (here the listener speaks no TLS, so the handshake fails after)."""
    dns = Dns(["127.0.0.1"])
    recording = Recording()

    async def steps():
        async with Listener() as listener:
            backend = GuardedBackend(DEVELOPMENT, dns.resolve, inner=recording)
            pool = httpcore.AsyncConnectionPool(ssl_context=tls_context(), network_backend=backend)
            async with pool:
                with pytest.raises(httpcore.ConnectError):
                    await pool.request("GET", f"https://idp.rebind.test:{listener.port}/")

    run(steps)
    assert dns.lookups == ["idp.rebind.test"]
    assert recording.connected == ["127.0.0.1"]
    assert recording.server_names == ["idp.rebind.test"]


def test_transport_errors_are_httpx_errors():
    async def slow(host, port, **hints):
        await asyncio.sleep(5)
        return []

    async def steps():
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
        sock.close()
        async with client(DEVELOPMENT) as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{closed_port}/")
        async with client(PRODUCTION, slow) as http:
            with pytest.raises(httpx.ConnectTimeout):
                await http.get("https://slow.test/", timeout=httpx.Timeout(1, connect=0.1))

    run(steps)


def test_proxies_from_the_environment_are_ignored(monkeypatch):
    """A proxy would connect on the broker's behalf, past the guard."""

    async def steps():
        async with Listener() as proxy, Listener() as service:
            for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
                monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
            async with client(DEVELOPMENT) as http:
                await http.get(f"http://localhost:{service.port}/")
            assert (proxy.accepted, service.accepted) == (0, 1)

    run(steps)
