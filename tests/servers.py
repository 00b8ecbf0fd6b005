"""Start real servers on loopback sockets for the tests: uvicorn in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn

from broker.app import BrokerState, build_state, create_asgi_app
from broker.core.http_server import HttpLimits, server_options
from broker.core.settings import Settings


@dataclass
class LiveServer:
    url: str
    state: BrokerState | None = None

    @property
    def settings(self) -> Settings:
        return self.state.settings


def bound_socket() -> socket.socket:
    # IPPROTO_TCP, so that asyncio sets TCP_NODELAY on accepted connections: with proto=0 it
    # does not, and every kept-alive request then waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def serve_app(
    app, sock: socket.socket, limits: HttpLimits | None = None, **options
) -> Iterator[None]:
    """The server configuration ``broker run`` uses, with the default limits unless given;
    ``options``: more uvicorn settings."""
    config = uvicorn.Config(
        app, lifespan="on", **server_options(limits or HttpLimits.defaults()), **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def start_server(settings_for: Callable[[str], Settings]) -> Iterator[LiveServer]:
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    state = build_state(settings_for(url))
    with serve_app(create_asgi_app(state.settings, state), sock):
        yield LiveServer(url=url, state=state)
    state.db.dispose()


@contextlib.contextmanager
def start_asgi(app) -> Iterator[str]:
    """Any ASGI application on a loopback socket; yields its base URL."""
    sock = bound_socket()
    with serve_app(app, sock):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
