"""The connection guard: every connection an outbound client opens goes to an address the
policy allows, checked when the connection is made.

A check of the URL at registration is not enough: the name may resolve elsewhere later (DNS
rebinding), or resolve differently for the check and for the connection. So the guard resolves
the name itself, refuses if any address it gets is refused, and connects to the address it
checked; TLS is then negotiated, and the certificate verified, for the name in the URL (httpcore
starts TLS with the origin's host name). It is an httpcore network backend under a small httpx
transport: httpx's own transport cannot be given a network backend."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from broker.core.outbound.policy import OutboundPolicy, OutboundRefused, addresses_of
from broker.core.tracing import TRACING, client_span

log = logging.getLogger("broker.outbound")

AsyncResolver = Callable[..., Awaitable[Sequence[tuple[Any, ...]]]]  # loop.getaddrinfo's shape
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class ForbiddenAddress(httpx.ConnectError):
    """The request was refused before any connection: its destination is not one the broker
    may reach. A ConnectError, so callers treat it as an unreachable host."""


def refused(host: str, reason: str) -> ForbiddenAddress:
    """The refusal, logged once here with the host and the reason (never the URL)."""
    log.warning("outbound request refused", extra={"host": host, "reason": reason})
    return ForbiddenAddress(f"outbound request to {host} refused: {reason}")


async def system_resolver(host: str, port: int, **hints: Any) -> Sequence[tuple[Any, ...]]:
    return await asyncio.get_running_loop().getaddrinfo(host, port, **hints)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, then connects to a checked address through ``inner``."""

    def __init__(
        self,
        policy: OutboundPolicy,
        resolve: AsyncResolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.resolve = resolve
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            async with asyncio.timeout(timeout):
                found = await self.resolve(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"{host}: no address within {timeout:g} s") from exc
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host}: does not resolve ({exc})") from exc
        try:
            addresses = addresses_of(found)
        except OutboundRefused as exc:
            raise refused(host, str(exc)) from None
        if not addresses:
            raise httpcore.ConnectError(f"{host}: no IP address")
        for address in addresses:
            if reason := self.policy.address_refusal(address):
                # One bad address refuses them all: which one a connection would use is
                # the attacker's to choose.
                raise refused(host, reason)
        last_error: Exception | None = None
        for address in addresses:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=remaining,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("outbound requests go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


# httpx's transport maps httpcore's errors to its own with a helper of a private module; this
# is the same table, so that callers catching httpx errors see the same ones as without the
# guard. Most specific first.
HTTPCORE_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def httpx_errors() -> Iterator[None]:
    try:
        yield
    except httpx.HTTPError:
        raise
    except Exception as exc:
        for source, target in HTTPCORE_ERRORS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self.stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with httpx_errors():
            async for part in self.stream:
                yield part

    async def aclose(self) -> None:
        if hasattr(self.stream, "aclose"):
            await self.stream.aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose URLs pass ``policy.check_url`` and whose connections pass
    the ``GuardedBackend``. No proxy: a proxy would connect on our behalf, unchecked."""

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        verify: ssl.SSLContext,
        limits: httpx.Limits = DEFAULT_LIMITS,
        resolve: AsyncResolver = system_resolver,
    ) -> None:
        self.policy = policy
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            retries=0,
            network_backend=GuardedBackend(policy, resolve),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            self.policy.check_url(str(request.url))
        except OutboundRefused as exc:
            raise refused(request.url.host, str(exc)) from None
        if not TRACING.active:
            return await self.send(request)
        with client_span(
            TRACING.tracer("outbound"), request.method, str(request.url), request.headers
        ) as span:
            response = await self.send(request)
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    async def send(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with httpx_errors():
            response = await self.pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=ResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()


def guarded_client(
    policy: OutboundPolicy,
    *,
    verify: ssl.SSLContext,
    timeout: httpx.Timeout | float = 5.0,
    resolve: AsyncResolver = system_resolver,
) -> httpx.AsyncClient:
    """An outbound client for registered URLs: guarded, no redirects followed, and deaf to
    the proxy variables of the environment."""
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, verify=verify, resolve=resolve),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
